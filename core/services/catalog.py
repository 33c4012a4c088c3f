"""The catalog: applications with products, squads and Jira boards."""

from __future__ import annotations

from core.models.catalog import (
    Application,
    ApplicationDraft,
    JiraBoard,
    JiraBoardDraft,
    Squad,
    SquadDraft,
)
from core.models.rbac import Permission
from core.ports import ApplicationRepository, BoardRepository, SquadRepository
from core.rules.permissions import Actor

# Keeping the catalog is an admin's job (SPEC §1); the role-management flag marks admins.
CATALOG_PERMISSION = Permission.CAN_MANAGE_ROLES


class CatalogService:
    def __init__(
        self,
        applications: ApplicationRepository,
        squads: SquadRepository,
        boards: BoardRepository,
    ) -> None:
        self._applications = applications
        self._squads = squads
        self._boards = boards

    async def create_application(self, actor: Actor, draft: ApplicationDraft) -> Application:
        actor.require(CATALOG_PERMISSION, "add an application to the catalog")
        return await self._applications.add(Application(**draft.model_dump()))

    async def create_squad(self, actor: Actor, draft: SquadDraft) -> Squad:
        actor.require(CATALOG_PERMISSION, "add a squad to the catalog")
        return await self._squads.add(Squad(**draft.model_dump()))

    async def create_board(self, actor: Actor, draft: JiraBoardDraft) -> JiraBoard:
        actor.require(CATALOG_PERMISSION, "add a Jira board to the catalog")
        return await self._boards.add(JiraBoard(**draft.model_dump()))

    async def applications(self, actor: Actor) -> list[Application]:
        actor.require_active()
        return await self._applications.all()

    async def squads(self, actor: Actor) -> list[Squad]:
        actor.require_active()
        return await self._squads.all()

    async def boards(self, actor: Actor) -> list[JiraBoard]:
        actor.require_active()
        return await self._boards.all()
