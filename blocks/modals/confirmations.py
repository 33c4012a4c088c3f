"""What a person is told (ephemerally) once a release-editing modal was saved."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block

from blocks.message import Message, context, section
from blocks.text import day, esc, when
from core.models.attachment import Attachment
from core.models.release import ApprovalStatus, Release

DONE = ":white_check_mark:"


def _message(text: str, *, hint: str | None = None) -> Message:
    blocks: list[Block] = [section(f"{DONE} {text}")]
    if hint:
        blocks.append(context(hint))
    plain = text.replace("*", "")
    return Message(text=plain, blocks=blocks)


def _release(release: Release) -> str:
    return f"*{esc(release.release_id)}*"


def _status(value: str) -> str:
    return value.replace("_", " ").lower()


def release_created(release: Release) -> Message:
    return _message(
        f"Release {_release(release)} · {esc(release.release_name)} created for "
        f"{day(release.release_date)}.",
        hint=f"Next: `/release product {esc(release.release_id)}` to add its products.",
    )


def product_added(release: Release, product_id: str) -> Message:
    product = release.product(product_id)
    return _message(
        f"{esc(product.product_name)} (`{esc(product.product_id)}`) added to {_release(release)}.",
        hint=f"Next: `/release gate {esc(release.release_id)}` to give it quality gates.",
    )


def fixed_version_set(release: Release, product_id: str) -> Message:
    product = release.product(product_id)
    version = product.fixed_version
    shown = (
        f"{esc(version.version_name)} (`{esc(version.version_key)}`, {_status(version.status)})"
        if version
        else "none"
    )
    return _message(
        f"Fixed version of {esc(product.product_name)} in {_release(release)}: {shown}."
    )


def gate_added(release: Release, product_id: str, gate_name: str) -> Message:
    product = release.product(product_id)
    gate = product.gate(gate_name)
    marker = "required" if gate.required else "optional"
    return _message(
        f"Gate *{esc(gate.gate_name)}* ({marker}) added to {esc(product.product_name)} in "
        f"{_release(release)}.",
        hint=f"Next: `/release milestone {esc(release.release_id)}` to plan its milestones.",
    )


def gate_changed(release: Release, product_id: str, gate_name: str) -> Message:
    product = release.product(product_id)
    gate = product.gate(gate_name)
    text = (
        f"Gate *{esc(gate.gate_name)}* of {esc(product.product_name)} in {_release(release)} "
        f"is now *{_status(gate.gate_status)}*."
    )
    if gate.comment:
        text += f"\n> {esc(gate.comment)}"
    return _message(text)


def milestone_saved(
    release: Release,
    product_id: str,
    gate_name: str,
    milestone_key: str,
    tz: ZoneInfo,
    *,
    added: bool,
) -> Message:
    gate = release.product(product_id).gate(gate_name)
    milestone = gate.milestone(milestone_key)
    verb = "added to" if added else "updated in"
    text = (
        f"Milestone *{esc(milestone.milestone_name)}* (`{esc(milestone.milestone_key)}`) {verb} "
        f"gate {esc(gate.gate_name)} of {_release(release)}: "
        f"{when(milestone.start_date, tz)} → {when(milestone.end_date, tz)}, "
        f"{_status(milestone.status)}."
    )
    approval = milestone.approval
    hint = None
    if approval.status is ApprovalStatus.PENDING and approval.policy is not None:
        who = esc(approval.policy.describe())
        hint = f"Approval pending: needs {who}; the people who may decide were sent a DM."
    elif approval.status is ApprovalStatus.PENDING:
        who = "an approval manager" if approval.requires_approval_manager else "an approver"
        hint = f"Approval pending: {who} decides; the people who may were sent a DM."
    elif approval.status is not ApprovalStatus.NOT_REQUIRED:
        hint = f"Approval {_status(approval.status)}."
    return _message(text, hint=hint)


def runbook_added(release: Release, runbook_name: str) -> Message:
    runbook = release.runbook(runbook_name)
    tasks = len(runbook.tasks)
    return _message(
        f"Runbook *{esc(runbook.runbook_name)}* with {tasks} task{'s' if tasks != 1 else ''} "
        f"added to {_release(release)}.",
        hint=f"Update a task with `/release task {esc(release.release_id)}`.",
    )


def task_updated(release: Release, runbook_id: str, task_name: str, tz: ZoneInfo) -> Message:
    runbook = release.runbook(runbook_id)
    task = runbook.task(task_name)
    parts = [_status(task.status)]
    if task.scheduled_start:
        parts.append(f"from {when(task.scheduled_start, tz)}")
    if task.scheduled_end:
        parts.append(f"to {when(task.scheduled_end, tz)}")
    if task.duration_minutes is not None:
        parts.append(f"{task.duration_minutes} min")
    return _message(
        f"Task *{esc(task.task_name)}* of runbook {esc(runbook.runbook_name)} in "
        f"{_release(release)}: {', '.join(parts)}."
    )


def change_saved(release: Release, *, created: bool) -> Message:
    chg = release.chg
    if chg is None:  # pragma: no cover - the service always leaves one
        return _message(f"{_release(release)} has no change ticket.")
    verb = "created" if created else "updated"
    return _message(
        f"Change *{esc(chg.change_id)}* ({_status(chg.change_type)}, {_status(chg.status)}) "
        f"{verb} for {_release(release)} with {len(chg.ctasks)} CTASK"
        f"{'s' if len(chg.ctasks) != 1 else ''}."
    )


def attachment_linked(release: Release, attachment: Attachment, where: str) -> Message:
    return _message(
        f"<{esc(attachment.file_url)}|{esc(attachment.file_name)}> attached to {esc(where)} of "
        f"{_release(release)}.",
        hint=f"sha256 `{attachment.sha256[:12]}…` · {attachment.file_size:,} bytes",
    )
