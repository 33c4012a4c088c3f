"""Did you mean …: the names closest to one that names nothing, from a bounded list."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# How many names a service reads (one query, only after a lookup failed) to pick from.
CANDIDATES = 500
# How many it offers, and how alike (difflib's ratio, 0..1) a name must be to be offered.
OFFERED = 3
CUTOFF = 0.6


def closest(typed: str, names: Iterable[str], *, limit: int = OFFERED) -> list[str]:
    """The names most like ``typed``, ignoring case, best first; none that equal it."""
    wanted = typed.strip().casefold()
    by_folded: dict[str, str] = {}
    for name in names:
        by_folded.setdefault(name.casefold(), name)
    by_folded.pop(wanted, None)
    matches = difflib.get_close_matches(wanted, list(by_folded), n=limit, cutoff=CUTOFF)
    return [by_folded[m] for m in matches]
