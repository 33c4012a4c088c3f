"""UserService.change_access: roles granted and revoked and the status set as one change,
judged as a whole before anything is written — a refusal of any part changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core.errors import Conflict, NotFound, PermissionDenied, RuleViolation, ValidationFailed
from core.models.events import AccessChanged
from core.models.rbac import Permission, RoleDraft, User, UserStatus
from core.rules.permissions import Actor
from core.services.identity import ADMIN_ROLE_NAME
from core.services.users import (
    LOCK_LEASE,
    ROLE_MANAGERS_LOCK,
    AccessChange,
    UserService,
    is_acting_admin,
)
from tests.support import World
from tests.test_last_admin import admin


async def with_roles(world: World, actor: Actor) -> None:
    roles = world.services.roles
    await roles.create(actor, RoleDraft(role_name="Release Manager", can_create_release=True))
    await roles.create(actor, RoleDraft(role_name="Viewer", can_view_all=True))
    await roles.create(actor, RoleDraft(role_name="Owner", can_manage_roles=True))


def change(**fields: Any) -> AccessChange:
    return AccessChange.model_validate(fields)


async def stored(world: World, username: str) -> User:
    return await world.repos.users.get_by_username(username)


async def role_names(world: World, username: str) -> list[str]:
    held = (await stored(world, username)).role_ids
    return sorted(r.role_name for r in await world.repos.roles.get_many(held))


async def caused(world: World, username: str) -> list[str]:
    user = await stored(world, username)
    return [e.change for entry in user.outbox for e in entry.events if isinstance(e, AccessChanged)]


async def acting_admins(world: World) -> list[str]:
    managing = {r.id for r in await world.repos.roles.all() if r.can_manage_roles}
    return sorted(u.username for u in await world.repos.users.all() if is_acting_admin(u, managing))


async def snapshot(world: World) -> dict[str, Any]:
    """Every stored document, claims included: a refusal leaves no lease behind either."""
    return {**await world.snapshot(), "claims": await world.mongo["claims"].find({}).to_list(None)}


async def refused(world: World, actor: Actor, username: str, access: AccessChange) -> Exception:
    """What change_access raised, after checking that storage was left as it was."""
    before = await snapshot(world)
    with pytest.raises(Exception) as caught:
        await world.services.users.change_access(actor, username, access)
    assert await snapshot(world) == before
    return caught.value


# --- made -------------------------------------------------------------------------------------


async def test_grants_revokes_and_status_are_made_with_the_events_of_each(world: World) -> None:
    arjun = await admin(world, "arjun")
    await with_roles(world, arjun)
    await world.actor("dana", Permission.CAN_VIEW_ALL)
    await world.services.users.grant_role(arjun, "dana", "Viewer")

    user = await world.services.users.change_access(
        arjun,
        "DANA",
        change(grant_roles=["release manager"], revoke_roles=["viewer"], status="DISABLED"),
    )

    assert user == await stored(world, "dana")
    assert await role_names(world, "dana") == ["Release Manager", "can_view_all"]
    assert user.status is UserStatus.DISABLED
    assert await caused(world, "dana") == [
        "granted Viewer",
        "granted Release Manager",
        "revoked Viewer",
        "status DISABLED",
    ]


async def test_only_what_differs_is_written(world: World) -> None:
    arjun = await admin(world, "arjun")
    await with_roles(world, arjun)
    await world.actor("dana", Permission.CAN_VIEW_ALL)
    await world.services.users.grant_role(arjun, "dana", "Viewer")
    before = await snapshot(world)

    user = await world.services.users.change_access(
        arjun, "dana", change(grant_roles=["Viewer", "VIEWER"], status="ACTIVE")
    )

    assert await snapshot(world) == before
    assert user == await stored(world, "dana")


async def test_the_last_admin_rule_is_judged_on_the_result_as_a_whole(world: World) -> None:
    """Revoking Admin alone would leave nobody; granting Owner in the same change keeps
    arjun an administrator, so the change is made."""
    arjun = await admin(world, "arjun")
    await with_roles(world, arjun)

    await world.services.users.change_access(
        arjun, "arjun", change(grant_roles=["Owner"], revoke_roles=[ADMIN_ROLE_NAME])
    )

    assert await role_names(world, "arjun") == ["Owner"]
    assert await acting_admins(world) == ["arjun"]


# --- refused, nothing changed -------------------------------------------------------------------


@pytest.mark.parametrize(
    "access",
    [
        {"grant_roles": ["Viewer"], "revoke_roles": [ADMIN_ROLE_NAME]},
        {"grant_roles": ["Owner"], "status": "DISABLED"},
        {"grant_roles": ["Viewer"], "revoke_roles": [ADMIN_ROLE_NAME, "Owner"]},
    ],
    ids=["revoke", "disable", "revoke-both"],
)
async def test_a_change_leaving_no_admin_is_refused_before_any_grant(
    world: World, access: dict[str, Any]
) -> None:
    arjun = await admin(world, "arjun")
    await with_roles(world, arjun)
    if "Owner" in access.get("revoke_roles", []):
        await world.services.users.grant_role(arjun, "arjun", "Owner")

    error = await refused(world, arjun, "arjun", change(**access))

    assert isinstance(error, RuleViolation)
    assert "'arjun' is the last administrator" in error.message


async def test_revoking_a_role_not_held_refuses_the_whole_change(world: World) -> None:
    arjun = await admin(world, "arjun")
    await with_roles(world, arjun)
    await world.actor("dana", Permission.CAN_VIEW_ALL)

    error = await refused(
        world, arjun, "dana", change(grant_roles=["Release Manager"], revoke_roles=["Viewer"])
    )

    assert isinstance(error, RuleViolation)
    assert "does not have the role 'Viewer'" in error.message


async def test_an_unknown_role_refuses_the_whole_change_offering_close_names(
    world: World,
) -> None:
    arjun = await admin(world, "arjun")
    await with_roles(world, arjun)
    await world.actor("dana", Permission.CAN_VIEW_ALL)

    error = await refused(
        world, arjun, "dana", change(grant_roles=["Viewer"], revoke_roles=["Releas Manager"])
    )

    assert isinstance(error, NotFound)
    assert error.fields == {"revoke_roles": "Unknown role 'Releas Manager'"}
    assert error.suggestions[0] == "Release Manager"


async def test_a_role_both_granted_and_revoked_is_refused(world: World) -> None:
    arjun = await admin(world, "arjun")
    await with_roles(world, arjun)
    await world.actor("dana", Permission.CAN_VIEW_ALL)

    error = await refused(
        world, arjun, "dana", change(grant_roles=["Viewer"], revoke_roles=["viewer"])
    )

    assert isinstance(error, ValidationFailed)
    assert error.fields == {"revoke_roles": "Also granted"}
    assert "Viewer would be both granted and revoked" in error.message


async def test_an_unknown_user_is_not_found_and_nothing_changes(world: World) -> None:
    arjun = await admin(world, "arjun")
    await with_roles(world, arjun)
    await world.actor("dana", Permission.CAN_VIEW_ALL)

    error = await refused(world, arjun, "danna", change(grant_roles=["Viewer"]))

    assert isinstance(error, NotFound) and "dana" in error.suggestions


async def test_changing_access_needs_the_role_management_permission(world: World) -> None:
    arjun = await admin(world, "arjun")
    await with_roles(world, arjun)
    inviter = await world.actor("ines", Permission.CAN_INVITE_USERS)

    error = await refused(world, inviter, "ines", change(grant_roles=["Owner"]))

    assert isinstance(error, PermissionDenied) and "can_manage_roles" in error.message


# --- the lease ------------------------------------------------------------------------------------


def impatient(world: World) -> UserService:
    return UserService(
        world.repos.users,
        world.repos.roles,
        world.repos.claims,
        world.clock,
        world.services.outbox,
        lock_wait=timedelta(milliseconds=100),
    )


async def test_a_change_that_could_take_an_admin_out_waits_for_the_lease(world: World) -> None:
    """Held elsewhere: a change revoking a managing role is refused (CONFLICT) with nothing
    written; one that only grants needs no lease."""
    arjun = await admin(world, "arjun")
    await admin(world, "bea")
    await with_roles(world, arjun)
    assert await world.repos.claims.claim(
        ROLE_MANAGERS_LOCK, now=world.clock(), ttl=LOCK_LEASE, owner="another replica"
    )
    users = impatient(world)
    before = await snapshot(world)

    with pytest.raises(Conflict, match="try again"):
        await users.change_access(
            arjun, "bea", change(grant_roles=["Viewer"], revoke_roles=[ADMIN_ROLE_NAME])
        )
    assert await snapshot(world) == before

    await users.change_access(arjun, "bea", change(grant_roles=["Viewer"]))
    assert await role_names(world, "bea") == [ADMIN_ROLE_NAME, "Viewer"]
