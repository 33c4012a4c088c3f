"""A value read from storage and kept for a short while, for what people are *shown*.

App Home, ``status`` and ``whoami`` answer within two database reads (issue 10). What they
show of rare, installation-wide things (freeze windows, who is away) is read once and kept
for ``ttl`` seconds of real time; a change made by this process drops it at once, one made on
another replica shows within ``ttl``. Rules never decide from a kept value: a decision or a
gate move reads the freeze windows and the delegations afresh.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
SHOWN_TTL = 30.0


class Kept(Generic[T]):
    def __init__(self, read: Callable[[], Awaitable[T]], *, ttl: float = SHOWN_TTL) -> None:
        self._read = read
        self._ttl = ttl
        self._value: T | None = None
        self._read_at = float("-inf")

    async def get(self) -> T:
        if self._value is None or time.monotonic() - self._read_at >= self._ttl:
            read_at = time.monotonic()
            self._value = await self._read()
            self._read_at = read_at
        return self._value

    def drop(self) -> None:
        """Read again next time (this process changed it)."""
        self._value = None
