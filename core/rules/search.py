"""What a release search (`/release list <query>`) matches.

A release matches when, ignoring case, its id or its name continues the query from the
start of one of its words. A word starts after a space, and at a letter or digit that follows
any other character: "REL-2026.11-HF1 · Release HOTFIX-1" is found by ``rel-2026``,
``2026.11``, ``hf1``, ``release hot``, ``hotfix-1`` or ``1``, but not by ``otfix`` or
``026``: never from the middle of a word. The query is matched literally (``.*`` and
``$where`` are text), and the runs of spaces in it count as one.

So that an index serves it, every release stores its search keys (``search_keys``): every
tail of its id and of its name that starts a word, folded (case and spaces) and cut to
``SEARCH_MAX`` characters. The query, folded the same way, is then a prefix of one of them:
an anchored, case-sensitive prefix match, which MongoDB answers from a multikey index (a
range of its keys), and so does the embedded engine (``storage/embedded_index.py``).
"""

from __future__ import annotations

import re

from core.models.release import Release

SEARCH_MAX = 100  # characters of a query that count, and of a stored key
# Bump when search_keys changes: keys stored with an older version are rebuilt at start-up.
SEARCH_VERSION = 1

_SPACES = re.compile(r"[\s\x00-\x1f\x7f]+")


def fold(text: str) -> str:
    """Text as searched: case-folded, spaces (and control characters) as one space."""
    return _SPACES.sub(" ", text.casefold()).strip()


def search_keys(release: Release) -> list[str]:
    """What a query may be the start of: each tail of the id and of the name from a word."""
    keys = set()
    for text in (fold(release.release_id), fold(release.release_name)):
        keys |= {text[at:][:SEARCH_MAX].rstrip() for at in _word_starts(text)}
    return sorted(keys)


def search_term(query: str | None) -> str | None:
    """The query as matched against the keys (at most ``SEARCH_MAX`` characters); None:
    nothing to search for."""
    return fold(query or "")[:SEARCH_MAX].rstrip() or None


def matches(release: Release, term: str) -> bool:
    """The rule in Python (what the index answers on MongoDB): for the in-memory fakes."""
    return any(key.startswith(term) for key in search_keys(release))


def _word_starts(text: str) -> list[int]:
    return [
        at
        for at, char in enumerate(text)
        if char != " "
        and (at == 0 or text[at - 1] == " " or (char.isalnum() and not text[at - 1].isalnum()))
    ]
