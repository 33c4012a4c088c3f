"""Sign-in attempts per (username, client), counted in the database so that every replica
applies the same limit.

A count holds until ``expires_at``, by the service's clock (an expired one is started afresh
by the next attempt). The database forgets it after ``purge_after``: a TTL index, which
MongoDB and mongomock alike judge by their wall clock, so that field is set by the wall clock,
with a margin (a clock a little off purges nothing early); tests that freeze the service's
clock far from today are not purged under their feet."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from core.clock import utc_now
from core.models.auth import LoginAttempts
from storage.engine import Collection

_RACES = 5  # attempts to start a count that other attempts keep starting first
PURGE_MARGIN = timedelta(hours=1)


class LoginAttemptRepository:
    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    async def count(self, key: str, *, now: datetime, window: timedelta) -> LoginAttempts:
        """One atomic ``$inc`` on the live count; else an upsert that starts a new one over
        an expired count (or none). Two attempts starting one at once: the unique key lets
        one insert, and the other counts on the live one."""
        for _ in range(_RACES):
            live = await self._collection.find_one_and_update(
                {"key": key, "expires_at": {"$gt": now}},
                {"$inc": {"count": 1}},
                return_document=ReturnDocument.AFTER,
            )
            if live is not None:
                return _attempts(live)
            try:
                started = await self._collection.find_one_and_update(
                    {"key": key, "expires_at": {"$lte": now}},
                    {
                        "$set": {
                            "count": 1,
                            "expires_at": now + window,
                            "purge_after": utc_now() + window + PURGE_MARGIN,
                        }
                    },
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
            except DuplicateKeyError:
                continue  # another attempt started a live count meanwhile: count on it
            return _attempts(started)
        raise RuntimeError(f"could not count a sign-in attempt for {key!r}")

    async def clear(self, key: str) -> None:
        await self._collection.delete_one({"key": key})


def _attempts(doc: dict[str, Any]) -> LoginAttempts:
    # Read whole: mongomock answers None to an update with an excluding projection.
    return LoginAttempts.model_validate({k: v for k, v in doc.items() if k in _FIELDS})


_FIELDS = frozenset(LoginAttempts.model_fields)
