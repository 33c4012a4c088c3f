"""Reminder DMs to approvers (Approve / Reject / Snooze) and escalations to release managers."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, ButtonElement

from blocks.approvals import ApprovalTarget, approval_buttons
from blocks.ids import ActionId
from blocks.message import Message, context, section
from blocks.metadata import Metadata
from blocks.text import day, esc, when
from core.models.release import Release
from core.rules.readiness import MilestoneRef


class SnoozeChoice(StrEnum):
    HOUR = "1h"
    FOUR_HOURS = "4h"
    TOMORROW = "tomorrow"


SNOOZE_LABELS = {
    SnoozeChoice.HOUR: "Snooze 1 h",
    SnoozeChoice.FOUR_HOURS: "Snooze 4 h",
    SnoozeChoice.TOMORROW: "Tomorrow",
}


class SnoozeRequest(Metadata):
    approval_key: str
    choice: SnoozeChoice


def _waited(pending_for: timedelta) -> str:
    hours = int(pending_for.total_seconds() // 3600)
    return f"{hours // 24} d {hours % 24} h" if hours >= 24 else f"{hours} h"


def _about(release: Release, ref: MilestoneRef, tz: ZoneInfo) -> str:
    milestone = ref.milestone
    return (
        f"*{esc(release.release_id)}* · {esc(release.release_name)} · {day(release.release_date)}\n"
        f"{esc(ref.product_name)} / {esc(ref.gate_name)} / *{esc(milestone.milestone_name)}* "
        f"({milestone.environment.value}, {when(milestone.start_date, tz)})"
    )


def reminder_message(
    release: Release, ref: MilestoneRef, key: str, pending_for: timedelta, tz: ZoneInfo
) -> Message:
    snoozes = [
        ButtonElement(
            text=label,
            action_id=f"{ActionId.SNOOZE}_{choice.value}",
            value=SnoozeRequest(approval_key=key, choice=choice).encode(),
        )
        for choice, label in SNOOZE_LABELS.items()
    ]
    waiting = f":alarm_clock: *Still waiting for your decision* — pending {_waited(pending_for)}"
    blocks: list[Block] = [
        section(f"{waiting}\n{_about(release, ref, tz)}"),
        approval_buttons(ApprovalTarget.of(release, ref), extra=snoozes),
    ]
    return Message(text=f"Reminder: approval pending for {release.release_id}", blocks=blocks)


def escalation_message(
    release: Release, ref: MilestoneRef, pending_for: timedelta, tz: ZoneInfo
) -> Message:
    blocks: list[Block] = [
        section(
            f":rotating_light: *Approval pending for {_waited(pending_for)}*\n"
            + _about(release, ref, tz)
        ),
        context("Approvers were reminded; you are told because you manage releases."),
    ]
    return Message(text=f"Escalation: approval pending for {release.release_id}", blocks=blocks)


def snoozed_message(until_text: str) -> Message:
    return Message(
        text="Snoozed",
        blocks=[section(f":zzz: Snoozed — I'll remind you again after {esc(until_text)}.")],
    )
