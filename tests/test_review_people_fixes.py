"""Review fixes in identity and people: a role edited by roles-as-code counts at once on
every replica (no read per request), and a disabled user's clean-up survives a release that
refuses it (delegations end, votes elsewhere drop, the admin is not told an error)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from core.models.rbac import Permission, UserStatus
from core.models.release import Decision, MilestoneApproval
from core.services.container import build_services
from core.services.departures import Departures
from core.services.identity import CLOCK_SKEW, IdentityService
from storage.instrumented import RoundTrips
from storage.wiring import open_repositories
from tests.support import World, milestone
from tests.test_approval_policies import GATE, PAY, QA, QUORUM, person
from tests.test_rbac_apply import people, rbac

VIEWER_CREATES = """
    roles:
      - name: Viewer
        flags: [can_view_all, can_create_release]
"""


async def _replica(world: World) -> tuple[IdentityService, RoundTrips]:
    """Another process's IdentityService over the same database, its round trips counted."""
    trips = RoundTrips()
    repos = await open_repositories(trips.wrap(world.mongo))
    identity = IdentityService(
        repos.users, repos.roles, world.clock, world.services.outbox, repos.invitations
    )
    await identity.load()
    trips.reset()
    return identity, trips


async def test_a_role_edited_by_roles_as_code_counts_at_once_on_another_replica(
    world: World, tmp_path: Path
) -> None:
    await people(world)  # dana holds Viewer (can_view_all); rhea holds Release Manager
    other, trips = await _replica(world)
    dana = await world.repos.users.get_by_username("dana")
    rhea = await world.repos.users.get_by_username("rhea")
    before = await other.actor_by_id(dana.id)
    assert before.has(Permission.CAN_VIEW_ALL)
    assert not before.has(Permission.CAN_CREATE_RELEASE)
    assert trips.calls == {"users.find_one": 1}  # roles as kept: no read for them
    world.clock.advance(minutes=1)

    assert (await rbac(world, tmp_path, VIEWER_CREATES, "--apply"))[0] == 0
    trips.reset()
    after = await other.actor_by_id(dana.id)

    assert after.has(Permission.CAN_CREATE_RELEASE) and after.has(Permission.CAN_VIEW_ALL)
    assert trips.calls["roles.find"] == 1  # read again once, for the holder of the edited role
    stamped = await world.repos.users.get(dana.id)
    assert stamped.access_changed_at == world.clock()
    assert (await world.repos.users.get(rhea.id)).access_changed_at is None  # not a holder

    # Within the allowance for clocks that differ, a holder's actor reads the roles again;
    # once they were read past it, the roles kept serve every request.
    world.clock.advance(seconds=CLOCK_SKEW.total_seconds() + 1)
    await other.actor_by_id(dana.id)
    trips.reset()
    assert (await other.actor_by_id(dana.id)).has(Permission.CAN_CREATE_RELEASE)
    await other.actor_by_id(rhea.id)
    assert trips.calls == {"users.find_one": 2}


async def test_squads_set_by_roles_as_code_stamp_the_user_too(world: World, tmp_path: Path) -> None:
    await people(world)
    world.clock.advance(minutes=1)
    squads = "users:\n  - username: dana\n    roles: [Viewer]\n    squads: [checkout]\n"

    assert (await rbac(world, tmp_path, squads, "--apply"))[0] == 0

    dana = await world.repos.users.get_by_username("dana")
    assert dana.assigned_squad_ids == ["checkout"]
    assert dana.access_changed_at == world.clock()


# --- a disabled user's clean-up --------------------------------------------------------------

SOONER, LATER = "REL-2026.12", "REL-2027.01"


async def _asking(world: World, *release_ids: str) -> None:
    """Releases whose milestone go-live waits for the quorum (QA Lead 1, Payments Owner 2)."""
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    for release_id in release_ids:
        await world.release(release_id, gates=[GATE])
        await world.services.gates.add_milestone(
            rhea,
            release_id,
            "pay-api",
            GATE,
            milestone("go-live", 0, approval_required=True, approval_policy=QUORUM),
        )


