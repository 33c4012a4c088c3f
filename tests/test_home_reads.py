"""App Home and the release form read what they show in one round trip each (issue 10):
``ApprovalService.home`` answers as ``pending_for`` and ``list_releases`` do, and
``CatalogService.for_release_form`` as ``squads`` and ``applications`` do."""

from __future__ import annotations

import os
from typing import Any

import mongomock
import pytest

from core.errors import PermissionDenied
from core.models.catalog import SquadDraft
from core.models.rbac import Permission
from core.models.release import Decision
from core.rules.readiness import card_of
from storage.codec import CARD_PROJECTION, DERIVED, SUMMARY
from tests.support import World, milestone

GATE = "Security scan"


@pytest.fixture
def world(any_world: World) -> World:
    return any_world


async def test_home_shows_what_the_approvals_and_the_release_list_show(world: World) -> None:
    await world.release("REL-A", squads=["payments"], gates=[GATE])
    await world.release("REL-B", squads=["cards"], gates=[GATE])
    await world.release("REL-C", squads=["payments"], on=world.clock().date())
    admin = await world.admin_actor()
    kim = await world.actor("kim", Permission.CAN_MANAGE_QUALITY_GATES, squads=["payments"])
    drafts = [
        ("REL-A", milestone("later", 5, approval_required=True)),
        ("REL-A", milestone("sooner", 1, approval_required=True)),
        ("REL-A", milestone("needs-am", 2, approval_required=True, requires_approval_manager=True)),
        ("REL-A", milestone("decided", 3, approval_required=True)),
        ("REL-B", milestone("other-squad", 0, approval_required=True)),
    ]
    for ref, draft in drafts:
        await world.services.gates.add_milestone(admin, ref, "pay-api", GATE, draft)
    arjun = await world.actor("arjun", Permission.IS_APPROVAL_MANAGER, Permission.CAN_VIEW_ALL)
    await world.services.approvals.decide(
        arjun, "REL-A", "pay-api", GATE, "decided", Decision.APPROVE
    )

    one = await world.services.approvals.home(kim, releases=1)
    two = await world.services.approvals.home(kim, releases=2)
    listed = await world.services.releases.list_releases(kim, limit=1)

    assert one.pending == two.pending == await world.services.approvals.pending_for(kim)
    assert [p.ref.milestone.milestone_key for p in one.pending] == ["sooner", "later"]
    assert [c.release_id for c in one.releases] == [c.release_id for c in listed.items]
    assert (one.more_releases, listed.next_cursor is not None) == (True, True)
    assert [c.release_id for c in two.releases] == ["REL-A", "REL-C"]
    assert not two.more_releases


@pytest.mark.parametrize("status", ["DISABLED", "INVITED"])
async def test_home_and_the_release_form_refuse_an_inactive_user(world: World, status: str) -> None:
    await world.release()
    ghost = await world.actor("ghost", *Permission, squads=["payments"], status=status)

    with pytest.raises(PermissionDenied):
        await world.services.approvals.home(ghost, releases=20)
    with pytest.raises(PermissionDenied):
        await world.services.catalog.for_release_form(ghost)


async def test_the_release_form_offers_the_squads_and_applications(world: World) -> None:
    admin = await world.admin()
    for squad_id in ("payments", "cards"):
        await world.services.catalog.create_squad(
            admin, SquadDraft(squad_id=squad_id, squad_name=squad_id.title())
        )
    await world.release("REL-A")
    reader = await world.actor("reader")

    squads, applications = await world.services.catalog.for_release_form(reader)

    assert squads == await world.services.catalog.squads(reader)
    assert applications == await world.services.catalog.applications(reader)
    assert [s.squad_id for s in squads] == ["cards", "payments"]
    assert [a.application_id for a in applications] == ["app-rel-a"]


async def test_home_summarizes_a_release_stored_without_a_current_summary(
    storage_world: World,
) -> None:
    """As an older version stored it (or one still running beside this one)."""
    world = storage_world
    stored = await world.release("REL-1")
    await world.release("REL-2")
    await world.mongo["releases"].update_one(
        {"release_id": "REL-1"}, {"$unset": {SUMMARY: "", DERIVED: ""}}
    )

    home = await world.repos.releases.home(squads=None, limit=0)

    assert [card.release_id for card in home.page] == ["REL-2", "REL-1"]
    assert home.page[1] == card_of(stored)


@pytest.mark.skipif(bool(os.environ.get("MONGO_TEST_URI")), reason="reads the embedded engine")
async def test_home_reads_cards_of_the_page_not_whole_releases(
    storage_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = storage_world
    for n in range(3):
        await world.release(f"REL-{n}")
    copied: list[list[str]] = []
    copy: Any = mongomock.collection.Collection._copy_only_fields

    def recording(self: Any, doc: Any, fields: Any, container: Any) -> Any:
        found = copy(self, doc, dict(fields) if fields else fields, container)
        copied.append(sorted(found))
        return found

    monkeypatch.setattr(mongomock.collection.Collection, "_copy_only_fields", recording)
    home = await world.repos.releases.home(squads=None, limit=2)

    assert [card.release_id for card in home.page] == ["REL-2", "REL-1"]
    assert copied == [sorted({"_id", *CARD_PROJECTION})] * 2
