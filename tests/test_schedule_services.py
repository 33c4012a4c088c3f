"""Digest and reminder services: what is due, for whom, and claimed exactly once."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from core.errors import PermissionDenied, ValidationFailed
from core.models.notification import approval_key
from core.models.rbac import Permission
from core.models.release import Decision
from core.rules.permissions import Actor
from core.services.container import build_services
from core.services.gates import MilestoneChange
from core.services.schedule import ReminderJob, ReminderKind
from storage.instrumented import RoundTrips
from storage.wiring import open_repositories
from tests.support import World, milestone

REL = "REL-2026.12"
GATE = "Security scan"


@pytest.fixture
def world(any_world: World) -> World:
    """Every test here runs on the in-memory fakes and on the storage adapters."""
    return any_world


async def manager(world: World, name: str = "rhea", tz: str | None = None) -> Actor:
    actor = await world.actor(name, Permission.CAN_CREATE_RELEASE, Permission.CAN_VIEW_ALL)
    if tz:
        await world.repos.users.set_time_zone(actor.user_id, tz)
        actor = await world.services.identity.actor_by_id(actor.user_id)
    return actor


async def quiet_root(world: World) -> None:
    """The all-flags admin behind world.release() is a release manager too; mute its digest."""
    await world.services.digests.set_personal(await world.admin_actor(), enabled=False)


def at_utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


async def test_release_manager_gets_a_dm_digest_at_nine_in_their_zone(world: World) -> None:
    await world.release(on=date(2026, 12, 10))
    await manager(world, "rhea", "Asia/Kolkata")
    await manager(world, "ny", "America/New_York")

    at_kolkata_nine = await world.services.digests.due(at_utc(1, 3, 30))
    at_new_york_nine = await world.services.digests.due(at_utc(1, 14, 0))

    assert [j.audience.user.username for j in at_kolkata_nine] == ["rhea"]
    assert [j.audience.user.username for j in at_new_york_nine] == ["ny"]
    assert [e.release.release_id for e in at_kolkata_nine[0].digest.entries] == [REL]


async def test_personal_digest_can_be_turned_off_or_moved(world: World) -> None:
    await world.release()
    await quiet_root(world)
    rhea = await manager(world)
    await world.services.digests.set_personal(rhea, enabled=False)
    assert await world.services.digests.due(at_utc(1, 9)) == []

    await world.services.digests.set_personal(rhea, enabled=True, at=time(7, 30))
    assert await world.services.digests.due(at_utc(1, 9)) != []  # within the grace period
    assert [j.key for j in await world.services.digests.due(at_utc(1, 7, 30))]


async def test_channel_subscription_is_picked_up_and_dropped_without_restart(world: World) -> None:
    await world.release()
    await quiet_root(world)
    rhea = await manager(world)
    await world.services.digests.set_personal(rhea, enabled=False)
    await world.services.digests.subscribe_channel(
        rhea, team_id="T1", channel_id="C1", at=time(10), time_zone="Europe/Paris"
    )

    jobs = await world.services.digests.due(at_utc(1, 9))  # 10:00 in Paris
    assert [(j.channel_id, j.key) for j in jobs] == [("C1", "digest:channel:T1:C1:2026-12-01")]

    await world.services.digests.unsubscribe_channel(rhea, team_id="T1", channel_id="C1")
    assert await world.services.digests.due(at_utc(1, 9)) == []


async def test_subscribing_needs_a_release_manager_and_a_real_zone(world: World) -> None:
    dana = await world.actor("dana", squads=["payments"])
    rhea = await manager(world)
    before = await world.snapshot()
    with pytest.raises(PermissionDenied):
        await world.services.digests.subscribe_channel(
            dana, team_id="T1", channel_id="C1", at=None, time_zone=None
        )
    with pytest.raises(ValidationFailed, match="unknown time zone"):
        await world.services.digests.subscribe_channel(
            rhea, team_id="T1", channel_id="C1", at=None, time_zone="Mars/Base"
        )
    assert await world.snapshot() == before


async def test_digest_shows_only_what_the_audience_may_see_within_the_window(world: World) -> None:
    await world.release("REL-PAY", squads=["payments"], on=date(2026, 12, 5))
    await world.release("REL-OPS", squads=["ops"], on=date(2026, 12, 6))
    await world.release("REL-LATER", squads=["payments"], on=date(2027, 3, 1))
    dana = await world.actor("dana", squads=["payments"])

    digest = await world.services.digests.digest_for(dana, date(2026, 12, 1))

    assert [e.release.release_id for e in digest.entries] == ["REL-PAY"]


async def test_digest_run_costs_a_constant_number_of_queries(storage_world: World) -> None:
    world = storage_world  # it counts database round trips: on the storage adapters only
    for n in range(12):
        await world.release(f"REL-{n:02d}", on=date(2026, 12, 2 + n % 5))
    for name in ("rhea", "maya", "omar"):
        await manager(world, name)
    await quiet_root(world)
    trips = RoundTrips()
    repos = await open_repositories(trips.wrap(world.mongo))
    services = build_services(repos, clock=world.clock)
    trips.reset()

    jobs = await services.digests.due(at_utc(1, 9))

    assert len(jobs) == 3 and all(len(j.digest.entries) == 12 for j in jobs)
    assert trips.total == 4  # subscriptions, roles, users, releases


async def _pending(world: World, *, requires_manager: bool = True) -> None:
    await world.release(gates=[GATE])
    admin = await world.admin_actor()
    draft = milestone(
        "go-live", 5, approval_required=True, requires_approval_manager=requires_manager
    )
    await world.services.gates.add_milestone(admin, REL, "pay-api", GATE, draft)


async def test_reminders_once_per_interval_to_each_decider(world: World) -> None:
    world.clock.now = at_utc(1, 9)
    await _pending(world)
    arjun = await world.actor("arjun", Permission.IS_APPROVAL_MANAGER, Permission.CAN_VIEW_ALL)

    assert [
        j
        for j in await world.services.reminders.due(at_utc(1, 12))
        if j.recipient.user_id == arjun.user_id
    ] == []
    first = [
        j
        for j in await world.services.reminders.due(at_utc(1, 13))
        if j.recipient.user_id == arjun.user_id
    ]
    later = [
        j
        for j in await world.services.reminders.due(at_utc(1, 16))
        if j.recipient.user_id == arjun.user_id
    ]
    second = [
        j
        for j in await world.services.reminders.due(at_utc(1, 17))
        if j.recipient.user_id == arjun.user_id
    ]

    assert [j.kind for j in first] == [ReminderKind.REMIND]
    assert first[0].key == later[0].key  # same interval: same delivery key, sent once
    assert second[0].key != first[0].key


async def test_no_reminders_in_quiet_hours_of_the_persons_zone(world: World) -> None:
    world.clock.now = at_utc(1, 9)
    await _pending(world)
    arjun = await world.actor("arjun", Permission.IS_APPROVAL_MANAGER, Permission.CAN_VIEW_ALL)
    await world.repos.users.set_time_zone(arjun.user_id, "Asia/Kolkata")

    quiet = await world.services.reminders.due(at_utc(1, 16))  # 21:30 in Kolkata
    awake = await world.services.reminders.due(at_utc(2, 3))  # 08:30 in Kolkata

    assert all(j.recipient.user_id != arjun.user_id for j in quiet)
    assert any(j.recipient.user_id == arjun.user_id for j in awake)


async def test_snoozed_person_is_not_reminded_until_it_ends(world: World) -> None:
    world.clock.now = at_utc(1, 13)
    await _pending(world)
    arjun = await world.actor("arjun", Permission.IS_APPROVAL_MANAGER, Permission.CAN_VIEW_ALL)
    release = await world.repos.releases.get(REL)
    key = approval_key(release.id, "pay-api", GATE, "go-live")

    await world.services.reminders.snooze(arjun, key, "4h")

    def for_arjun(jobs: list[ReminderJob]) -> list[ReminderJob]:
        return [j for j in jobs if j.recipient.user_id == arjun.user_id]

    assert for_arjun(await world.services.reminders.due(at_utc(1, 16, 59))) == []
    assert for_arjun(await world.services.reminders.due(at_utc(1, 17))) != []


async def test_release_managers_are_told_after_the_escalation_delay(world: World) -> None:
    world.clock.now = at_utc(1, 9)
    await _pending(world)
    rhea = await manager(world)

    early = await world.services.reminders.due(at_utc(2, 8, 59))
    late = await world.services.reminders.due(at_utc(2, 9))

    assert not [
        j for j in early if j.kind is ReminderKind.ESCALATE and j.recipient.user_id == rhea.user_id
    ]
    [escalation] = [
        j for j in late if j.kind is ReminderKind.ESCALATE and j.recipient.user_id == rhea.user_id
    ]
    assert escalation.pending_for == timedelta(hours=24)


async def test_decided_approval_is_no_longer_reminded(world: World) -> None:
    world.clock.now = at_utc(1, 9)
    await _pending(world, requires_manager=False)
    admin = await world.admin_actor()
    await world.services.gates.update_milestone(
        admin, REL, "pay-api", GATE, "go-live", MilestoneChange(milestone_name="Go live!")
    )
    arjun = await world.actor("arjun", Permission.IS_APPROVAL_MANAGER, Permission.CAN_VIEW_ALL)
    assert await world.services.reminders.due(at_utc(1, 14))  # renamed, still pending
    await world.services.approvals.decide(arjun, REL, "pay-api", GATE, "go-live", Decision.APPROVE)

    assert await world.services.reminders.due(at_utc(1, 14)) == []


async def test_claims_are_taken_once_retried_after_the_lease_and_final_once_done(
    world: World,
) -> None:
    claims = world.repos.claims
    lease = timedelta(minutes=5)
    now = at_utc(1, 9)

    assert await claims.claim("digest:x", now=now, ttl=lease)
    assert not await claims.claim("digest:x", now=now + timedelta(minutes=1), ttl=lease)
    assert await claims.claim("digest:x", now=now + lease, ttl=lease)  # the first sender died

    await claims.complete("digest:x", now=now + lease)
    assert not await claims.claim("digest:x", now=now + timedelta(days=1), ttl=lease)

    assert await claims.claim("digest:y", now=now, ttl=lease)
    await claims.release("digest:y")  # the send failed: retry at once
    assert await claims.claim("digest:y", now=now, ttl=lease)


async def test_old_claims_are_purged_but_recent_ones_kept(world: World) -> None:
    claims = world.repos.claims
    now = at_utc(10, 9)
    lease = timedelta(hours=1)
    await claims.claim("event:old", now=now - timedelta(days=3), ttl=lease)
    await claims.claim("event:recent", now=now - timedelta(hours=2), ttl=lease)
    await claims.claim("digest:old-done", now=now - timedelta(days=9), ttl=lease)
    await claims.complete("digest:old-done", now=now - timedelta(days=9))
    await claims.claim("digest:done", now=now - timedelta(days=1), ttl=lease)
    await claims.complete("digest:done", now=now - timedelta(days=1))

    deleted = await claims.purge(
        before=now - timedelta(days=1), done_before=now - timedelta(days=7)
    )

    assert deleted == 2
    kept = {d["key"] for d in await world.stored("claims")}
    assert kept == {"event:recent", "digest:done"}
    assert not await claims.claim("digest:done", now=now, ttl=lease)  # still guards its day
