"""Timeline events, newest first per release."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo.errors import BulkWriteError, DuplicateKeyError

from core.models.timeline import TimelineEvent
from storage.codec import from_document, to_document
from storage.engine import Collection

DUPLICATE_KEY = 11000
CHAIN_ORDER = [("release_oid", 1), ("seq", 1), ("at", 1), ("_id", 1)]


class TimelineRepository:
    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    async def append(self, events: Sequence[TimelineEvent]) -> None:
        """Idempotent by event id: an outbox delivered twice stores each entry once."""
        if not events:
            return
        try:
            await self._collection.insert_many([to_document(e) for e in events], ordered=False)
        except BulkWriteError as error:
            if any(e.get("code") != DUPLICATE_KEY for e in error.details.get("writeErrors", [])):
                raise
        except DuplicateKeyError:
            pass

    async def for_release(self, release_oid: str, *, limit: int) -> list[TimelineEvent]:
        cursor = (
            self._collection.find({"release_oid": release_oid})
            .sort([("at", -1), ("_id", -1)])
            .limit(limit)
        )
        return [from_document(TimelineEvent, d) for d in await cursor.to_list(length=None)]

    async def chained(
        self, release_oids: Sequence[str], *, since: datetime | None, until: datetime | None
    ) -> list[TimelineEvent]:
        query: dict[str, Any] = {"release_oid": {"$in": list(release_oids)}}
        at = {op: t for op, t in (("$gte", since), ("$lt", until)) if t is not None}
        if at:
            query["at"] = at
        cursor = self._collection.find(query).sort(CHAIN_ORDER)
        return [from_document(TimelineEvent, d) for d in await cursor.to_list(length=None)]
