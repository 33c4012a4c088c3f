"""Approval DM records, once-only claims, digest subscriptions and snoozes."""

from __future__ import annotations

from datetime import datetime, timedelta

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from core.models.notification import ApprovalMessage
from core.models.schedule import DigestSubscription, Snooze
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
    """A claim is a document with a unique ``key``. An expired claim that was never
    completed (its sender died) may be taken over; a completed one never."""

    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    async def claim(self, key: str, *, now: datetime, ttl: timedelta, owner: str = "") -> bool:
        try:
            await self._collection.insert_one(
                {
                    "key": key,
                    "owner": owner,
                    "claimed_at": now,
                    "expires_at": now + ttl,
                    "done": False,
                }
            )
            return True
        except DuplicateKeyError:
            taken = await self._collection.update_one(
                {"key": key, "done": False, "expires_at": {"$lte": now}},
                {"$set": {"owner": owner, "claimed_at": now, "expires_at": now + ttl}},
            )
            return taken.modified_count == 1

    async def complete(self, key: str, *, now: datetime, owner: str = "") -> bool:
        done = await self._collection.update_one(
            {"key": key, "owner": owner, "done": False},
            {"$set": {"done": True, "done_at": now}},
        )
        return done.modified_count == 1

    async def release(self, key: str, *, owner: str = "") -> None:
        await self._collection.delete_one({"key": key, "owner": owner, "done": False})

    async def finished(self, key: str) -> bool:
        return await self._collection.find_one({"key": key, "done": True}, {"_id": 1}) is not None

    async def purge(self, *, before: datetime, done_before: datetime) -> int:
        """Forget unfinished claims that expired before ``before`` (e.g. Slack event ids) and
        finished ones older than ``done_before``, so the collection does not grow forever."""
        result = await self._collection.delete_many(
            {
                "$or": [
                    {"done": False, "expires_at": {"$lt": before}},
                    {"done": True, "done_at": {"$lt": done_before}},
                ]
            }
        )
        return result.deleted_count


class SubscriptionRepository:
    """Digest subscriptions, one per target (a channel, or a person)."""

    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    async def upsert(self, subscription: DigestSubscription) -> DigestSubscription:
        doc = to_document(subscription)
        doc.pop("_id")
        stored = await self._collection.find_one_and_update(
            {"target": subscription.target},
            {"$set": doc, "$setOnInsert": {"_id": ObjectId(subscription.id)}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return from_document(DigestSubscription, stored)

    async def find(self, target: str) -> DigestSubscription | None:
        doc = await self._collection.find_one({"target": target})
        return None if doc is None else from_document(DigestSubscription, doc)

    async def remove(self, target: str) -> bool:
        result = await self._collection.delete_one({"target": target})
        return result.deleted_count == 1

    async def all(self) -> list[DigestSubscription]:
        docs = await self._collection.find({}).to_list(length=None)
        return [from_document(DigestSubscription, d) for d in docs]

    async def pause(self, target: str, *, reason: str, at: datetime) -> DigestSubscription | None:
        doc = await self._collection.find_one_and_update(
            {"target": target, "enabled": True, "created_at": {"$lte": at}},
            {"$set": {"enabled": False, "paused_reason": reason, "paused_at": at}},
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else from_document(DigestSubscription, doc)


class SnoozeRepository:
    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    async def snooze(self, snooze: Snooze) -> None:
        await self._collection.update_one(
            {"user_id": snooze.user_id, "approval_key": snooze.approval_key},
            {"$set": {"until": snooze.until}},
            upsert=True,
        )

    async def active(self, *, now: datetime) -> list[Snooze]:
        docs = await self._collection.find({"until": {"$gt": now}}).to_list(length=None)
        return [Snooze.model_validate({k: v for k, v in d.items() if k != "_id"}) for d in docs]
