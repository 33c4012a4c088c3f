"""The round-trip budget of the core operations, so a slower access pattern fails a test.

Counts come from storage.instrumented.RoundTrips wrapped around the test database: one per
``collection.method`` call, a cursor once when its results are fetched.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import mongomock
import pytest

from core.errors import DomainError, PermissionDenied
from core.models.catalog import SquadDraft
from core.models.rbac import Permission
from core.models.release import ApprovalStatus, Decision, GateStatus, Release
from core.ports import ReleaseWithCatalog
from core.rules.approvals import ApprovalPolicy
from core.services.container import build_services
from core.services.gates import GateChange
from core.services.outbox import Entry
from storage.codec import to_document
from storage.engine import Database
from storage.instrumented import RoundTrips
from storage.wiring import open_repositories
from tests.support import T0, FrozenClock, World, milestone

REL = "REL-2026.12"
GATE = "Security scan"
# On the caller's path: read, write the change with its entry and events (the outbox),
# append the entry to the timeline. Reactions and the outbox clean-up follow off that path.
READ_WRITE_RECORD = {
    "releases.find_one": 1,
    "releases.update_one": 1,
    "events.insert_many": 1,
}


@dataclass
class Counted:
    world: World
    trips: RoundTrips


@pytest.fixture
async def counted(db: Database, clock: FrozenClock, policy: ApprovalPolicy) -> Counted:
    """A world whose every database call is counted; reset the counter before measuring."""
    trips = RoundTrips()
    repos = await open_repositories(trips.wrap(db))
    services = build_services(repos, clock=clock, policy=policy)
    return Counted(World(db=db, repos=repos, services=services, clock=clock), trips)


async def test_reading_a_release_is_one_find_one(counted: Counted) -> None:
    world, trips = counted.world, counted.trips
    await world.release(gates=[GATE])
    vik = await world.actor("vik", squads=["payments"])
    trips.reset()

    release = await world.services.releases.get(vik, REL)

    assert release.release_id == REL
    assert trips.calls == {"releases.find_one": 1}


async def test_the_product_form_reads_its_release_with_the_catalog_in_one_round_trip(
    counted: Counted,
) -> None:
    world, trips = counted.world, counted.trips
    await world.release(gates=[GATE])
    await world.release("REL-2027.01", squads=["platform"])
    await world.services.catalog.create_squad(
        await world.admin_actor(), SquadDraft(squad_id="payments", squad_name="Payments")
    )
    vik = await world.actor("vik", squads=["payments"])
    trips.reset()

    read = await world.services.catalog.for_product_form(vik, " rel-2026.12 ")

    assert trips.calls == {"releases.aggregate": 1}
    squads, applications = await world.services.catalog.for_release_form(vik)
    assert read == ReleaseWithCatalog(await world.repos.releases.get(REL), squads, applications)
    assert [s.squad_id for s in read.squads] == ["payments"]
    assert [a.application_id for a in read.applications] == ["app-rel-2026-12", "app-rel-2027-01"]


async def test_the_product_form_refuses_in_the_words_of_any_release_read_and_writes_nothing(
    counted: Counted,
) -> None:
    """Unknown, another squad's (read as unknown) or asked by a disabled account: what
    ``ReleaseService.get`` says, "did you mean" included."""
    world, trips = counted.world, counted.trips
    await world.release(gates=[GATE])
    await world.release("REL-2027.01", squads=["platform"])
    vik = await world.actor("vik", squads=["payments"])
    gone = await world.actor("gone", Permission.CAN_VIEW_ALL, status="DISABLED")
    before = await world.snapshot()
    asked = [(vik, "REL-2026.13"), (vik, "REL-2027.01"), (vik, "rel-2027.01 "), (gone, REL)]

    told: list[tuple[str, str, tuple[str, ...]]] = []
    for actor, ref in asked:
        for read in (world.services.catalog.for_product_form, world.services.releases.get):
            with pytest.raises(DomainError) as caught:
                await read(actor, ref)
            error = caught.value
            told.append((type(error).__name__, error.message, getattr(error, "suggestions", ())))
    trips.reset()
    with pytest.raises(PermissionDenied):
        await world.services.catalog.for_product_form(gone, REL)

    assert told[0::2] == told[1::2]  # the product form's words, then the release read's
    assert told[0] == ("NotFound", "No release 'REL-2026.13'.", (REL,))
    assert told[2][:2] == ("NotFound", "No release 'REL-2027.01'.")  # not another squad's
    assert told[4][:2] == ("NotFound", "No release 'rel-2027.01'.")
    assert all("REL-2027.01" not in suggested for _, _, suggested in told)
    assert told[6][0] == "PermissionDenied"
    assert trips.total == 0  # a disabled account is refused before any read
    assert await world.snapshot() == before


@pytest.mark.skipif(bool(os.environ.get("MONGO_TEST_URI")), reason="reads the embedded engine")
async def test_the_product_form_looks_at_its_one_release_of_many(
    counted: Counted, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The release part's leading $match is served by the index, as ``get``'s find_one is:
    one release document looked at of 300, not the collection."""
    world = counted.world
    await world.release(gates=[GATE])
    await world.mongo["releases"].insert_many(
        [to_document(stored_release(f"REL-{n:04}")) for n in range(300)]
    )
    vik = await world.actor("vik", squads=["payments"])
    looked_at: list[str] = []
    applies: Any = mongomock.filtering.filter_applies

    def recording(query: Any, doc: Any) -> Any:
        if "release_id" in doc:
            looked_at.append(doc["release_id"])
        return applies(query, doc)

    monkeypatch.setattr(mongomock.filtering, "filter_applies", recording)
    read = await world.services.catalog.for_product_form(vik, REL)

    assert read.release.release_id == REL
    assert looked_at == [REL]


