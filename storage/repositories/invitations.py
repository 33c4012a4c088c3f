"""Invitations (``invitations``): one document each; accepting or revoking one is a write
conditioned on its being open still."""

from __future__ import annotations

from datetime import datetime

from pymongo import DESCENDING

from core.errors import NotFound
from core.models.common import is_object_id
from core.models.invitation import Invitation, InvitationStatus
from storage.codec import from_document, object_id, to_document
from storage.engine import Collection

_INVITED = InvitationStatus.INVITED.value


class InvitationRepository:
    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    async def add(self, invitation: Invitation) -> Invitation:
        await self._collection.insert_one(to_document(invitation))
        return invitation

    async def get(self, invitation_id: str) -> Invitation:
        doc = await self._collection.find_one({"_id": object_id(invitation_id, "invitation")})
        if doc is None:
            raise NotFound(
                f"No invitation with id '{invitation_id}'.", fields={"id": "Unknown invitation"}
            )
        return from_document(Invitation, doc)

    async def find_open(self, email: str, *, now: datetime) -> Invitation | None:
        cursor = (
            self._collection.find(
                {"email": email.lower(), "state": _INVITED, "expires_at": {"$gt": now}}
            )
            .sort("_id", DESCENDING)
            .limit(1)
        )
        found = await cursor.to_list(length=1)
        return from_document(Invitation, found[0]) if found else None

    async def all(self, *, limit: int) -> list[Invitation]:
        cursor = self._collection.find({}).sort("_id", DESCENDING).limit(limit)
        return [from_document(Invitation, d) for d in await cursor.to_list(length=None)]

    async def accept(self, invitation_id: str, *, user_id: str, now: datetime) -> bool:
        return await self._close(
            invitation_id,
            now,
            {
                "state": InvitationStatus.ACCEPTED.value,
                "accepted_at": now,
                "accepted_user_id": user_id,
            },
        )

    async def revoke(self, invitation_id: str, *, by: str, now: datetime) -> bool:
        return await self._close(
            invitation_id,
            now,
            {"state": InvitationStatus.REVOKED.value, "revoked_at": now, "revoked_by_username": by},
        )

    async def _close(self, invitation_id: str, now: datetime, fields: dict[str, object]) -> bool:
        if not is_object_id(invitation_id):
            return False
        result = await self._collection.update_one(
            {
                "_id": object_id(invitation_id, "invitation"),
                "state": _INVITED,
                "expires_at": {"$gt": now},
            },
            {"$set": fields},
        )
        return result.modified_count == 1

    async def purge(self, *, ended_before: datetime) -> int:
        result = await self._collection.delete_many(
            {
                "$or": [
                    {"state": _INVITED, "expires_at": {"$lt": ended_before}},
                    {
                        "state": InvitationStatus.REVOKED.value,
                        "revoked_at": {"$lt": ended_before},
                    },
                ]
            }
        )
        return result.deleted_count
