"""A database wrapper that counts round trips and can behave like a network.

Used by the benchmarks (round trips per service operation) and by concurrency tests: the
embedded engine answers without ever yielding to the event loop, so concurrent coroutines
would run one after another. With ``yield_each_call`` every call first yields (and may
sleep), as a real driver waiting on the network does, so races really interleave.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from typing import Any, cast

from storage.engine import Collection, Database

# The calls that change documents; with the reads below, every call that is a round trip.
WRITES = frozenset(
    {
        "insert_one",
        "insert_many",
        "replace_one",
        "update_one",
        "update_many",
        "find_one_and_update",
        "find_one_and_replace",
        "find_one_and_delete",
        "delete_one",
        "delete_many",
        "bulk_write",
    }
)
# Reads answered at once; ``find`` and ``aggregate`` give cursors, counted when fetched.
READS = frozenset({"find_one", "count_documents", "estimated_document_count", "distinct"})
COUNTED = WRITES | READS | {"create_indexes"}


def writes_in(calls: Mapping[str, int]) -> int:
    """How many of these counted calls (``collection.method``: count) change documents;
    every other one is a read."""
    return sum(n for call, n in calls.items() if call.rsplit(".", 1)[-1] in WRITES)


class RoundTrips:
    """Calls per ``collection.method``; a cursor counts once, when its results are fetched."""

    def __init__(self, *, yield_each_call: bool = False, latency: float = 0.0) -> None:
        self.calls: Counter[str] = Counter()
        self._yield = yield_each_call or latency > 0
        self._latency = latency
        # Set to simulate MongoDB going away: every call fails, as the driver's would.
        self.outage: BaseException | None = None
        self._stop_after: str | None = None

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    @property
    def writes(self) -> int:
        return writes_in(self.calls)

    @property
    def reads(self) -> int:
        """Every other round trip: finds, cursors fetched, counts (and index creation)."""
        return self.total - self.writes

    def reset(self) -> None:
        self.calls.clear()

    async def hop(self, name: str) -> None:
        if self.outage is not None:
            await asyncio.sleep(0)
            raise self.outage
        self.calls[name] += 1
        if self._yield:
            await asyncio.sleep(self._latency)

    def stop_after(self, name: str) -> None:
        """Once the next ``name`` call (e.g. ``releases.replace_one``) has done its work,
        fail every call after it: the process stopped right there, as far as storage sees."""
        self._stop_after = name

    def done(self, name: str) -> None:
        if self._stop_after == name:
            self._stop_after = None
            self.outage = ConnectionError(f"the process stopped after {name}")

    def wrap(self, db: Database) -> Database:
        return cast(Database, _Database(db, self))


class _Database:
    def __init__(self, db: Database, trips: RoundTrips) -> None:
        self._db = db
        self._trips = trips

    def __getitem__(self, name: str) -> Collection:
        return cast(Collection, _Collection(self._db[name], self._trips))

    async def command(self, *args: Any, **kwargs: Any) -> Any:
        await self._trips.hop("db.command")
        return await self._db.command(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


class _Collection:
    def __init__(self, collection: Collection, trips: RoundTrips) -> None:
        self._collection = collection
        self._trips = trips

    def find(self, *args: Any, **kwargs: Any) -> _Cursor:
        return _Cursor(
            self._collection.find(*args, **kwargs), self._trips, f"{self._collection.name}.find"
        )

    def aggregate(self, *args: Any, **kwargs: Any) -> _Cursor:
        cursor = self._collection.aggregate(*args, **kwargs)
        return _Cursor(cursor, self._trips, f"{self._collection.name}.aggregate")

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._collection, name)
        if name not in COUNTED:
            return target

        async def counted(*args: Any, **kwargs: Any) -> Any:
            call = f"{self._collection.name}.{name}"
            await self._trips.hop(call)
            result = await target(*args, **kwargs)
            self._trips.done(call)
            return result

        return counted


class _Cursor:
    def __init__(self, cursor: Any, trips: RoundTrips, name: str) -> None:
        self._cursor = cursor
        self._trips = trips
        self._name = name

    def sort(self, *args: Any, **kwargs: Any) -> _Cursor:
        self._cursor = self._cursor.sort(*args, **kwargs)
        return self

    def limit(self, count: int) -> _Cursor:
        self._cursor = self._cursor.limit(count)
        return self

    def skip(self, count: int) -> _Cursor:
        self._cursor = self._cursor.skip(count)
        return self

    async def to_list(self, length: int | None = None) -> list[dict[str, Any]]:
        await self._trips.hop(self._name)
        return cast(list[dict[str, Any]], await self._cursor.to_list(length=length))