def stored_release(release_id: str) -> Release:
    return Release(
        release_id=release_id,
        release_name=f"Release {release_id}",
        release_date=date(2026, 12, 1),
        squad_ids=["payments"],
        created_by="someone",
        created_at=T0,
    )


async def test_gate_update_is_a_read_a_conditional_write_and_its_outbox_delivered(
    counted: Counted,
) -> None:
    world, trips = counted.world, counted.trips
    await world.release(gates=[GATE])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    trips.reset()

    await world.services.gates.update_gate(
        rhea, REL, "pay-api", GATE, GateChange(gate_status=GateStatus.PASSED)
    )

    assert trips.calls == READ_WRITE_RECORD
    stored = await world.repos.releases.get(REL)
    assert stored.product("pay-api").gate(GATE).gate_status is GateStatus.PASSED


async def test_adding_a_milestone_costs_three_round_trips(counted: Counted) -> None:
    world, trips = counted.world, counted.trips
    await world.release(gates=[GATE])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    trips.reset()

    await world.services.gates.add_milestone(
        rhea, REL, "pay-api", GATE, milestone("scan-uat", 0, approval_required=True)
    )

    assert trips.calls == READ_WRITE_RECORD
    stored = await world.repos.releases.get(REL)
    assert [m.milestone_key for m in stored.product("pay-api").gate(GATE).milestones] == [
        "scan-uat"
    ]


async def test_deciding_an_approval_costs_three_round_trips(counted: Counted) -> None:
    world, trips = counted.world, counted.trips
    await world.release(gates=[GATE])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    arjun = await world.actor("arjun", Permission.IS_APPROVAL_MANAGER, Permission.CAN_VIEW_ALL)
    draft = milestone("scan-uat", 0, approval_required=True, requires_approval_manager=True)
    await world.services.gates.add_milestone(rhea, REL, "pay-api", GATE, draft)
    trips.reset()

    release = await world.services.approvals.decide(
        arjun, REL, "pay-api", GATE, "scan-uat", Decision.APPROVE
    )

    assert trips.calls == READ_WRITE_RECORD
    approval = release.product("pay-api").gate(GATE).milestone("scan-uat").approval
    assert approval.status is ApprovalStatus.APPROVED


async def test_every_page_of_the_release_list_is_one_query(counted: Counted) -> None:
    world, trips = counted.world, counted.trips
    for n in range(5):
        await world.release(f"REL-2026.{n + 1:02d}", squads=["payments" if n % 2 else "cards"])
    lead = await world.actor("lead", Permission.CAN_VIEW_ALL)
    vik = await world.actor("vik", squads=["payments"])

    pages = []
    cursor: str | None = None
    for _ in range(3):
        trips.reset()
        page = await world.services.releases.list_releases(lead, cursor=cursor, limit=2)
        assert trips.calls == {"releases.find": 1}
        pages.append([r.release_id for r in page.items])
        cursor = page.next_cursor
    trips.reset()
    scoped = await world.services.releases.list_releases(vik, query="rel", limit=20)

    assert trips.calls == {"releases.find": 1}
    assert pages == [
        ["REL-2026.05", "REL-2026.04"],
        ["REL-2026.03", "REL-2026.02"],
        ["REL-2026.01"],
    ]
    assert [r.release_id for r in scoped.items] == ["REL-2026.04", "REL-2026.02"]


