"""API tokens: only the SHA-256 of each secret is stored, and never read back for a list."""

from __future__ import annotations

from datetime import datetime

from pymongo import DESCENDING, ReturnDocument

from core.errors import NotFound
from core.models.auth import ApiToken, StoredApiToken
from storage.codec import from_document, object_id, to_document
from storage.engine import Collection

_NO_HASH = {"secret_sha256": 0}


class ApiTokenRepository:
    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    async def add(self, token: StoredApiToken) -> StoredApiToken:
        await self._collection.insert_one(to_document(token))
        return token

    async def get(self, token_id: str) -> StoredApiToken:
        doc = await self._collection.find_one({"_id": object_id(token_id, "API token")})
        if doc is None:
            raise _unknown(token_id)
        return from_document(StoredApiToken, doc)

    async def for_user(self, user_id: str) -> list[ApiToken]:
        cursor = self._collection.find({"user_id": user_id}, _NO_HASH).sort("_id", DESCENDING)
        return [from_document(ApiToken, d) for d in await cursor.to_list(length=None)]

    async def revoke(self, token_id: str, *, at: datetime) -> ApiToken:
        oid = object_id(token_id, "API token")
        doc = await self._collection.find_one_and_update(
            {"_id": oid, "revoked_at": None},
            {"$set": {"revoked_at": at}},
            projection=_NO_HASH,
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:  # revoked already (it keeps its first time), or unknown
            doc = await self._collection.find_one({"_id": oid}, _NO_HASH)
        if doc is None:
            raise _unknown(token_id)
        return from_document(ApiToken, doc)

    async def touch(self, token_id: str, *, at: datetime) -> None:
        await self._collection.update_one(
            {"_id": object_id(token_id, "API token")}, {"$set": {"last_used_at": at}}
        )

    async def purge(self, *, ended_before: datetime) -> int:
        result = await self._collection.delete_many(
            {
                "$or": [
                    {"expires_at": {"$lt": ended_before}},
                    {"revoked_at": {"$ne": None, "$lt": ended_before}},
                ]
            }
        )
        return result.deleted_count


def _unknown(token_id: str) -> NotFound:
    return NotFound(f"No API token with id '{token_id}'.", fields={"token_id": "Unknown token"})
