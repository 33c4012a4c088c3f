"""The daily readiness digest: Block Kit blocks, and a text fallback from a Jinja2 template.

Teams can reword the text by pointing DIGEST_TEMPLATE_DIR at a folder with their own
``digest.txt.j2``. Every value the template prints is mrkdwn-escaped by the environment.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined
from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock, PlainTextObject

from blocks.message import Message, context, lines_section, section
from blocks.status import readiness_line
from blocks.text import MESSAGE_BLOCKS, day, esc, when
from core.rules.digest import Digest, DigestEntry

TEMPLATE = "digest.txt.j2"
TEXT_ENTRIES = 40  # a line each; more would not fit in 3,000 characters anyway
READINESS_WORDS = {"READY": "ready for approval", "BLOCKED": "BLOCKED", "NOT_READY": "not ready"}


@lru_cache(maxsize=8)
def template_environment(folder: str | None = None) -> Environment:
    loaders = [FileSystemLoader(folder)] if folder else []
    return Environment(
        loader=ChoiceLoader([*loaders, PackageLoader("blocks", "templates")]),
        undefined=StrictUndefined,
        finalize=lambda value: esc(value) if isinstance(value, str) else value,
        autoescape=False,
        keep_trailing_newline=False,
    )


def digest_text(digest: Digest, folder: str | None = None) -> str:
    """The notification text. Only the entries that can fit in Slack's 3,000 characters are
    rendered (``more`` says how many were left out)."""
    template = template_environment(folder).get_template(TEMPLATE)
    shown = replace(digest, entries=digest.entries[:TEXT_ENTRIES])
    more = len(digest.entries) - len(shown.entries)
    return template.render(digest=shown, more=more, readiness=READINESS_WORDS).strip()


def digest_message(digest: Digest, tz: ZoneInfo, folder: str | None = None) -> Message:
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=f"Release readiness · {day(digest.day)}")),
        context(f"Releases due {day(digest.start)} – {day(digest.end)} · times in {tz.key}"),
    ]
    if not digest.entries:
        blocks.append(section("_No releases in this window._"))
    # Two blocks a release; keep room for the header, its context and the "more" line.
    room = (MESSAGE_BLOCKS - len(blocks) - 1) // 2
    for entry in digest.entries[:room]:
        blocks += [DividerBlock(), _entry_section(entry, tz)]
    hidden = len(digest.entries) - room
    if hidden > 0:
        blocks.append(context(f"… and {hidden} more releases — `/release list` shows them all"))
    return Message(text=digest_text(digest, folder), blocks=blocks)


def _entry_section(entry: DigestEntry, tz: ZoneInfo) -> Block:
    release, summary = entry.release, entry.summary
    lines = [
        f"*{esc(release.release_id)}* · {esc(release.release_name)} · {day(release.release_date)}",
        readiness_line(summary),
    ]
    lines += [
        f":no_entry: {esc(b.product_id)} / {esc(b.gate_name)} is *{b.status}*"
        + (f" — {esc(b.comment)}" if b.comment else "")
        for b in summary.blockers
    ]
    lines += [
        f":hourglass: approval pending: {esc(r.gate_name)} / {esc(r.milestone.milestone_name)}"
        for r in summary.pending_approvals
    ]
    lines += [
        f":calendar: {when(r.milestone.start_date, tz)} {esc(r.milestone.milestone_name)}"
        for r in summary.next_milestones[:3]
    ]
    return lines_section(lines, more="lines")