async def test_refusals_that_need_no_data_make_no_round_trips(counted: Counted) -> None:
    world, trips = counted.world, counted.trips
    await world.release(gates=[GATE])
    vik = await world.actor("vik", Permission.CAN_VIEW_ALL)
    before = await world.snapshot()
    trips.reset()

    with pytest.raises(PermissionDenied, match="can_manage_quality_gates"):
        await world.services.gates.add_milestone(vik, REL, "pay-api", GATE, milestone("m1", 0))
    with pytest.raises(PermissionDenied, match="can_manage_quality_gates"):
        await world.services.gates.update_gate(vik, REL, "pay-api", GATE, GateChange(order=3))

    assert trips.total == 0
    assert await world.snapshot() == before


async def test_refused_gate_status_change_reads_the_release_and_writes_nothing(
    counted: Counted,
) -> None:
    """One read, not zero: which rule a status change falls under depends on the stored gate.

    Setting the status a gate already has is a no-op anyone may make, and waiving a gate that
    is not yet waived needs is_approval_manager instead of can_manage_quality_gates, so the
    refusal is decided after loading the release, and nothing is written.
    """
    world, trips = counted.world, counted.trips
    await world.release(gates=[GATE])
    vik = await world.actor("vik", Permission.CAN_VIEW_ALL)
    before = await world.snapshot()
    trips.reset()

    with pytest.raises(PermissionDenied, match="can_manage_quality_gates"):
        await world.services.gates.update_gate(
            vik, REL, "pay-api", GATE, GateChange(gate_status=GateStatus.PASSED)
        )

    assert trips.calls == {"releases.find_one": 1}
    assert await world.snapshot() == before


async def test_a_change_that_changes_nothing_only_reads(counted: Counted) -> None:
    world, trips = counted.world, counted.trips
    await world.release(gates=[GATE])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    trips.reset()

    await world.services.gates.update_gate(
        rhea, REL, "pay-api", GATE, GateChange(gate_status=GateStatus.NOT_STARTED)
    )

    assert trips.calls == {"releases.find_one": 1}
    events = await world.repos.timeline.for_release(
        (await world.repos.releases.get(REL)).id, limit=50
    )
    assert not any(e.action.startswith("gate.updated") for e in events)


async def test_reacting_to_a_change_is_a_read_a_claim_a_clean_up_and_a_completion(
    counted: Counted,
) -> None:
    world, trips = counted.world, counted.trips
    jobs: list[Callable[[], Awaitable[None]]] = []

    async def react(_release: Release | None, _entry: Entry) -> None:
        return None

    async def run_jobs() -> None:
        while jobs:
            await jobs.pop(0)()

    world.services.outbox.connect(react, later=jobs.append)
    await world.release(gates=[GATE])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    await run_jobs()
    await world.services.gates.update_gate(
        rhea, REL, "pay-api", GATE, GateChange(gate_status=GateStatus.PASSED)
    )
    trips.reset()

    await run_jobs()

    assert trips.calls == {
        "releases.aggregate": 1,  # the release as it is now, with only its own entry
        "claims.insert_one": 1,  # claimed
        "releases.update_one": 1,  # left the outbox
        "claims.update_one": 1,  # completed
    }


async def test_a_change_that_causes_no_event_leaves_the_outbox_in_one_write_unread(
    counted: Counted,
) -> None:
    world, trips = counted.world, counted.trips
    jobs: list[Callable[[], Awaitable[None]]] = []

    async def react(_release: Release | None, _entry: Entry) -> None:
        return None

    world.services.outbox.connect(react, later=jobs.append)
    await world.release()
    while jobs:
        await jobs.pop(0)()
    admin = await world.admin_actor()
    await world.services.releases.edit_description(admin, REL, "Nothing follows from this")
    trips.reset()

    while jobs:
        await jobs.pop(0)()

    assert trips.calls == {"releases.update_one": 1}
    assert (await world.repos.releases.get(REL)).outbox == []
