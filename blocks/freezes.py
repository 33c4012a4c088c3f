"""Freeze windows as people read them: a line each ("❄ Holiday freeze — now, until Thu 24 Dec
18:00"), the `/release freeze list` answer, confirmations, and a refusal during a freeze.

Times are on the reader's clock (``blocks.text.when``): one person's zone, or each reader's
own in a channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block

from blocks.message import Message, context, lines_section, section
from blocks.text import Readers, esc, plural, when, zone_label
from core.models.freeze import FreezeScope, FreezeWindow
from core.rules.freeze import FreezeOutlook, Frozen, active_at

FREEZE = "❄"


def scope_text(scope: FreezeScope) -> str:
    """``everything``, or the applications and squads a window freezes."""
    if scope.everything:
        return "everything"
    parts = []
    if scope.application_ids:
        parts.append("applications " + ", ".join(f"`{esc(a)}`" for a in scope.application_ids))
    if scope.squad_ids:
        parts.append("squads " + ", ".join(f"`{esc(s)}`" for s in scope.squad_ids))
    return " and ".join(parts)


def freeze_line(
    window: FreezeWindow, now: datetime, readers: Readers, *, with_scope: bool = False
) -> str:
    """``❄ *Holiday freeze* — now, until …`` or ``… — starts …, until …``."""
    until = when(window.closes_at, readers)
    if active_at(window, now):
        span = f"now, until {until}"
    else:
        span = f"starts {when(window.starts_at, readers)}, until {until}"
    scope = f" · {scope_text(window.scope)}" if with_scope else ""
    return f"{FREEZE} *{esc(window.name)}* — {span}{scope}"


def freeze_blocks(
    title: str, freezes: FreezeOutlook | None, readers: Readers, *, with_scope: bool = False
) -> list[Block]:
    """A section of the windows on, then those to come; nothing when there are none."""
    if freezes is None or not freezes.windows:
        return []
    lines = [freeze_line(w, freezes.now, readers, with_scope=with_scope) for w in freezes.windows]
    return [lines_section([title, *lines], more="freeze")]


def freeze_list_message(windows: Sequence[FreezeWindow], now: datetime, tz: ZoneInfo) -> Message:
    """`/release freeze list`: the windows on and to come, on the reader's clock, with their
    scope and id (to end one by it)."""
    if not windows:
        text = f"{FREEZE} No freeze windows are on or planned."
        return Message(text=text, blocks=[section(text)])
    lines = [f"{freeze_line(w, now, tz, with_scope=True)} · `{w.id}`" for w in windows]
    blocks = [
        lines_section([f"*Freeze windows* ({len(windows)})", *lines], more="freeze"),
        context(
            f"Times are {esc(zone_label(tz))}. `/release freeze end <name or id>` ends one; "
            "`/release freeze new` plans one."
        ),
    ]
    return Message(text=f"{plural(len(windows), 'freeze window')}", blocks=blocks)


def freeze_planned_message(window: FreezeWindow, now: datetime, tz: ZoneInfo) -> Message:
    line = freeze_line(window, now, tz, with_scope=True)
    planned = ZoneInfo(window.time_zone)
    local = (
        f"Planned in {esc(zone_label(planned))}: "
        f"{when(window.starts_at, planned, zone=False)} → {when(window.ends_at, planned)}."
    )
    return Message(
        text=f"Freeze window {esc(window.name)} planned",
        blocks=[section(f":white_check_mark: Freeze window planned.\n{line}"), context(local)],
    )


def freeze_ended_message(window: FreezeWindow) -> Message:
    """Ended while on, or called off before it started."""
    name = esc(window.name)
    if window.ended_at is not None and window.ended_at < window.starts_at:
        text = f"{FREEZE} The freeze *{name}* is called off: it will not start."
    else:
        text = f"{FREEZE} The freeze *{name}* is ended: changes need no break-glass now."
    return Message(text=f"Freeze {esc(window.name)} ended", blocks=[section(text)])


def frozen_text(error: Frozen, readers: Readers) -> str:
    """A refusal during a freeze with its end on the reader's clock (the core's message
    gives it in UTC)."""
    return (
        f":no_entry: The freeze *{esc(error.window.name)}* is on until "
        f"{when(error.until, readers)}: approvals of prod milestones and moves of their gates "
        "to PASSED or WAIVED wait until it ends. An approval manager can break glass with a "
        "reason, which is recorded."
    )
