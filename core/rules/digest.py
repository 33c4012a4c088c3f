"""What a readiness digest contains for one audience."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from core.models.release import Release
from core.rules.permissions import Actor
from core.rules.readiness import ReadinessSummary, summarize


@dataclass(frozen=True, slots=True)
class DigestWindow:
    """Releases due from ``recent_days`` ago to ``upcoming_days`` ahead of the digest's day."""

    upcoming_days: int = 14
    recent_days: int = 3

    def bounds(self, day: date) -> tuple[date, date]:
        return day - timedelta(days=self.recent_days), day + timedelta(days=self.upcoming_days)


@dataclass(frozen=True, slots=True)
class DigestEntry:
    release: Release
    summary: ReadinessSummary


@dataclass(frozen=True, slots=True)
class Digest:
    day: date
    start: date
    end: date
    entries: list[DigestEntry]


def compose_digest(
    releases: list[Release],
    audience: Actor,
    day: date,
    window: DigestWindow,
    summaries: Mapping[str, ReadinessSummary] | None = None,
) -> Digest:
    """The releases the audience may see within the window, soonest first.

    ``summaries`` (by release id) lets one run summarize each release once for all audiences.
    """
    start, end = window.bounds(day)
    chosen = sorted(
        (r for r in releases if start <= r.release_date <= end and audience.can_view(r)),
        key=lambda r: (r.release_date, r.release_id),
    )
    known = summaries or {}
    entries = [DigestEntry(r, known.get(r.id) or summarize(r)) for r in chosen]
    return Digest(day, start, end, entries)
