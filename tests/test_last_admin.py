"""The last administrator who can act (ACTIVE, can manage roles, linked to Slack) cannot be
revoked, disabled or unlinked by any path — not even by two admins racing each other."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from core.errors import Conflict, RuleViolation
from core.models.rbac import Permission, RoleDraft, SlackIdentity, User, UserStatus
from core.rules.permissions import Actor
from core.services.identity import ADMIN_ROLE_NAME
from core.services.users import LOCK_LEASE, ROLE_MANAGERS_LOCK, UserService, is_acting_admin
from tests.support import World

ITERATIONS = 30


def slack_id(username: str) -> SlackIdentity:
    return SlackIdentity(team_id="T1", user_id=f"U{username.upper()}")


async def admin(world: World, username: str) -> Actor:
    """A portal user with the Admin role, linked to Slack: the real bootstrap path."""
    return await world.services.identity.bootstrap_admin(
        slack_id(username),
        email=f"{username}@example.com",
        full_name=username.title(),
        username_hint=username,
    )


async def acting_admins(world: World) -> list[str]:
    managing = {r.id for r in await world.repos.roles.all() if r.can_manage_roles}
    return sorted(u.username for u in await world.repos.users.all() if is_acting_admin(u, managing))


async def stored(world: World, username: str) -> User:
    return await world.repos.users.get_by_username(username)


async def snapshot(world: World) -> dict[str, Any]:
    """Every stored document, including claims: a refusal must leave no lock behind."""
    return {**await world.snapshot(), "claims": await world.mongo["claims"].find({}).to_list(None)}


# --- each path, refused when last ------------------------------------------------------------


async def test_the_last_admin_cannot_revoke_their_own_admin_role(world: World) -> None:
    arjun = await admin(world, "arjun")
    before = await snapshot(world)

    with pytest.raises(RuleViolation) as refused:
        await world.services.users.revoke_role(arjun, "arjun", ADMIN_ROLE_NAME)

    assert refused.value.message == (
        "'arjun' is the last administrator who can manage roles from Slack; grant the Admin "
        "role to someone else (active and linked to Slack) first, or nobody could administer "
        "releasebot."
    )
    assert await snapshot(world) == before


@pytest.mark.parametrize("status", [UserStatus.DISABLED, UserStatus.INVITED])
async def test_the_last_admin_cannot_be_disabled(world: World, status: UserStatus) -> None:
    arjun = await admin(world, "arjun")
    before = await snapshot(world)

    with pytest.raises(RuleViolation, match="'arjun' is the last administrator"):
        await world.services.users.set_status(arjun, "arjun", status)

    assert await snapshot(world) == before


async def test_the_last_admin_cannot_be_unlinked_from_slack(world: World) -> None:
    arjun = await admin(world, "arjun")
    before = await snapshot(world)

    with pytest.raises(RuleViolation, match="'arjun' is the last administrator"):
        await world.services.users.unlink_slack(arjun, slack_id("arjun"))

    assert await snapshot(world) == before
    assert (await stored(world, "arjun")).slack == slack_id("arjun")


# --- each path, allowed when another admin can act --------------------------------------------


async def test_revoke_is_allowed_when_another_admin_can_act(world: World) -> None:
    arjun = await admin(world, "arjun")
    await admin(world, "bea")

    await world.services.users.revoke_role(arjun, "arjun", ADMIN_ROLE_NAME)

    assert (await stored(world, "arjun")).role_ids == []
    assert await acting_admins(world) == ["bea"]


async def test_disable_is_allowed_when_another_admin_can_act(world: World) -> None:
    arjun = await admin(world, "arjun")
    await admin(world, "bea")

    await world.services.users.set_status(arjun, "bea", UserStatus.DISABLED)

    assert (await stored(world, "bea")).status is UserStatus.DISABLED
    assert await acting_admins(world) == ["arjun"]


async def test_unlink_is_allowed_when_another_admin_can_act(world: World) -> None:
    arjun = await admin(world, "arjun")
    await admin(world, "bea")

    await world.services.users.unlink_slack(arjun, slack_id("arjun"))

    assert (await stored(world, "arjun")).slack is None
    assert await acting_admins(world) == ["bea"]


# --- who counts as another admin -----------------------------------------------------------------


async def test_an_admin_not_linked_to_slack_does_not_count(world: World) -> None:
    arjun = await admin(world, "arjun")
    await admin(world, "bea")
    await world.services.users.unlink_slack(arjun, slack_id("bea"))
    before = await snapshot(world)

    for change in CHANGES.values():
        with pytest.raises(RuleViolation, match="last administrator"):
            await change(world, arjun, "arjun")

    assert await snapshot(world) == before


async def test_a_disabled_admin_does_not_count(world: World) -> None:
    arjun = await admin(world, "arjun")
    await admin(world, "bea")
    await world.services.users.set_status(arjun, "bea", UserStatus.DISABLED)

    with pytest.raises(RuleViolation, match="last administrator"):
        await world.services.users.revoke_role(arjun, "arjun", ADMIN_ROLE_NAME)

    assert await acting_admins(world) == ["arjun"]


async def test_any_role_that_can_manage_roles_counts_not_only_admin(world: World) -> None:
    arjun = await admin(world, "arjun")
    await world.services.roles.create(arjun, RoleDraft(role_name="Owner", can_manage_roles=True))
    await world.repos.users.set_slack(
        (await world.actor("otto", Permission.CAN_VIEW_ALL)).user_id, slack_id("otto")
    )
    await world.services.users.grant_role(arjun, "otto", "Owner")

    await world.services.users.revoke_role(arjun, "arjun", ADMIN_ROLE_NAME)

    assert await acting_admins(world) == ["otto"]


async def test_revoking_a_role_that_cannot_manage_roles_is_never_refused(world: World) -> None:
    arjun = await admin(world, "arjun")
    await world.services.roles.create(arjun, RoleDraft(role_name="Viewer", can_view_all=True))
    await world.services.users.grant_role(arjun, "arjun", "Viewer")

    await world.services.users.revoke_role(arjun, "arjun", "Viewer")

    assert await acting_admins(world) == ["arjun"]
    assert [r.role_name for r in await world.repos.roles.get_many(
        (await stored(world, "arjun")).role_ids
    )] == [ADMIN_ROLE_NAME]  # fmt: skip


# --- the lock ------------------------------------------------------------------------------------


def impatient(world: World) -> UserService:
    return UserService(
        world.repos.users,
        world.repos.roles,
        world.repos.claims,
        world.clock,
        world.services.outbox,
        lock_wait=timedelta(milliseconds=100),
    )


async def test_while_another_change_holds_the_lock_a_change_is_refused_as_a_conflict(
    world: World,
) -> None:
    arjun = await admin(world, "arjun")
    await admin(world, "bea")
    assert await world.repos.claims.claim(
        ROLE_MANAGERS_LOCK, now=world.clock(), ttl=LOCK_LEASE, owner="another replica"
    )
    before = await snapshot(world)

    with pytest.raises(Conflict, match="try again"):
        await impatient(world).revoke_role(arjun, "bea", ADMIN_ROLE_NAME)

    assert await snapshot(world) == before  # and the other holder's lock is untouched


async def test_a_lock_left_by_a_dead_replica_is_taken_over_once_its_lease_ran_out(
    world: World,
) -> None:
    arjun = await admin(world, "arjun")
    await admin(world, "bea")
    await world.repos.claims.claim(
        ROLE_MANAGERS_LOCK, now=world.clock(), ttl=LOCK_LEASE, owner="a dead replica"
    )
    world.clock.advance(seconds=LOCK_LEASE.total_seconds() + 1)

    await impatient(world).revoke_role(arjun, "bea", ADMIN_ROLE_NAME)

    assert await acting_admins(world) == ["arjun"]
    assert await world.mongo["claims"].count_documents({}) == 0


async def test_the_lock_is_released_after_success_and_after_refusal(world: World) -> None:
    arjun = await admin(world, "arjun")
    await admin(world, "bea")

    await world.services.users.set_status(arjun, "bea", UserStatus.DISABLED)
    with pytest.raises(RuleViolation):
        await world.services.users.set_status(arjun, "arjun", UserStatus.DISABLED)

    assert await world.mongo["claims"].count_documents({}) == 0


# --- races: two admins taking each other out at once leave one ----------------------------------

Change = Callable[[World, Actor, str], Awaitable[User]]


async def revoke(world: World, actor: Actor, username: str) -> User:
    return (await world.services.users.revoke_role(actor, username, ADMIN_ROLE_NAME)).user


def disable(world: World, actor: Actor, username: str) -> Awaitable[User]:
    return world.services.users.set_status(actor, username, UserStatus.DISABLED)


def unlink(world: World, actor: Actor, username: str) -> Awaitable[User]:
    return world.services.users.unlink_slack(actor, slack_id(username))


CHANGES: dict[str, Change] = {"revoke": revoke, "disable": disable, "unlink": unlink}


async def race(racing_world: World, first: Change, second: Change) -> tuple[object, object]:
    a = await admin(racing_world, "ada")
    b = await admin(racing_world, "bob")
    return await asyncio.gather(
        first(racing_world, a, "bob"), second(racing_world, b, "ada"), return_exceptions=True
    )


@pytest.mark.parametrize("iteration", range(ITERATIONS))
async def test_two_admins_revoking_each_other_at_once_leave_exactly_one(
    racing_world: World, iteration: int
) -> None:
    results = await race(racing_world, revoke, revoke)

    succeeded = [r for r in results if isinstance(r, User)]
    refused = [r for r in results if isinstance(r, RuleViolation)]
    assert len(succeeded) == 1 and len(refused) == 1, results
    assert "last administrator" in refused[0].message
    assert len(await acting_admins(racing_world)) == 1
    assert await racing_world.mongo["claims"].count_documents({}) == 0


@pytest.mark.parametrize("second", CHANGES)
@pytest.mark.parametrize("first", CHANGES)
@pytest.mark.parametrize("iteration", range(5))
async def test_any_two_shrinking_changes_at_once_leave_exactly_one(
    racing_world: World, first: str, second: str, iteration: int
) -> None:
    results = await race(racing_world, CHANGES[first], CHANGES[second])

    assert sum(isinstance(r, User) for r in results) == 1, results
    assert sum(isinstance(r, RuleViolation) for r in results) == 1, results
    assert len(await acting_admins(racing_world)) == 1
