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
from core.ports import ApplicationRepository, BoardRepository, SquadRepository
from core.rules.operations import (
    ADD_APPLICATION,
    ADD_BOARD,
    ADD_SQUAD,
)
from core.rules.permissions import Actor


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
        ADD_APPLICATION.require(actor)
        return await self._applications.add(Application(**draft.model_dump()))

    async def create_squad(self, actor: Actor, draft: SquadDraft) -> Squad:
        ADD_SQUAD.require(actor)
        return await self._squads.add(Squad(**draft.model_dump()))

    async def create_board(self, actor: Actor, draft: JiraBoardDraft) -> JiraBoard:
        ADD_BOARD.require(actor)
        return await self._boards.add(JiraBoard(**draft.model_dump()))

    async def applications(self, actor: Actor) -> list[Application]:
        actor.require_active()
        return await self._applications.all()

    async def squads(self, actor: Actor) -> list[Squad]:
        actor.require_active()
        return await self._squads.all()

    async def for_release_form(self, actor: Actor) -> tuple[list[Squad], list[Application]]:
        """The squads and applications a release form offers, read together."""
        actor.require_active()
        return await self._squads.all_with(self._applications)

    async def boards(self, actor: Actor) -> list[JiraBoard]:
        actor.require_active()
        return await self._boards.all()
