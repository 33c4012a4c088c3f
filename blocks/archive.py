"""Archived releases in words: the answers to `archive` and `restore`, and the notice that
status and history show on an archived release (by whom, when, why, how to restore)."""

from __future__ import annotations

from collections.abc import Mapping

from blocks.message import Message, section
from blocks.text import Readers, cut, esc, plain, when
from core.models.rbac import User
from core.models.release import Release

REASON_SHOWN = 300


def restore_hint(release_id: str) -> str:
    return f"An admin can bring it back with `/release restore {esc(release_id)}`."


def archived_line(release: Release, people: Mapping[str, User], readers: Readers) -> str:
    """``:file_cabinet: *Archived* by Ada Admin on Tue 01 Dec 09:00 — “why”. …``; empty
    for a release that is not archived."""
    if release.archived_at is None:
        return ""
    archiver = people.get(release.archived_by or "")
    by = f" by {esc(archiver.full_name)}" if archiver else ""
    reason = " ".join((release.archived_reason or "").split())
    why = f" — “{esc(cut(reason, REASON_SHOWN))}”" if reason else ""
    return (
        f":file_cabinet: *Archived*{by} on {when(release.archived_at, readers)}{why}. "
        "Hidden from lists, App Home, digests and reminders; kept for the audit and read "
        f"only. {restore_hint(release.release_id)}"
    )


def archived_message(release: Release, readers: Readers) -> Message:
    """The answer to ``archive``."""
    release_id = esc(release.release_id)
    text = (
        f":file_cabinet: Archived *{release_id}* · {esc(release.release_name)}"
        + (f" on {when(release.archived_at, readers)}" if release.archived_at else "")
        + ". It no longer shows in lists, App Home, digests or reminders, and nobody can "
        f"change it; `/release status {release_id}` and `/release history {release_id}` "
        f"still show it. {restore_hint(release.release_id)}"
    )
    return Message(text=plain(text, escaped=True), blocks=[section(text)])


def restored_message(release: Release) -> Message:
    """The answer to ``restore``."""
    text = (
        f":leftwards_arrow_with_hook: Restored *{esc(release.release_id)}* · "
        f"{esc(release.release_name)}: it is back in lists, App Home, digests and reminders, "
        "and can be changed again."
    )
    return Message(text=plain(text, escaped=True), blocks=[section(text)])
