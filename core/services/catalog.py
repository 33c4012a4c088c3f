"""The catalog: applications with products, squads and Jira boards."""

from __future__ import annotations

from core.errors import NotFound
from core.models.catalog import (
    Application,
    ApplicationDraft,
    JiraBoard,
    JiraBoardDraft,
    Squad,
    SquadDraft,
)
from core.ports import (
    ApplicationRepository,
    BoardRepository,
    ReleaseRepository,
    ReleaseWithCatalog,
    SquadRepository,
)
from core.rules.operations import (
    ADD_APPLICATION,
    ADD_BOARD,
    ADD_SQUAD,
)
from core.rules.permissions import Actor
from core.services.release_changes import visible_release


class CatalogService:
    def __init__(
        self,
        applications: ApplicationRepository,
        squads: SquadRepository,
        boards: BoardRepository,
        releases: ReleaseRepository,
    ) -> None:
        self._applications = applications
        self._squads = squads
        self._boards = boards
        self._releases = releases

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

    async def for_product_form(self, actor: Actor, ref: str) -> ReleaseWithCatalog:
        """The release ``ref`` names and the squads and applications its product form
        offers, read together. A release not found, or not the actor's to see, is refused
        by ``visible_release``, as every read by reference is (the same words, "did you
        mean"); should it be there after all (added meanwhile), the catalog is read apart."""
        actor.require_active()
        try:
            read = await self._releases.get_with_catalog(
                ref, squads=self._squads, applications=self._applications
            )
        except NotFound:
            release = await visible_release(self._releases, actor, ref)
            return ReleaseWithCatalog(release, *await self.for_release_form(actor))
        await visible_release(self._releases, actor, ref, read=read.release)
        return read

    async def boards(self, actor: Actor) -> list[JiraBoard]:
        actor.require_active()
        return await self._boards.all()
