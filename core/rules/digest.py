"""What a readiness digest contains for one audience."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from core.models.release import ReleaseHead
from core.rules.permissions import Actor
from core.rules.readiness import ReadinessSummary, ReleaseCard


@dataclass(frozen=True, slots=True)
class DigestWindow:
    """Releases due from ``recent_days`` ago to ``upcoming_days`` ahead of the digest's day."""

    upcoming_days: int = 14
    recent_days: int = 3

    def bounds(self, day: date) -> tuple[date, date]:
        return day - timedelta(days=self.recent_days), day + timedelta(days=self.upcoming_days)


@dataclass(frozen=True, slots=True)
class DigestEntry:
    release: ReleaseHead  # a digest template may print its id, name and date
    summary: ReadinessSummary


# Releases a digest details, soonest first; it counts the others. A Slack message shows fewer
# anyway (50 blocks, 3,000 characters of text), and points to `/release list` for the rest.
DETAILED = 50


@dataclass(frozen=True, slots=True)
class Digest:
    day: date
    start: date
    end: date
    entries: list[DigestEntry]
    hidden: int = 0  # releases in the window beyond the detailed ones


def compose_digest(
    cards: Sequence[ReleaseCard], audience: Actor, day: date, window: DigestWindow
) -> Digest:
    """The releases the audience may see within the window, soonest first: the first
    ``DETAILED`` with their readiness, the others counted. ``cards`` carry the summaries
    stored with the releases, read only for the detailed ones: nothing is summarized here."""
    start, end = window.bounds(day)
    chosen = sorted(
        (c for c in cards if start <= c.release_date <= end and audience.can_view(c)),
        key=lambda c: (c.release_date, c.release_id),
    )
    entries = [DigestEntry(c, c.summary) for c in chosen[:DETAILED]]
    return Digest(day, start, end, entries, hidden=len(chosen) - len(entries))
