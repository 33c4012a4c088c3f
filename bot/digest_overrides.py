"""The break-glass overrides a digest shows: those of the last day, of the releases it
details, from their cards (each card carries its release's last overrides: no read)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from blocks.digest import SECTIONS_AT_MOST
from core.models.approval import BreakGlass
from core.rules.digest import Digest

RECENT = timedelta(days=1)


def recent_overrides(digests: Iterable[Digest], now: datetime) -> dict[str, list[BreakGlass]]:
    """By release id: the overrides made within a day before ``now`` of the releases the
    digests can show a section for (the others are only counted)."""
    found: dict[str, list[BreakGlass]] = {}
    for digest in digests:
        for entry in digest.entries[:SECTIONS_AT_MOST]:
            card = entry.release
            recent = [b for b in card.break_glass if now - RECENT <= b.at <= now]
            if recent:
                found[card.id] = recent
    return found
