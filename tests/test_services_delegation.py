"""DelegationService and the user repository's delegation methods, on the fakes and on the
storage adapters: a refusal changes nothing, an admin's approval is recorded, a delegation
ends by itself."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.errors import NotFound, PermissionDenied, RuleViolation, ValidationFailed
from core.models.events import AccessChanged
from core.models.rbac import Delegation, Permission, User
from core.rules.permissions import Actor
from tests.support import T0, World

BERLIN = ZoneInfo("Europe/Berlin")
XMAS_EVE = date(2026, 12, 24)
XMAS_EVE_END_UTC = datetime(2026, 12, 25, 0, 0, tzinfo=UTC)


@pytest.fixture
def world(any_world: World) -> World:
    """Every test here runs on the in-memory fakes and on the storage adapters."""
    return any_world


async def fresh(world: World, actor: Actor) -> Actor:
    return await world.services.identity.actor_by_id(actor.user_id)


def changes(user: User) -> list[tuple[str, str]]:
    return [
        (e.user_id, e.change)
        for entry in user.outbox
        for e in entry.events
        if isinstance(e, AccessChanged)
    ]


async def test_delegating_stores_it_on_me_and_tells_both_of_us(world: World) -> None:
    arjun = await world.actor("arjun", Permission.IS_APPROVAL_MANAGER)
    dana = await world.actor("dana", Permission.IS_APPROVAL_MANAGER)

    user = await world.services.delegation.delegate(arjun, "Dana", XMAS_EVE, ZoneInfo("UTC"))

    stored = await world.repos.users.get(arjun.user_id)
    assert stored == user and stored.delegation == Delegation(
        delegate_user_id=dana.user_id,
        delegate_username="dana",
        until=XMAS_EVE_END_UTC,
        set_at=T0,
        set_by="arjun",
    )
    assert changes(stored) == [
        (arjun.user_id, "delegated decisions to dana until 2026-12-24"),
        (dana.user_id, "decides for arjun until 2026-12-24"),
    ]


async def test_the_day_ends_in_the_delegators_own_zone_when_known(world: World) -> None:
    arjun = await world.actor("arjun")
    dana = await world.actor("dana")
    await world.repos.users.set_time_zone(arjun.user_id, "Europe/Berlin")

    user = await world.services.delegation.delegate(
        await fresh(world, arjun), dana.user, XMAS_EVE, ZoneInfo("America/New_York")
    )

    assert user.delegation is not None
    assert user.delegation.until == datetime(2026, 12, 24, 23, 0, tzinfo=UTC)


async def test_refusals_change_nothing_in_storage(world: World) -> None:
    arjun = await world.actor("arjun", Permission.IS_APPROVAL_MANAGER)
    dana = await world.actor("dana")  # another role: lacks arjun's
    await world.actor("eve", Permission.IS_APPROVAL_MANAGER, status="DISABLED")
    before = await world.snapshot()
    delegate = world.services.delegation.delegate

    with pytest.raises(PermissionDenied) as lacking:
        await delegate(arjun, dana.user, XMAS_EVE, BERLIN)
    with pytest.raises(RuleViolation) as myself:
        await delegate(arjun, "arjun", XMAS_EVE, BERLIN)
    with pytest.raises(RuleViolation) as disabled:
        await delegate(arjun, "eve", XMAS_EVE, BERLIN)
    with pytest.raises(ValidationFailed) as past:
        await delegate(arjun, "dana", date(2026, 11, 30), BERLIN)
    with pytest.raises(NotFound) as unknown:
        await delegate(arjun, "nobody", XMAS_EVE, BERLIN)
    with pytest.raises(PermissionDenied) as not_admin:
        await delegate(dana, "arjun", XMAS_EVE, BERLIN, for_user="arjun")

    assert "dana cannot hold your vote" in lacking.value.message
    assert "You cannot name yourself" in myself.value.message
    assert "eve's account is disabled" in disabled.value.message
    assert "2026-11-30 has passed" in past.value.message
    assert "No user 'nobody'" in unknown.value.message
    assert "can_manage_roles" in not_admin.value.message
    assert await world.snapshot() == before


async def test_a_delegate_who_is_away_is_refused_and_nothing_changes(world: World) -> None:
    arjun = await world.actor("arjun", Permission.IS_APPROVAL_MANAGER)
    dana = await world.actor("dana", Permission.IS_APPROVAL_MANAGER)
    await world.actor("eve", Permission.IS_APPROVAL_MANAGER)
    await world.services.delegation.delegate(dana, "eve", XMAS_EVE, BERLIN)
    before = await world.snapshot()

    with pytest.raises(RuleViolation) as error:
        await world.services.delegation.delegate(arjun, "dana", XMAS_EVE, BERLIN)

    assert "dana is away themselves" in error.value.message
    assert await world.snapshot() == before


async def test_an_admin_sets_a_delegation_for_someone_and_approves_the_delegate(
    world: World,
) -> None:
    arjun = await world.actor("arjun", Permission.IS_APPROVAL_MANAGER)
    dana = await world.actor("dana")  # lacks arjun's role
    root = await world.admin()

    user = await world.services.delegation.delegate(
        root, "dana", XMAS_EVE, BERLIN, for_user="arjun"
    )

    assert user.id == arjun.user_id and user.delegation is not None
    assert (user.delegation.delegate_user_id, user.delegation.set_by) == (dana.user_id, "root")
    assert user.delegation.admin_approved_by == "root"
    assert (await world.repos.users.get(root.user_id)).delegation is None


async def test_a_delegation_ends_by_itself_at_the_end_of_its_day(world: World) -> None:
    arjun = await world.actor("arjun", Permission.IS_APPROVAL_MANAGER)
    dana = await world.actor("dana", Permission.IS_APPROVAL_MANAGER)
    service = world.services.delegation
    await service.delegate(arjun, "dana", XMAS_EVE, ZoneInfo("UTC"))

    world.clock.now = XMAS_EVE_END_UTC - timedelta(milliseconds=1)
    during = await service.standing(await fresh(world, dana))
    mine = await service.standing(await fresh(world, arjun))
    world.clock.now = XMAS_EVE_END_UTC
    after = await service.standing(await fresh(world, dana))
    arjun_after = await fresh(world, arjun)

    assert [u.username for u, _ in during.deciding_for] == ["arjun"]
    assert mine.away is not None and mine.away.delegate_username == "dana"
    assert after.deciding_for == [] and arjun_after.user.active_delegation(world.clock()) is None
    assert (await service.standing(arjun_after)).away is None


async def test_off_clears_it_and_tells_the_former_delegate(world: World) -> None:
    arjun = await world.actor("arjun", Permission.IS_APPROVAL_MANAGER)
    dana = await world.actor("dana", Permission.IS_APPROVAL_MANAGER)
    service = world.services.delegation
    await service.delegate(arjun, "dana", XMAS_EVE, BERLIN)

    done = await service.clear(await fresh(world, arjun))
    again = await service.clear(await fresh(world, arjun))

    stored = await world.repos.users.get(arjun.user_id)
    assert done.ended is not None and done.ended.delegate_username == "dana"
    assert again.ended is None and stored == done.delegator == again.delegator
    assert stored.delegation is None
    assert changes(stored)[-2:] == [
        (arjun.user_id, "ended the delegation to dana"),
        (dana.user_id, "no longer decides for arjun"),
    ]
    assert (await service.standing(await fresh(world, dana))).deciding_for == []


async def test_clearing_someone_elses_delegation_needs_an_admin(world: World) -> None:
    arjun = await world.actor("arjun", Permission.IS_APPROVAL_MANAGER)
    await world.actor("dana", Permission.IS_APPROVAL_MANAGER)
    eve = await world.actor("eve")
    await world.services.delegation.delegate(arjun, "dana", XMAS_EVE, BERLIN)
    before = await world.snapshot()

    with pytest.raises(PermissionDenied):
        await world.services.delegation.clear(eve, for_user="arjun")
    assert await world.snapshot() == before

    done = await world.services.delegation.clear(await world.admin(), for_user="arjun")
    assert done.ended is not None and done.delegator.id == arjun.user_id
    assert (await world.repos.users.get(arjun.user_id)).delegation is None


# --- the repository contract ----------------------------------------------------------------


def delegation_to(user: User, until: datetime) -> Delegation:
    return Delegation(
        delegate_user_id=user.id,
        delegate_username=user.username,
        until=until,
        set_at=T0,
        set_by="admin",
        admin_approved_by="admin",
    )


async def test_a_delegation_is_set_and_unset_on_its_user_alone(world: World) -> None:
    repos = world.repos
    arjun = (await world.actor("arjun")).user
    dana = (await world.actor("dana")).user
    delegation = delegation_to(dana, T0 + timedelta(days=1, microseconds=1500))

    set_ = await repos.users.set_delegation(arjun.id, delegation)
    read = await repos.users.get(arjun.id)
    unset = await repos.users.set_delegation(arjun.id, None)

    stored_until = T0 + timedelta(days=1, milliseconds=1)  # to the millisecond
    assert (
        set_.delegation == read.delegation == delegation.model_copy(update={"until": stored_until})
    )
    assert unset.delegation is None and (await repos.users.get(arjun.id)).delegation is None
    assert (await repos.users.get(dana.id)).delegation is None
    with pytest.raises(NotFound):
        await repos.users.set_delegation("0" * 24, None)


async def test_delegating_to_finds_those_whose_delegation_is_in_force(world: World) -> None:
    repos = world.repos
    dana = (await world.actor("dana")).user
    eve = (await world.actor("eve")).user
    for name, to, until in [
        ("zoe", dana, T0 + timedelta(days=2)),
        ("arjun", dana, T0 + timedelta(days=1)),
        ("omar", dana, T0),  # ended at T0: the end is exclusive
        ("rhea", eve, T0 + timedelta(days=1)),
    ]:
        user = (await world.actor(name)).user
        await repos.users.set_delegation(user.id, delegation_to(to, until))

    assert [u.username for u in await repos.users.delegating_to(dana.id, now=T0)] == [
        "arjun",
        "zoe",
    ]
    later = T0 + timedelta(days=1)
    assert [u.username for u in await repos.users.delegating_to(dana.id, now=later)] == ["zoe"]
    assert await repos.users.delegating_to("nobody", now=T0) == []
    assert [u.username for u in await repos.users.away(now=T0)] == ["arjun", "rhea", "zoe"]
    assert [u.username for u in await repos.users.away(now=later)] == ["zoe"]


async def test_a_user_stored_before_delegations_loads_without_one(storage_world: World) -> None:
    arjun = await storage_world.actor("arjun")
    users = storage_world.mongo["users"]
    await users.update_one({"username": "arjun"}, {"$unset": {"delegation": ""}})

    assert "delegation" not in (await users.find_one({"username": "arjun"}) or {"delegation": 1})
    loaded = await storage_world.repos.users.get(arjun.user_id)
    assert loaded.delegation is None and loaded.active_delegation(T0) is None
