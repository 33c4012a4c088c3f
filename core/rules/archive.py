"""Archiving a release (soft delete): hidden from every list, kept whole for the audit.

An archived release is still read by reference (status, history, the API, the audit export)
by those who may see it, and changed by nothing but a restore: ``ReleaseChanges.apply``
refuses every other change (``require_not_archived``). No command destroys a release.
"""

from __future__ import annotations

from datetime import datetime

from core.errors import RuleViolation, literal
from core.models.release import Release
from core.rules.permissions import Actor

RELEASE_ARCHIVED = "release.archived"
RELEASE_RESTORED = "release.restored"


class ReleaseArchived(RuleViolation):
    """A change to an archived release (restoring aside), or archiving it again."""

    def __init__(self, release: Release, *, again: bool = False) -> None:
        at = " on {at}" if release.archived_at else ""
        reason = literal(release.archived_reason or "")
        why = f" (“{reason}”)" if reason else ""
        said = f"Release '{literal(release.release_id)}' was archived{at}{why}"
        super().__init__(
            f"{said} already; nothing changed."
            if again
            else f"{said}, so nobody can change it: an admin must restore it first.",
            moments={"at": release.archived_at} if release.archived_at else None,
        )
        self.release_id = release.release_id


class NotArchived(RuleViolation):
    """Restoring a release that is not archived."""

    def __init__(self, release: Release) -> None:
        super().__init__(
            f"Release '{release.release_id}' is not archived: there is nothing to restore."
        )


def require_not_archived(release: Release) -> None:
    """Refuse any change to an archived release (a restore is the only one allowed)."""
    if release.is_archived:
        raise ReleaseArchived(release)


def archive(release: Release, actor: Actor, reason: str, now: datetime) -> None:
    """Mark the release archived by ``actor`` now, for ``reason``; refused if it already is."""
    if release.is_archived:
        raise ReleaseArchived(release, again=True)
    release.archived_at = now
    release.archived_by = actor.user_id
    release.archived_reason = reason


def restore(release: Release) -> None:
    """Bring the release back (the archive entry of its timeline keeps who, when and why);
    refused if it is not archived."""
    if not release.is_archived:
        raise NotArchived(release)
    release.archived_at = release.archived_by = release.archived_reason = None
