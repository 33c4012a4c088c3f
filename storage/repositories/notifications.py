"""Approval DM records, once-only claims, digest subscriptions and snoozes."""

from __future__ import annotations

from datetime import datetime, timedelta

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from core.clock import utc_now
from core.models.notification import ApprovalMessage, Taken
from core.models.schedule import DigestSubscription, Snooze
from storage.codec import from_document, to_document
from storage.db_clock import clock_of
from storage.engine import Collection


class ApprovalMessageRepository:
    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    async def record(self, message: ApprovalMessage) -> None:
        """Once per copy (approval, channel, ts): a copy adopted from history may be recorded
        by the attempt that posted it and again by the one that adopted it."""
        copy = {"approval_key": message.approval_key, "channel": message.channel, "ts": message.ts}
        await self._collection.update_one(copy, {"$setOnInsert": to_document(message)}, upsert=True)

    async def for_approval(self, approval_key: str) -> list[ApprovalMessage]:
        docs = await self._collection.find({"approval_key": approval_key}).to_list(length=None)
        return [
            from_document(ApprovalMessage, {k: v for k, v in d.items() if k != "_id"}) for d in docs
        ]

    async def purge(self, *, before: datetime) -> int:
        result = await self._collection.delete_many({"sent_at": {"$lt": before}})
        return result.deleted_count


class ClaimRepository:
    """A claim is a document with a unique ``key``. An expired claim that was never
    completed (its sender died) may be taken over; a completed one never.

    Times are the database's (``storage.db_clock``), whatever the caller's clock says: a
    replica whose clock runs ahead cannot take over live claims. A caller's ``now`` counts
    only on a database no clock was bound to (a bare test database)."""

    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    async def now(self) -> datetime:
        """The database's time."""
        return await self._now(None)

    async def _now(self, now: datetime | None) -> datetime:
        clock = clock_of(self._collection.database)
        if clock is not None:
            return await clock.now()
        return now if now is not None else utc_now()

    async def claim(
        self, key: str, *, now: datetime | None = None, ttl: timedelta, owner: str = ""
    ) -> bool:
        return await self.take(key, now=now, ttl=ttl, owner=owner) is not None

    async def take(
        self, key: str, *, ttl: timedelta, owner: str = "", now: datetime | None = None
    ) -> Taken | None:
        """``claim``, telling a first attempt from a retry of one that may have done it."""
        now = await self._now(now)
        try:
            await self._collection.insert_one(
                {
                    "key": key,
                    "owner": owner,
                    "claimed_at": now,
                    "first_at": now,
                    "expires_at": now + ttl,
                    "done": False,
                }
            )
            return Taken()
        except DuplicateKeyError:
            before = await self._collection.find_one_and_update(
                {"key": key, "done": False, "expires_at": {"$lte": now}},
                {"$set": {"owner": owner, "claimed_at": now, "expires_at": now + ttl}},
                projection={"_id": 0, "first_at": 1, "claimed_at": 1},
                return_document=ReturnDocument.BEFORE,
            )
        if before is None:
            return None
        earlier = before.get("first_at") or before.get("claimed_at")
        return Taken(earlier if isinstance(earlier, datetime) else now)

    async def complete(self, key: str, *, now: datetime | None = None, owner: str = "") -> bool:
        done = await self._collection.update_one(
            {"key": key, "owner": owner, "done": False},
            {"$set": {"done": True, "done_at": await self._now(now)}},
        )
        return done.modified_count == 1

    async def release(self, key: str, *, owner: str = "", maybe_done: bool = False) -> None:
        """Let the next attempt claim it at once. ``maybe_done``: the attempt failed without
        knowing whether its work was done (Slack's answer was lost): the claim is kept, free,
        so the next attempt is told (``Taken.earlier``) to look before doing it again."""
        if not maybe_done:
            await self._collection.delete_one({"key": key, "owner": owner, "done": False})
            return
        await self._collection.update_one(
            {"key": key, "owner": owner, "done": False},
            {"$set": {"expires_at": await self._now(None)}},
        )

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
