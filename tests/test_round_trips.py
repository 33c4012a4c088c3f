"""The round-trip budget of the core operations, so a slower access pattern fails a test.

Counts come from storage.instrumented.RoundTrips wrapped around the test database: one per
``collection.method`` call, a cursor once when its results are fetched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from core.errors import PermissionDenied
from core.models.rbac import Permission
from core.models.release import ApprovalStatus, Decision, GateStatus, Release
from core.rules.approvals import ApprovalPolicy
from core.services.container import build_services
from core.services.gates import GateChange
from core.services.outbox import Entry
from storage.engine import Database
from storage.instrumented import RoundTrips
from storage.wiring import open_repositories
from tests.support import FrozenClock, World, milestone

REL = "REL-2026.12"
GATE = "Security scan"
# On the caller's path: read, write the change with its entry and events (the outbox),
# append the entry to the timeline. Reactions and the outbox clean-up follow off that path.
READ_WRITE_RECORD = {
    "releases.find_one": 1,
    "releases.replace_one": 1,
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
        "releases.find_one": 1,  # the release as it is now, not as it was written
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
