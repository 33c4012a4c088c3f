"""The writes a roles file needs beyond the role and user repositories
(``core.services.roles.AccessEdits``): a role's flags, a user's squads, an outbox entry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ReturnDocument

from core.errors import Kind, NotFound
from core.models.events import PendingEvents
from core.models.rbac import Role, RoleFlags, User
from storage.codec import entry_document, from_document, object_id
from storage.engine import Collection


class AccessEditRepository:
    def __init__(self, roles: Collection, users: Collection) -> None:
        self._roles = roles
        self._users = users

    async def set_role_flags(self, role_id: str, flags: RoleFlags, description: str) -> Role:
        doc = await self._roles.find_one_and_update(
            {"_id": object_id(role_id, "role", Kind.ROLE)},
            {"$set": {**flags.model_dump(), "description": description}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            raise NotFound(f"No role with id '{role_id}'.", kind=Kind.ROLE)
        return from_document(Role, doc)

    async def set_squads(
        self, user_id: str, squad_ids: Sequence[str], *, caused: PendingEvents
    ) -> User:
        return await self._update(
            user_id,
            {
                "$set": {"assigned_squad_ids": list(squad_ids), "access_changed_at": caused.at},
                **_pushed(caused),
            },
        )

    async def add_to_outbox(self, user_id: str, caused: PendingEvents) -> User:
        """The entry, and the change's time as ``access_changed_at`` (one write): replicas
        that read the roles before it read them again for this user."""
        return await self._update(
            user_id, {"$set": {"access_changed_at": caused.at}, **_pushed(caused)}
        )

    async def _update(self, user_id: str, change: dict[str, Any]) -> User:
        doc = await self._users.find_one_and_update(
            {"_id": object_id(user_id, "user", Kind.USER)},
            change,
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            raise NotFound(f"No user with id '{user_id}'.", kind=Kind.USER)
        return from_document(User, doc)


def _pushed(caused: PendingEvents) -> dict[str, Any]:
    return {"$push": {"outbox": entry_document(caused)}}
