"""Outbound webhooks (``webhooks``; secrets stored only encrypted, never read for a list) and
their deliveries (``webhook_deliveries``, one per event and hook by a unique key)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from core.errors import NotFound
from core.models.common import is_object_id
from core.models.webhooks import (
    DeliveryAttempt,
    DeliveryStatus,
    StoredWebhook,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from storage.codec import entry_document, from_document, object_id, to_document
from storage.engine import Collection

_NO_SECRET = {"secret_encrypted": 0}


class WebhookRepository:
    def __init__(self, hooks: Collection, deliveries: Collection) -> None:
        self._hooks = hooks
        self._deliveries = deliveries

    async def add(self, hook: StoredWebhook) -> StoredWebhook:
        await self._hooks.insert_one(to_document(hook))
        return hook

    async def get(self, hook_id: str) -> StoredWebhook:
        doc = await self._hooks.find_one({"_id": object_id(hook_id, "webhook")})
        if doc is None:
            raise NotFound(f"No webhook with id '{hook_id}'.", fields={"id": "Unknown webhook"})
        return from_document(StoredWebhook, doc)

    async def for_user(self, user_id: str) -> list[Webhook]:
        cursor = self._hooks.find({"user_id": user_id}, _NO_SECRET).sort("_id", DESCENDING)
        return [from_document(Webhook, d) for d in await cursor.to_list(length=None)]

    async def subscribed(self, events: Sequence[WebhookEvent]) -> list[StoredWebhook]:
        cursor = self._hooks.find({"events": {"$in": [e.value for e in events]}})
        return [from_document(StoredWebhook, d) for d in await cursor.to_list(length=None)]

    async def replace_secret(self, hook_id: str, *, was: str, now: str) -> bool:
        result = await self._hooks.update_one(
            {"_id": object_id(hook_id, "webhook"), "secret_encrypted": was},
            {"$set": {"secret_encrypted": now}},
        )
        return result.modified_count > 0

    async def remove(self, hook_id: str) -> bool:
        if not is_object_id(hook_id):
            return False
        result = await self._hooks.delete_one({"_id": object_id(hook_id, "webhook")})
        await self._deliveries.delete_many({"hook_id": hook_id})
        return result.deleted_count > 0

    async def add_delivery(self, delivery: WebhookDelivery) -> bool:
        try:
            await self._deliveries.insert_one(to_document(delivery))
        except DuplicateKeyError:  # stored already, by an earlier run of the same reaction
            return False
        return True

    async def delivery(self, delivery_id: str) -> WebhookDelivery | None:
        if not is_object_id(delivery_id):
            return None
        doc = await self._deliveries.find_one({"_id": object_id(delivery_id, "delivery")})
        return from_document(WebhookDelivery, doc) if doc is not None else None

    async def due(self, *, now: datetime, limit: int) -> list[WebhookDelivery]:
        cursor = (
            self._deliveries.find(
                {"status": DeliveryStatus.PENDING.value, "next_attempt_at": {"$lte": now}}
            )
            .sort([("next_attempt_at", ASCENDING), ("_id", ASCENDING)])
            .limit(limit)
        )
        return [from_document(WebhookDelivery, d) for d in await cursor.to_list(length=None)]

    async def deliveries(self, hook_id: str, *, limit: int) -> list[WebhookDelivery]:
        cursor = self._deliveries.find({"hook_id": hook_id}).sort("_id", DESCENDING).limit(limit)
        return [from_document(WebhookDelivery, d) for d in await cursor.to_list(length=None)]

    async def record_attempt(
        self,
        delivery_id: str,
        attempt: DeliveryAttempt,
        *,
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
    ) -> None:
        done = attempt.at if status is DeliveryStatus.DELIVERED else None
        await self._deliveries.update_one(
            {"_id": object_id(delivery_id, "delivery")},
            {
                "$push": {"attempts": entry_document(attempt)},
                "$set": {
                    "status": status.value,
                    "next_attempt_at": next_attempt_at,
                    "delivered_at": done,
                },
            },
        )

    async def purge_deliveries(self, *, before: datetime) -> int:
        over = [DeliveryStatus.DELIVERED.value, DeliveryStatus.FAILED.value]
        result = await self._deliveries.delete_many(
            {"status": {"$in": over}, "created_at": {"$lt": before}}
        )
        return result.deleted_count