async def _approval(world: World, release_id: str) -> MilestoneApproval:
    release = await world.repos.releases.get(release_id)
    return release.product("pay-api").gate(GATE).milestone("go-live").approval


async def test_one_release_that_refuses_leaves_the_rest_of_the_clean_up_done(
    world: World,
) -> None:
    await world.admin()
    await _asking(world, SOONER, LATER)
    pia, dana = await person(world, "pia", PAY), await person(world, "dana")
    await person(world, "quinn", QA)
    for release_id in (SOONER, LATER):
        await world.services.approvals.decide(
            pia, release_id, "pay-api", GATE, "go-live", Decision.APPROVE, None
        )
    admin = await world.admin_actor()
    until, utc = date(2026, 12, 24), ZoneInfo("UTC")
    await world.services.delegation.delegate(admin, "pia", until, utc, for_user="dana")
    await world.services.delegation.delegate(admin, "quinn", until, utc, for_user="pia")
    # The sooner release's stored version was edited by hand to text: every write to it,
    # conditioned on its version, misses, so each change to it ends in a Conflict.
    stored = await world.repos.releases.get(SOONER)
    await world.edit_stored("releases", {"release_id": SOONER}, {"version": str(stored.version)})

    change = await world.services.users.change_status(admin, "pia", UserStatus.DISABLED)

    assert change.user.status is UserStatus.DISABLED
    assert (await world.repos.users.get(pia.user_id)).status is UserStatus.DISABLED
    departure = change.departure
    assert departure is not None
    assert departure.delegations_ended == 2
    assert departure.votes_dropped == [(LATER, "go-live")]
    [left] = departure.not_undone
    assert left.startswith(f"votes in {SOONER}: ") and "is being changed by others" in left
    for someone in (pia, dana):
        assert (await world.repos.users.get(someone.user_id)).delegation is None
    assert (await _approval(world, LATER)).votes == []
    assert [v.username for v in (await _approval(world, SOONER)).votes] == ["pia"]


async def test_disabling_says_nothing_was_left_when_all_was_undone(world: World) -> None:
    await world.admin()
    await _asking(world, LATER)
    pia = await person(world, "pia", PAY)
    await world.services.approvals.decide(
        pia, LATER, "pay-api", GATE, "go-live", Decision.APPROVE, None
    )

    change = await world.services.users.change_status(
        await world.admin_actor(), "pia", UserStatus.DISABLED
    )

    assert change.departure is not None and change.departure.not_undone == []
    assert change.departure.votes_dropped == [(LATER, "go-live")]


async def test_storage_failing_during_the_clean_up_is_not_raised(world: World) -> None:
    """Called once the status is written: storage failing stops the clean-up, which says
    so (and disabling again finishes it) instead of raising to the admin."""
    await world.admin()
    await _asking(world, LATER)
    pia = await person(world, "pia", PAY)
    await world.services.approvals.decide(
        pia, LATER, "pay-api", GATE, "go-live", Decision.APPROVE, None
    )
    trips = RoundTrips()
    repos = await open_repositories(trips.wrap(world.mongo))
    services = build_services(repos, clock=world.clock)
    departures = Departures(repos.releases, services.outbox, world.clock, services.delegation)
    trips.outage = ConnectionError("MongoDB went away")

    departure = await departures.after_disabled(pia.user)

    assert departure.not_undone == [
        "the rest of the clean-up (storage failed); disable them again to finish it"
    ]
    assert [v.username for v in (await _approval(world, LATER)).votes] == ["pia"]
    trips.outage = None
    again = await departures.after_disabled(pia.user)
    assert again.votes_dropped == [(LATER, "go-live")] and again.not_undone == []
