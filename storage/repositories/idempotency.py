"""Idempotency-Keys in use: one document per key (``_id``), so claiming one is one atomic
insert, and two requests with the same key cannot both claim it.

The database forgets a key after ``RETENTION``: a TTL index on ``purge_after``, set by the
wall clock (MongoDB and mongomock judge TTLs by theirs), as ``login_attempts`` does."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from core.clock import utc_now
from core.models.idempotency import IdempotentRequest, StoredAnswer
from storage.engine import Collection

RETENTION = timedelta(hours=24)
_RACES = 5  # claims lost to a stale claim that someone else took over meanwhile


class IdempotencyRepository:
    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    async def claim(
        self, request: IdempotentRequest, *, stale_before: datetime
    ) -> IdempotentRequest | None:
        fields = {
            "fingerprint": request.fingerprint,
            "claimed_at": request.claimed_at,
            "answer": None,
            "purge_after": utc_now() + RETENTION,
        }
        for _ in range(_RACES):
            try:
                await self._collection.insert_one({"_id": request.key, **fields})
                return None
            except DuplicateKeyError:
                pass
            taken_over = await self._collection.update_one(
                {"_id": request.key, "answer": None, "claimed_at": {"$lt": stale_before}},
                {"$set": fields},
            )
            if taken_over.modified_count:
                return None
            held = await self._collection.find_one({"_id": request.key})
            if held is not None:
                return _request(held)
            # Let go of (or purged) between the insert and the read: try again.
        raise RuntimeError(f"could not claim the idempotency key {request.key!r}")

    async def finish(self, key: str, *, claimed_at: datetime, answer: StoredAnswer) -> None:
        await self._collection.update_one(
            {"_id": key, "claimed_at": claimed_at, "answer": None},
            {"$set": {"answer": answer.model_dump()}},
        )

    async def release(self, key: str, *, claimed_at: datetime) -> None:
        await self._collection.delete_one({"_id": key, "claimed_at": claimed_at, "answer": None})

    async def purge(self, *, before: datetime) -> int:
        """The TTL index forgets keys by the wall clock; this, by the caller's (the retention
        job's injected clock), and on an engine that runs no TTL monitor."""
        result = await self._collection.delete_many({"claimed_at": {"$lt": before}})
        return result.deleted_count


def _request(doc: dict[str, Any]) -> IdempotentRequest:
    return IdempotentRequest(
        key=doc["_id"],
        fingerprint=doc["fingerprint"],
        claimed_at=doc["claimed_at"],
        answer=doc.get("answer"),
    )
