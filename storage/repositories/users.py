"""Users: atomic field updates (no lost role grants), unique username, email, Slack identity."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from core.errors import Duplicate, Kind, NotFound
from core.models.common import is_object_id
from core.models.events import PendingEvents
from core.models.rbac import Delegation, SlackIdentity, User, UserStatus
from storage.codec import (
    entry_document,
    first_exact,
    folded,
    folded_field,
    from_document,
    object_id,
    to_document,
)
from storage.engine import Collection
from storage.errors import duplicate

FOLDED_USERNAME = folded_field("username")


class UserRepository:
    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    async def add(self, user: User) -> User:
        try:
            await self._collection.insert_one(to_document(user))
        except DuplicateKeyError as error:
            raise duplicate(error, "user") from None
        return user

    async def get(self, user_id: str) -> User:
        return self._found(
            await self._collection.find_one({"_id": object_id(user_id, "user", Kind.USER)}),
            user_id,
        )

    async def get_by_username(self, username: str) -> User:
        """One round trip, both clauses index-served. See ``storage.codec.first_exact``."""
        name = str(username).strip()
        query = {"$or": [{"username": name}, {FOLDED_USERNAME: folded(name)}]}
        return self._found(
            await self._collection.find_one(query, sort=first_exact("username")), name
        )

    async def usernames(self, *, limit: int) -> list[str]:
        cursor = self._collection.find({}, {"username": 1}).sort("username", 1).limit(limit)
        return [str(d["username"]) for d in await cursor.to_list(length=None)]

    async def get_many(self, user_ids: Sequence[str]) -> list[User]:
        oids = [object_id(u, "user") for u in user_ids if is_object_id(u)]
        docs = await self._collection.find({"_id": {"$in": oids}}).to_list(length=None)
        return [from_document(User, d) for d in docs]

    async def find_by_email(self, email: str) -> User | None:
        doc = await self._collection.find_one({"email": str(email).lower()})
        return None if doc is None else from_document(User, doc)

    async def find_by_slack(self, identity: SlackIdentity) -> User | None:
        doc = await self._collection.find_one(
            {"slack.team_id": identity.team_id, "slack.user_id": identity.user_id}
        )
        return None if doc is None else from_document(User, doc)

    async def all(self) -> list[User]:
        docs = await self._collection.find({}).sort("username", 1).to_list(length=None)
        return [from_document(User, d) for d in docs]

    async def list_with_roles(self, role_ids: Sequence[str]) -> list[User]:
        docs = await self._collection.find({"role_ids": {"$in": list(role_ids)}}).to_list(
            length=None
        )
        return [from_document(User, d) for d in docs]

    async def add_role(
        self, user_id: str, role_id: str, *, caused: PendingEvents | None = None
    ) -> User:
        return await self._update(user_id, {"$addToSet": {"role_ids": role_id}}, caused)

    async def remove_role(
        self, user_id: str, role_id: str, *, caused: PendingEvents | None = None
    ) -> User:
        return await self._update(user_id, {"$pull": {"role_ids": role_id}}, caused)

    async def set_slack(
        self, user_id: str, identity: SlackIdentity | None, *, caused: PendingEvents | None = None
    ) -> User:
        if identity is None:
            return await self._update(
                user_id, {"$unset": {"slack": ""}, "$set": {"auto_link": False}}, caused
            )
        try:
            change = {"$set": {"slack": identity.model_dump(), "auto_link": True}}
            return await self._update(user_id, change, caused)
        except DuplicateKeyError:
            # The only unique key an update can break; engines disagree on what they report.
            raise Duplicate(
                f"Slack user {identity.user_id} (team {identity.team_id}) is already linked to "
                "another portal user; unlink it there first.",
                fields={"slack_user_id": "Already linked"},
            ) from None

    async def set_status(
        self, user_id: str, status: UserStatus, *, caused: PendingEvents | None = None
    ) -> User:
        return await self._update(user_id, {"$set": {"status": status.value}}, caused)

    async def clear_outbox(self, user_id: str, entry_ids: Sequence[str]) -> None:
        await self._collection.update_one(
            {"_id": object_id(user_id, "user")},
            {"$pull": {"outbox": {"id": {"$in": list(entry_ids)}}}},
        )

    async def with_outbox(self, *, limit: int) -> list[User]:
        cursor = self._collection.find({"outbox.id": {"$exists": True}}).limit(limit)
        return [from_document(User, d) for d in await cursor.to_list(length=None)]

    async def set_time_zone(
        self, user_id: str, time_zone: str | None, *, checked_at: datetime | None = None
    ) -> User:
        change: dict[str, Any] = {"time_zone": time_zone} if time_zone else {}
        if checked_at is not None:
            change["time_zone_checked_at"] = checked_at
        if not change:
            return await self.get(user_id)
        return await self._update(user_id, {"$set": change})

    async def set_delegation(
        self, user_id: str, delegation: Delegation | None, *, caused: PendingEvents | None = None
    ) -> User:
        if delegation is None:
            return await self._update(user_id, {"$unset": {"delegation": ""}}, caused)
        return await self._update(
            user_id, {"$set": {"delegation": to_document(delegation)}}, caused
        )

    async def delegating_to(self, user_id: str, *, now: datetime) -> list[User]:
        query = {"delegation.delegate_user_id": user_id, "delegation.until": {"$gt": now}}
        cursor = self._collection.find(query).sort("username", 1)
        return [from_document(User, d) for d in await cursor.to_list(length=None)]

    async def away(self, *, now: datetime) -> list[User]:
        cursor = self._collection.find({"delegation.until": {"$gt": now}}).sort("username", 1)
        return [from_document(User, d) for d in await cursor.to_list(length=None)]

    async def _update(
        self, user_id: str, change: dict[str, Any], caused: PendingEvents | None = None
    ) -> User:
        if caused is not None:  # the change and what it caused: one write
            change = {**change, "$push": {"outbox": entry_document(caused)}}
        doc = await self._collection.find_one_and_update(
            {"_id": object_id(user_id, "user")}, change, return_document=ReturnDocument.AFTER
        )
        return self._found(doc, user_id)

    @staticmethod
    def _found(doc: dict[str, Any] | None, ref: str) -> User:
        if doc is None:
            raise NotFound(f"No user '{ref}'.", kind=Kind.USER, fields={"username": "Unknown"})
        return from_document(User, doc)
