"""Approval DM records and once-only claims."""

from __future__ import annotations

from datetime import datetime, timedelta

from pymongo.errors import DuplicateKeyError

from core.models.notification import ApprovalMessage
from storage.codec import from_document, to_document
from storage.engine import Collection


class ApprovalMessageRepository:
    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    async def record(self, message: ApprovalMessage) -> None:
        await self._collection.insert_one(to_document(message))

    async def for_approval(self, approval_key: str) -> list[ApprovalMessage]:
        docs = await self._collection.find({"approval_key": approval_key}).to_list(length=None)
        return [
            from_document(ApprovalMessage, {k: v for k, v in d.items() if k != "_id"}) for d in docs
        ]


class ClaimRepository:
    """A claim is a document with a unique ``key``; an expired one may be taken over."""

    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    async def claim(self, key: str, *, now: datetime, ttl: timedelta) -> bool:
        try:
            await self._collection.insert_one(
                {"key": key, "claimed_at": now, "expires_at": now + ttl}
            )
            return True
        except DuplicateKeyError:
            taken = await self._collection.update_one(
                {"key": key, "expires_at": {"$lte": now}},
                {"$set": {"claimed_at": now, "expires_at": now + ttl}},
            )
            return taken.modified_count == 1
