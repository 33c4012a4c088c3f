"""The database's clock: leases are judged by it, so replicas whose clocks disagree agree.

A claim's lease is a time in the database; were it judged by each replica's own clock, one
running minutes ahead would see live claims as expired and take them over (and send again).
So the runtime binds one clock to the database it opens, and the claims read it:

- MongoDB: the server's time, sampled from ``hello`` (``localTime``) and carried forward by
  this process's monotonic clock (so neither its wall clock nor a step of it matters),
  sampled again every ``RESAMPLE``;
- the embedded engine: it lives in one process, so the process's clock (the one the runtime
  was given: tests and the console pass their own).

A database no runtime bound a clock to (a bare test database) has none: the caller's time
is used there.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from core.clock import Clock

RESAMPLE = timedelta(minutes=10)  # a quartz drifts well under a millisecond in that time


class DatabaseClock(Protocol):
    async def now(self) -> datetime: ...


class LocalClock:
    """The process's clock, for the embedded engine that lives in the process."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    async def now(self) -> datetime:
        return self._clock()


class ServerClock:
    """MongoDB's time: the last ``hello``'s ``localTime`` plus the monotonic time since
    (half the round trip taken as the moment the server read its clock)."""

    def __init__(self, db: Any, *, resample: timedelta = RESAMPLE) -> None:
        self._db = db
        self._resample = resample.total_seconds()
        self._server: datetime | None = None
        self._at = 0.0  # monotonic time the server's clock read ``_server``
        self._sampling = asyncio.Lock()  # many claims at once: one hello

    async def now(self) -> datetime:
        if self._stale():
            async with self._sampling:
                if self._stale():
                    await self.sample()
        assert self._server is not None
        return self._server + timedelta(seconds=time.monotonic() - self._at)

    def _stale(self) -> bool:
        return self._server is None or time.monotonic() - self._at > self._resample

    async def sample(self) -> None:
        sent = time.monotonic()
        reply = await self._db.command("hello")
        answered = time.monotonic()
        server = reply.get("localTime")
        if not isinstance(server, datetime):
            raise RuntimeError("MongoDB's hello answered no localTime to judge leases by")
        self._server = server if server.tzinfo else server.replace(tzinfo=UTC)
        self._at = (sent + answered) / 2


# (client, database name) → the clock bound to that database. Keyed by the client object,
# so a database wrapped for instrumentation (storage.instrumented) finds the same clock.
_bound: weakref.WeakKeyDictionary[Any, dict[str, DatabaseClock]] = weakref.WeakKeyDictionary()


def clock_of(db: Any) -> DatabaseClock | None:
    """The clock bound to ``db`` (a Motor database, or what wraps one), if any."""
    return _bound.get(db.client, {}).get(db.name)


def bind_clock(db: Any, clock: DatabaseClock) -> Callable[[], None] | None:
    """Judge leases in ``db`` by ``clock``, unless a clock is bound already (the first
    wins: one database, one clock). Returns how to unbind it, or None if it was not bound."""
    clocks = _bound.setdefault(db.client, {})
    if db.name in clocks:
        return None
    clocks[db.name] = clock

    def unbind() -> None:
        if clocks.get(db.name) is clock:
            del clocks[db.name]

    return unbind
