"""`/release history`: a release's timeline, newest first, in the viewer's time zone.

People and things are shown by name, never by database id: users through ``people`` (read
once for the page, `TimelineEvent.user_ids`), products, milestones, runbooks and files through
the release itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block

from blocks.archive import archived_line
from blocks.message import Message, context, section
from blocks.status import web_link
from blocks.text import MESSAGE_BLOCKS, SECTION_LIMIT, cut, esc, plural, when, zone_label
from core.models.rbac import User
from core.models.release import AttachmentRef, Release
from core.models.timeline import USER_FIELDS, TargetPath, TimelineEvent

ACTIONS = {
    "release.created": "created the release",
    "release.description": "edited the description",
    "product.added": "added a product",
    "product.fixed_version": "set the fixed version",
    "gate.added": "added a gate",
    "gate.updated": "updated a gate",
    "gate.waived": "waived a gate",
    "gate.reported": "reported a CI result",
    "milestone.added": "added a milestone",
    "milestone.updated": "updated a milestone",
    "approval.approved": "approved",
    "approval.rejected": "rejected",
    "approval.voted": "voted",
    "approval.votes_withdrawn": "had votes withdrawn",
    "approval.vote_dropped": "dropped a vote",
    "approval.expired": "let approvals expire",
    "approval.requested_again": "asked again for approval",
    "freeze.break_glass": "broke glass during a freeze",
    "runbook.added": "added a runbook",
    "task.added": "added a task",
    "task.updated": "updated a task",
    "change.created": "created the change",
    "change.updated": "updated the change",
    "attachment.linked": "attached a file",
    "release.archived": "archived the release",
    "release.restored": "restored the release",
}
# Field names as a person says them; others lose a trailing "_id" and their underscores.
FIELD_WORDS = {
    "gate_status": "status",
    "owner_id": "owner",
    "approver_user_id": "approver",
    "approver_role_snapshot": "approver's roles",
    "approval_required": "needs approval",
    "requires_approval_manager": "needs an approval manager",
    "start_date": "start",
    "end_date": "end",
    "duration_minutes": "duration (minutes)",
    "depends_on_task_names": "depends on",
    "dependency_ctask_ids": "depends on",
    "affected_ci": "affected CIs",
    "bp_signoff": "business sign-off",
    "ctasks": "CTASKs",
    "attachment_refs": "files",
    "tasks": "tasks",
    "ci_url": "CI run",
    "ci_commit": "commit",
}
# In a list of objects, the field that names each one.
ITEM_NAMES = ("ctask_id", "task_name", "milestone_key", "gate_name", "label", "file_name")
# What the entry's target already names is left out, unless it changed (a rename).
NAMING_FIELDS = frozenset({"product_id", "gate_name", "milestone_key", "milestone_name"})
FIELDS_SHOWN = 8
VALUE_LIMIT = 80
COMMENT_LIMIT = 500
ENTRY_LIMIT = 1200

People = Mapping[str, User]


def history_message(
    release: Release,
    events: Sequence[TimelineEvent],
    tz: ZoneInfo,
    *,
    people: People | None = None,
) -> Message:
    """``people``: the users the events name, by id (`TimelineEvent.user_ids`)."""
    known = people or {}
    title = f":scroll: *History of {esc(release.release_id)}* · {esc(release.release_name)}"
    shown = plural(len(events), "event")
    blocks: list[Block] = [
        section(title),
        context(f"Newest first · times are {esc(zone_label(tz))} · {shown} shown"),
    ]
    if release.is_archived:
        blocks.insert(1, section(archived_line(release, known, tz)))
    if not events:
        blocks.append(section("_Nothing has happened to this release yet._"))
    else:
        blocks += packed_sections(
            [event_entry(e, tz, release, known) for e in events],
            room=MESSAGE_BLOCKS - len(blocks),
            more="event",
        )
    return Message(text=f"History of {release.release_id} ({shown})", blocks=blocks)


def event_entry(
    event: TimelineEvent, tz: ZoneInfo, release: Release, people: People | None = None
) -> str:
    """Who, when, what, on which part of the release, before → after, and the comment."""
    known = people or {}
    action = ACTIONS.get(event.action, esc(event.action.replace(".", " ")))
    actor = known.get(event.actor.user_id)
    who = actor.full_name if actor else event.actor.username
    target = target_name(event.target, release, event.after or {})
    lines = [
        f"*{when(event.at, tz, zone=False)}* · *{esc(who)}* {action}"
        + (f" · {target}" if target else "")
    ]
    lines += _changes(event.before or {}, event.after or {}, tz, known)
    if event.comment:
        lines.append(f"> {esc(cut(event.comment.replace(chr(10), ' '), COMMENT_LIMIT))}")
    return cut("\n".join(lines), ENTRY_LIMIT)


def target_name(target: TargetPath, release: Release, after: Mapping[str, Any]) -> str:
    """The changed part by name (``Payments API / UAT sign-off / Prod sign-off``); "" for the
    release itself. What the release no longer has keeps the key it was recorded with."""
    parts: list[str] = []
    if target.product_id:
        parts.append(_product_name(release, target.product_id))
    if target.gate_name:
        parts.append(target.gate_name)
    if target.milestone_key:
        parts.append(_milestone_name(release, target))
    if target.runbook_id:
        runbook = next((r for r in release.runbooks if r.runbook_id == target.runbook_id), None)
        parts.append(
            runbook.runbook_name if runbook else str(after.get("runbook_name") or "a runbook")
        )
    if target.task_name:
        parts.append(target.task_name)
    if target.ctask_id:
        parts.append(target.ctask_id)
    if target.attachment_id:
        ref = _attachment(release, target.attachment_id)
        parts.append(
            ref.label if ref else str(after.get("label") or after.get("file_name") or "a file")
        )
    return " / ".join(esc(p) for p in parts)


def _product_name(release: Release, product_id: str) -> str:
    names = {p.product_id: p.product_name for p in release.products}
    return names.get(product_id, product_id)


def _milestone_name(release: Release, target: TargetPath) -> str:
    for product in release.products:
        if product.product_id != target.product_id:
            continue
        for gate in product.quality_gates:
            if gate.gate_name != target.gate_name:
                continue
            for milestone in gate.milestones:
                if milestone.milestone_key == target.milestone_key:
                    return milestone.milestone_name
    return target.milestone_key or ""


def packed_sections(entries: list[str], *, room: int, more: str) -> list[Block]:
    """Entries packed into as few sections as fit (≤ 3,000 characters each), at most ``room``
    blocks; what does not fit becomes "… and N more <more>s" (``more``: the noun, singular)."""
    sections: list[str] = []
    current = ""
    for index, entry in enumerate(entries):
        candidate = f"{current}\n\n{entry}" if current else entry
        if len(candidate) <= SECTION_LIMIT:
            current = candidate
            continue
        sections.append(current)
        if len(sections) >= room - 1:  # the last block says what was left out
            hidden = context(f"… and {plural(len(entries) - index, 'more ' + more)}")
            return [*(section(text) for text in sections), hidden]
        current = entry
    sections.append(current)
    return [section(text) for text in sections]


def field_name(name: str) -> str:
    words = FIELD_WORDS.get(name) or name.removesuffix("_id").replace("_", " ")
    return esc(words)


def _attachment(release: Release, attachment_id: str) -> AttachmentRef | None:
    refs = [*release.attachment_refs]
    for product in release.products:
        refs += product.attachment_refs
        for gate in product.quality_gates:
            refs += gate.attachment_refs
            for milestone in gate.milestones:
                refs += milestone.attachment_refs
    for runbook in release.runbooks:
        refs += runbook.attachment_refs
    return next((r for r in refs if r.attachment_id == attachment_id), None)


def _changes(
    before: dict[str, Any], after: dict[str, Any], tz: ZoneInfo, people: People
) -> list[str]:
    names = [*after, *(k for k in before if k not in after)]
    names = [n for n in names if n not in NAMING_FIELDS or n in before]
    lines = []
    for name in names[:FIELDS_SHOWN]:
        new = _value(name, after.get(name), tz, people)
        if name in before:
            lines.append(
                f"{field_name(name)}: {_value(name, before.get(name), tz, people)} → {new}"
            )
        else:
            lines.append(f"{field_name(name)}: {new}")
    if len(names) > FIELDS_SHOWN:
        lines.append(f"_… and {plural(len(names) - FIELDS_SHOWN, 'more field')}_")
    return lines


def _value(name: str, value: object, tz: ZoneInfo, people: People) -> str:
    if value is None or value == "" or value == []:
        return "–"
    if name == "ci_url" and isinstance(value, str):
        return web_link(value, cut(value, VALUE_LIMIT))
    if name in USER_FIELDS and isinstance(value, str):
        user = people.get(value)
        return esc(user.full_name) if user else "someone no longer known"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and "T" in value:
        try:
            return when(datetime.fromisoformat(value), tz, zone=False)
        except ValueError:
            pass
    if isinstance(value, list):
        value = _items(value)
    return f"`{esc(cut(str(value).replace(chr(10), ' '), VALUE_LIMIT))}`"


def _items(values: list[Any]) -> str:
    """A list as words: its values, or each object's name (a CTASK's id, a file's label)."""
    if not all(isinstance(v, dict) for v in values):
        return ", ".join(str(v) for v in values)
    names = [next((str(v[k]) for k in ITEM_NAMES if v.get(k)), "") for v in values]
    if all(names):
        return ", ".join(names)
    return plural(len(values), "item")
