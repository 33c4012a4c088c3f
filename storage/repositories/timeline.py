"""Timeline events, newest first per release."""

from __future__ import annotations

from collections.abc import Sequence

from core.models.timeline import TimelineEvent
from storage.codec import from_document, to_document
from storage.engine import Collection


class TimelineRepository:
    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    async def append(self, events: Sequence[TimelineEvent]) -> None:
        if len(events) == 1:
            await self._collection.insert_one(to_document(events[0]))
        elif events:
            await self._collection.insert_many([to_document(e) for e in events])

    async def for_release(self, release_oid: str, *, limit: int) -> list[TimelineEvent]:
        cursor = (
            self._collection.find({"release_oid": release_oid})
            .sort([("at", -1), ("_id", -1)])
            .limit(limit)
        )
        return [from_document(TimelineEvent, d) for d in await cursor.to_list(length=None)]
