"""`/release history`: a release's timeline, newest first, in the viewer's time zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block

from blocks.message import Message, context, section
from blocks.text import MESSAGE_BLOCKS, SECTION_LIMIT, cut, esc, when
from core.models.release import Release
from core.models.timeline import TimelineEvent

ACTIONS = {
    "release.created": "created the release",
    "release.description": "edited the description",
    "product.added": "added a product",
    "product.fixed_version": "set the fixed version",
    "gate.added": "added a gate",
    "gate.updated": "updated a gate",
    "gate.waived": "waived a gate",
    "milestone.added": "added a milestone",
    "milestone.updated": "updated a milestone",
    "approval.approved": "approved",
    "approval.rejected": "rejected",
    "runbook.added": "added a runbook",
    "task.updated": "updated a task",
    "change.created": "created the change",
    "change.updated": "updated the change",
    "attachment.linked": "attached a file",
}
FIELDS_SHOWN = 6
VALUE_LIMIT = 80
COMMENT_LIMIT = 500
ENTRY_LIMIT = 1200


def history_message(release: Release, events: Sequence[TimelineEvent], tz: ZoneInfo) -> Message:
    title = f":scroll: *History of {esc(release.release_id)}* · {esc(release.release_name)}"
    blocks: list[Block] = [
        section(title),
        context(f"Newest first · times in {esc(tz.key)} · {len(events)} event(s) shown"),
    ]
    if not events:
        blocks.append(section("_Nothing has happened to this release yet._"))
    else:
        blocks += packed_sections(
            [event_entry(e, tz) for e in events], room=MESSAGE_BLOCKS - len(blocks), more="events"
        )
    return Message(text=f"History of {release.release_id} ({len(events)} events)", blocks=blocks)


def event_entry(event: TimelineEvent, tz: ZoneInfo) -> str:
    """Who, when, what, on which target, before → after, and the comment."""
    action = ACTIONS.get(event.action, esc(event.action.replace(".", " ")))
    target = event.target.label()
    lines = [
        f"*{when(event.at, tz)}* · *{esc(event.actor.username)}* {action}"
        + ("" if target == "release" else f" · `{esc(target)}`")
    ]
    lines += _changes(event.before or {}, event.after or {}, tz)
    if event.comment:
        lines.append(f"> {esc(cut(event.comment.replace(chr(10), ' '), COMMENT_LIMIT))}")
    return cut("\n".join(lines), ENTRY_LIMIT)


def packed_sections(entries: list[str], *, room: int, more: str) -> list[Block]:
    """Entries packed into as few sections as fit (≤ 3,000 characters each), at most ``room``
    blocks; what does not fit becomes "… and N more"."""
    sections: list[str] = []
    current = ""
    for index, entry in enumerate(entries):
        candidate = f"{current}\n\n{entry}" if current else entry
        if len(candidate) <= SECTION_LIMIT:
            current = candidate
            continue
        sections.append(current)
        if len(sections) >= room - 1:  # the last block says what was left out
            hidden = context(f"… and {len(entries) - index} more {more}")
            return [*(section(text) for text in sections), hidden]
        current = entry
    sections.append(current)
    return [section(text) for text in sections]


def _changes(before: dict[str, Any], after: dict[str, Any], tz: ZoneInfo) -> list[str]:
    names = [*after, *(k for k in before if k not in after)]
    lines = []
    for name in names[:FIELDS_SHOWN]:
        if name in before:
            lines.append(
                f"{esc(name)}: {_value(before.get(name), tz)} → {_value(after.get(name), tz)}"
            )
        else:
            lines.append(f"{esc(name)}: {_value(after[name], tz)}")
    if len(names) > FIELDS_SHOWN:
        lines.append(f"_… and {len(names) - FIELDS_SHOWN} more fields_")
    return lines


def _value(value: object, tz: ZoneInfo) -> str:
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, str) and "T" in value:
        try:
            return when(datetime.fromisoformat(value), tz)
        except ValueError:
            pass
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return f"`{esc(cut(str(value).replace(chr(10), ' '), VALUE_LIMIT))}`"
