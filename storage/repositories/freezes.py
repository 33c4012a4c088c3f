"""Freeze windows (``freezes``): one document each; ending one is a conditional write."""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING

from core.errors import NotFound
from core.models.common import is_object_id
from core.models.freeze import FreezeWindow
from storage.codec import from_document, object_id, to_document
from storage.engine import Collection


class FreezeRepository:
    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    async def add(self, window: FreezeWindow) -> FreezeWindow:
        await self._collection.insert_one(to_document(window))
        return window

    async def get(self, freeze_id: str) -> FreezeWindow:
        doc = await self._collection.find_one({"_id": object_id(freeze_id, "freeze window")})
        if doc is None:
            raise NotFound(
                f"No freeze window with id '{freeze_id}'.", fields={"id": "Unknown freeze window"}
            )
        return from_document(FreezeWindow, doc)

    async def list_open(self, *, now: datetime) -> list[FreezeWindow]:
        cursor = self._collection.find({"ended_at": None, "ends_at": {"$gt": now}}).sort(
            [("starts_at", ASCENDING), ("_id", ASCENDING)]
        )
        return [from_document(FreezeWindow, d) for d in await cursor.to_list(length=None)]

    async def end(self, freeze_id: str, *, ended_at: datetime, ended_by: str) -> bool:
        if not is_object_id(freeze_id):
            return False
        result = await self._collection.update_one(
            {"_id": object_id(freeze_id, "freeze window"), "ended_at": None},
            {"$set": {"ended_at": ended_at, "ended_by": ended_by}},
        )
        return result.modified_count == 1
