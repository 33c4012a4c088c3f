"""The daily readiness digest: Block Kit blocks, and a text fallback from a Jinja2 template.

Teams can reword the text by pointing DIGEST_TEMPLATE_DIR at a folder with their own
``digest.txt.j2``. Every value the template prints is mrkdwn-escaped by the environment;
``plural(2, "gate")`` and the ``blocker`` filter (gate / milestone and status) are there to use.

A digest may be posted in a channel, so its times are Slack's ``<!date^…>``: every reader sees
their own time zone (the fallback text is in the digest's zone).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined
from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock, PlainTextObject

from blocks.freezes import freeze_blocks
from blocks.message import Message, context, lines_section, section
from blocks.status import (
    BREAK_GLASS_SHOWN,
    blocker_line,
    break_glass_line,
    milestone_place,
    readiness_line,
    rejection_line,
)
from blocks.text import MESSAGE_BLOCKS, EveryReader, Readers, day, esc, plural, when
from core.models.approval import BreakGlass
from core.rules.digest import Digest, DigestEntry
from core.rules.freeze import FreezeOutlook
from core.rules.readiness import Blocker

TEMPLATE = "digest.txt.j2"
TEXT_ENTRIES = 40  # a line each; more would not fit in 3,000 characters anyway
# Releases with a section of their own at most (two blocks each, besides the header's).
SECTIONS_AT_MOST = (MESSAGE_BLOCKS - 2) // 2
READINESS_WORDS = {"READY": "ready for approval", "BLOCKED": "BLOCKED", "NOT_READY": "not ready"}


def blocker_text(blocker: Blocker) -> str:
    """A blocker in plain words for the text: ``Regression suite / Hotfix on stage (BLOCKED)``
    (the environment escapes it when printed)."""
    where = [blocker.gate_name]
    if blocker.milestone_key:
        where.append(blocker.milestone_name or blocker.milestone_key)
    return f"{' / '.join(where)} ({blocker.status})"


@lru_cache(maxsize=8)
def template_environment(folder: str | None = None) -> Environment:
    loaders = [FileSystemLoader(folder)] if folder else []
    environment = Environment(
        loader=ChoiceLoader([*loaders, PackageLoader("blocks", "templates")]),
        undefined=StrictUndefined,
        finalize=lambda value: esc(value) if isinstance(value, str) else value,
        autoescape=False,
        keep_trailing_newline=False,
    )
    environment.globals["plural"] = plural
    environment.filters["blocker"] = blocker_text
    return environment


def digest_text(digest: Digest, folder: str | None = None) -> str:
    """The notification text. Only the entries that can fit in Slack's 3,000 characters are
    rendered (``more`` says how many were left out, the digest's undetailed ones included)."""
    template = template_environment(folder).get_template(TEMPLATE)
    shown = replace(digest, entries=digest.entries[:TEXT_ENTRIES], hidden=0)
    more = len(digest.entries) - len(shown.entries) + digest.hidden
    return template.render(digest=shown, more=more, readiness=READINESS_WORDS).strip()


def digest_message(
    digest: Digest,
    tz: ZoneInfo,
    folder: str | None = None,
    *,
    freezes: FreezeOutlook | None = None,
    overrides: Mapping[str, Sequence[BreakGlass]] | None = None,
) -> Message:
    """``tz``: the digest's zone, for its fallback text; each reader sees their own.
    ``freezes``: the freeze windows on and to come, with what each freezes. ``overrides``:
    the break-glass overrides of the last day, by release (its ``id``)."""
    readers = EveryReader(tz)
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=f"Release readiness · {day(digest.day)}")),
        context(f"Releases due {day(digest.start)} – {day(digest.end)}"),
        *freeze_blocks("*Freezes*", freezes, readers, with_scope=True),
    ]
    if not digest.entries and not digest.hidden:
        blocks.append(section("_No releases in this window._"))
    # Two blocks a release; keep room for the header, its context and the "more" line.
    room = (MESSAGE_BLOCKS - len(blocks) - 1) // 2
    for entry in digest.entries[:room]:
        broke = (overrides or {}).get(entry.release.id, ())
        blocks += [DividerBlock(), _entry_section(entry, readers, broke)]
    hidden = max(0, len(digest.entries) - room) + digest.hidden
    if hidden > 0:
        more = plural(hidden, "more release")
        blocks.append(context(f"… and {more} — `/release list` shows them all"))
    return Message(text=digest_text(digest, folder), blocks=blocks)


def _entry_section(
    entry: DigestEntry, readers: Readers, overrides: Sequence[BreakGlass] = ()
) -> Block:
    release, summary = entry.release, entry.summary
    lines = [
        f"*{esc(release.release_id)}* · {esc(release.release_name)} · {day(release.release_date)}",
        readiness_line(summary),
    ]
    newest = sorted(overrides, key=lambda r: r.at, reverse=True)[:BREAK_GLASS_SHOWN]
    lines += [break_glass_line(r, readers) for r in newest]
    lines += [blocker_line(b) for b in summary.blockers]
    lines += [rejection_line(r, {}, readers) for r in summary.rejected_approvals]
    lines += [
        f":hourglass: approval pending: {milestone_place(r)}" for r in summary.pending_approvals
    ]
    lines += [
        f":calendar: {when(r.milestone.start_date, readers)} {esc(r.milestone.milestone_name)}"
        for r in summary.next_milestones[:3]
    ]
    return lines_section(lines, more="line")
