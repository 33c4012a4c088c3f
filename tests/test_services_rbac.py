"""Roles, users and Slack identities: who may administer, and who is who."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

import pytest

from core.errors import Duplicate, NotFound, PermissionDenied, RuleViolation
from core.models.common import new_id
from core.models.events import AccessChanged
from core.models.rbac import Permission, RoleDraft, SlackIdentity, User, UserDraft, UserStatus
from core.models.release import Release, ReleaseDraft
from core.passwords import verify_password
from core.rules.permissions import Actor
from core.services.identity import ADMIN_ROLE_NAME
from core.services.outbox import Entry
from tests.support import World

RHEA = SlackIdentity(team_id="T1", user_id="U1")
MAYA = SlackIdentity(team_id="T1", user_id="U2")


@pytest.fixture
def world(any_world: World) -> World:
    """Every test here runs on the in-memory fakes and on the storage adapters."""
    return any_world


async def admin_of_roles(world: World, username: str = "ada") -> Actor:
    """A role manager linked to Slack, so an administrator who can act."""
    actor = await world.actor(username, Permission.CAN_MANAGE_ROLES, Permission.CAN_INVITE_USERS)
    identity = SlackIdentity(team_id="T1", user_id=f"U{username.upper()}")
    return await world.services.identity.actor_for(
        await world.repos.users.set_slack(actor.user_id, identity)
    )


def new_user(username: str = "rhea", **extra: object) -> UserDraft:
    return UserDraft.model_validate(
        {
            "username": username,
            "full_name": username.title(),
            "email": f"{username}@example.com",
            **extra,
        }
    )


async def stored_user(world: World, username: str) -> User:
    return await world.repos.users.get_by_username(username)


# --- roles ----------------------------------------------------------------------------------


async def test_create_role_stores_its_flags_and_lists_it(world: World) -> None:
    ada = await admin_of_roles(world)

    created = await world.services.roles.create(
        ada, RoleDraft(role_name="Release manager", can_create_release=True)
    )

    roles = {r.role_name: r for r in await world.services.roles.list_roles(ada)}
    assert roles["Release manager"].id == created.id
    assert roles["Release manager"].permissions() == {Permission.CAN_CREATE_RELEASE}
    assert roles["Release manager"].created_by == ada.user_id


async def test_create_role_without_permission_is_denied(world: World) -> None:
    mia = await world.actor("mia", Permission.CAN_INVITE_USERS)
    before = await world.snapshot()

    with pytest.raises(PermissionDenied, match="can_manage_roles"):
        await world.services.roles.create(mia, RoleDraft(role_name="Sneaky", can_manage_roles=True))

    assert await world.snapshot() == before


async def test_a_second_role_with_the_same_name_is_a_duplicate(world: World) -> None:
    ada = await admin_of_roles(world)
    await world.services.roles.create(ada, RoleDraft(role_name="QA"))

    with pytest.raises(Duplicate) as caught:
        await world.services.roles.create(ada, RoleDraft(role_name="QA"))

    assert "role_name" in caught.value.fields


# --- users ----------------------------------------------------------------------------------


async def test_create_user_stores_a_bcrypt_hash_not_the_password(world: World) -> None:
    ada = await admin_of_roles(world)

    created = await world.services.users.create(ada, new_user(password="correct horse"))

    [stored] = [u for u in await world.stored("users") if u["username"] == "rhea"]
    assert "correct horse" not in str(stored)
    assert stored["password_hash"].startswith("$2")
    assert verify_password("correct horse", stored["password_hash"])
    assert not verify_password("wrong horse", stored["password_hash"])
    assert created.password_hash == stored["password_hash"]


async def test_create_user_lower_cases_the_email(world: World) -> None:
    ada = await admin_of_roles(world)

    await world.services.users.create(ada, new_user(email="Rhea.Smith@Example.COM"))

    assert (await stored_user(world, "rhea")).email == "rhea.smith@example.com"
    with pytest.raises(Duplicate) as caught:
        await world.services.users.create(ada, new_user("rhea2", email="RHEA.SMITH@example.com"))
    assert "email" in caught.value.fields


async def test_create_user_with_roles_grants_their_permissions(world: World) -> None:
    ada = await admin_of_roles(world)
    role = await world.services.roles.create(
        ada, RoleDraft(role_name="RM", can_create_release=True)
    )

    created = await world.services.users.create(ada, new_user(role_ids=[role.id]))

    actor = await world.services.identity.actor_by_id(created.id)
    assert actor.has(Permission.CAN_CREATE_RELEASE)
    assert actor.role_names == ["RM"]


async def test_create_user_without_permission_is_denied(world: World) -> None:
    roler = await world.actor("rolf", Permission.CAN_MANAGE_ROLES)
    before = await world.snapshot()

    with pytest.raises(PermissionDenied, match="can_invite_users"):
        await world.services.users.create(roler, new_user())

    assert await world.snapshot() == before


@pytest.mark.parametrize("role_id", [new_id(), "not-an-id"])
async def test_create_user_with_an_unknown_role_is_refused(world: World, role_id: str) -> None:
    ada = await admin_of_roles(world)
    before = await world.snapshot()

    with pytest.raises(NotFound):
        await world.services.users.create(ada, new_user(role_ids=[role_id]))

    assert await world.snapshot() == before


# --- Slack identities -------------------------------------------------------------------------


async def test_linked_slack_person_resolves_to_the_user_until_unlinked(world: World) -> None:
    ada = await admin_of_roles(world)
    await world.services.users.create(ada, new_user())

    await world.services.users.link_slack(ada, "rhea", RHEA)
    resolved = await world.services.identity.resolve(RHEA)
    await world.services.users.unlink_slack(ada, RHEA)

    assert resolved is not None and resolved.user.username == "rhea"
    assert await world.services.identity.resolve(RHEA) is None
    assert (await stored_user(world, "rhea")).slack is None


async def test_link_slack_without_permission_is_denied(world: World) -> None:
    ada = await admin_of_roles(world)
    await world.services.users.create(ada, new_user())
    inviter = await world.actor("ivy", Permission.CAN_INVITE_USERS)
    before = await world.snapshot()

    with pytest.raises(PermissionDenied, match="can_manage_roles"):
        await world.services.users.link_slack(inviter, "rhea", RHEA)

    assert await world.snapshot() == before


async def test_linking_a_slack_person_already_linked_elsewhere_is_a_duplicate(
    world: World,
) -> None:
    ada = await admin_of_roles(world)
    await world.services.users.create(ada, new_user("rhea"))
    await world.services.users.create(ada, new_user("maya"))
    await world.services.users.link_slack(ada, "rhea", RHEA)

    with pytest.raises(Duplicate):
        await world.services.users.link_slack(ada, "maya", RHEA)

    assert (await stored_user(world, "maya")).slack is None


async def test_unlinking_a_slack_person_nobody_has_is_not_found(world: World) -> None:
    ada = await admin_of_roles(world)

    with pytest.raises(NotFound, match="U1"):
        await world.services.users.unlink_slack(ada, RHEA)


# --- granting and revoking ----------------------------------------------------------------------


async def test_grant_role_gives_its_permissions_on_the_next_action(world: World) -> None:
    ada = await admin_of_roles(world)
    await world.services.users.create(ada, new_user())
    await world.services.roles.create(ada, RoleDraft(role_name="RM", can_create_release=True))

    await world.services.users.grant_role(ada, "rhea", "RM")

    rhea = await world.services.identity.actor_for(await stored_user(world, "rhea"))
    created = await world.services.releases.create(
        rhea, ReleaseDraft(release_id="REL-1", release_name="One", release_date=date(2026, 12, 10))
    )
    assert created.created_by == rhea.user_id


async def test_revoking_a_role_the_user_does_not_hold_is_refused(world: World) -> None:
    ada = await admin_of_roles(world)
    await world.services.users.create(ada, new_user())
    await world.services.roles.create(ada, RoleDraft(role_name="RM"))
    before = await world.snapshot()

    with pytest.raises(RuleViolation, match="RM"):
        await world.services.users.revoke_role(ada, "rhea", "RM")

    assert await world.snapshot() == before


async def test_the_last_role_manager_cannot_lose_the_role(world: World) -> None:
    ada = await admin_of_roles(world)
    before = await world.snapshot()

    with pytest.raises(RuleViolation, match="last administrator"):
        await world.services.users.revoke_role(ada, "ada", "can_invite_users+can_manage_roles")

    assert await world.snapshot() == before


async def test_the_last_role_manager_cannot_be_disabled(world: World) -> None:
    ada = await admin_of_roles(world)
    before = await world.snapshot()

    with pytest.raises(RuleViolation, match="last administrator"):
        await world.services.users.set_status(ada, "ada", UserStatus.DISABLED)

    assert await world.snapshot() == before


async def test_a_disabled_role_manager_does_not_count_as_another_admin(world: World) -> None:
    ada = await admin_of_roles(world)
    await admin_of_roles(world, "bob")
    await world.services.users.set_status(ada, "bob", UserStatus.DISABLED)

    with pytest.raises(RuleViolation):
        await world.services.users.set_status(ada, "ada", UserStatus.DISABLED)

    assert (await stored_user(world, "ada")).status is UserStatus.ACTIVE


async def test_role_management_can_be_handed_over_to_another_active_admin(world: World) -> None:
    ada = await admin_of_roles(world)
    await admin_of_roles(world, "bob")
    role = "can_invite_users+can_manage_roles"

    await world.services.users.revoke_role(ada, "ada", role)
    bob = await world.services.identity.actor_for(await stored_user(world, "bob"))
    await world.services.users.set_status(bob, "ada", UserStatus.DISABLED)

    ada_now = await stored_user(world, "ada")
    assert ada_now.role_ids == []
    assert ada_now.status is UserStatus.DISABLED


async def test_a_user_keeping_another_managing_role_may_lose_one(world: World) -> None:
    ada = await admin_of_roles(world)
    await world.services.roles.create(ada, RoleDraft(role_name="Owner", can_manage_roles=True))
    await world.services.users.grant_role(ada, "ada", "Owner")

    await world.services.users.revoke_role(ada, "ada", "can_invite_users+can_manage_roles")

    ada_now = await world.services.identity.actor_by_id(ada.user_id)
    assert ada_now.role_names == ["Owner"]
    assert ada_now.has(Permission.CAN_MANAGE_ROLES)


async def test_a_disabled_user_is_refused_everything(world: World) -> None:
    ada = await admin_of_roles(world)
    await world.actor("dora", *Permission)
    await world.services.users.set_status(ada, "dora", UserStatus.DISABLED)
    dora = await world.services.identity.actor_for(await stored_user(world, "dora"))
    draft = ReleaseDraft(release_id="REL-1", release_name="One", release_date=date(2026, 12, 10))
    before = await world.snapshot()

    with pytest.raises(PermissionDenied, match="disabled"):
        await world.services.releases.create(dora, draft)
    with pytest.raises(PermissionDenied):
        await world.services.releases.list_releases(dora)
    with pytest.raises(PermissionDenied):
        await world.services.roles.list_roles(dora)
    with pytest.raises(PermissionDenied):
        await world.services.users.grant_role(dora, "dora", "all-flags")

    assert await world.snapshot() == before


# --- identity: first contact and bootstrap -------------------------------------------------------


async def test_link_by_email_links_the_portal_user_whatever_the_case(world: World) -> None:
    ada = await admin_of_roles(world)
    await world.services.users.create(ada, new_user(email="rhea@example.com"))

    actor = await world.services.identity.link_by_email(RHEA, "RHEA@Example.com")

    assert actor is not None and actor.user.username == "rhea"
    assert (await stored_user(world, "rhea")).slack == RHEA
    resolved = await world.services.identity.resolve(RHEA)
    assert resolved is not None and resolved.user_id == actor.user_id


async def test_link_by_email_does_not_take_a_user_linked_to_someone_else(world: World) -> None:
    ada = await admin_of_roles(world)
    await world.services.users.create(ada, new_user())
    await world.services.users.link_slack(ada, "rhea", RHEA)

    assert await world.services.identity.link_by_email(MAYA, "rhea@example.com") is None
    assert (await stored_user(world, "rhea")).slack == RHEA


@pytest.mark.parametrize("email", ["nobody@example.com", None, ""])
async def test_link_by_email_without_a_matching_user_links_nothing(
    world: World, email: str | None
) -> None:
    ada = await admin_of_roles(world)
    await world.services.users.create(ada, new_user())
    before = await world.snapshot()

    assert await world.services.identity.link_by_email(RHEA, email) is None
    assert await world.snapshot() == before


async def test_bootstrap_admin_creates_the_admin_role_and_user(world: World) -> None:
    actor = await world.services.identity.bootstrap_admin(
        RHEA, email="rhea@example.com", full_name="Rhea Smith", username_hint="rhea"
    )

    admin_role = await world.repos.roles.get(ADMIN_ROLE_NAME)
    assert admin_role.permissions() == set(Permission)
    assert actor.permissions == set(Permission)
    stored = await stored_user(world, "rhea")
    assert (stored.full_name, stored.email, stored.slack) == (
        "Rhea Smith",
        "rhea@example.com",
        RHEA,
    )
    assert stored.role_ids == [admin_role.id]


async def test_bootstrap_admin_links_the_portal_user_with_that_email(world: World) -> None:
    ada = await admin_of_roles(world)
    await world.services.users.create(ada, new_user("rhea.s", email="rhea@example.com"))

    actor = await world.services.identity.bootstrap_admin(
        RHEA, email="Rhea@Example.com", full_name="Rhea", username_hint="rhea"
    )

    assert actor.user.username == "rhea.s"
    assert actor.has(Permission.CAN_MANAGE_ROLES)
    assert (await stored_user(world, "rhea.s")).slack == RHEA
    assert len(await world.repos.users.all()) == 2


async def test_bootstrap_admin_twice_changes_nothing_the_second_time(world: World) -> None:
    first = await world.services.identity.bootstrap_admin(
        RHEA, email="rhea@example.com", full_name="Rhea", username_hint="rhea"
    )
    before = await world.snapshot()

    second = await world.services.identity.bootstrap_admin(
        RHEA, email="rhea@example.com", full_name="Rhea", username_hint="rhea"
    )

    assert second.user_id == first.user_id
    assert await world.snapshot() == before


async def test_bootstrap_admin_picks_a_free_username(world: World) -> None:
    await world.actor("rhea")

    actor = await world.services.identity.bootstrap_admin(
        RHEA, email="rhea.new@example.com", full_name="Rhea", username_hint="rhea"
    )

    assert actor.user.username == "rhea-2"
    assert actor.user.slack == RHEA


async def test_bootstrap_admin_works_for_a_slack_person_without_email(world: World) -> None:
    actor = await world.services.identity.bootstrap_admin(
        RHEA, email=None, full_name="Rhea", username_hint="rhea"
    )

    assert actor.has(Permission.CAN_MANAGE_ROLES)


async def test_an_inviter_without_role_management_cannot_hand_out_roles(world: World) -> None:
    inviter = await world.actor("ina", Permission.CAN_INVITE_USERS)
    admin = await world.admin()
    admin_role = await world.repos.roles.get("all-flags")
    before = await world.snapshot()

    with pytest.raises(PermissionDenied, match="can_manage_roles"):
        await world.services.users.create(inviter, new_user("mallory", role_ids=[admin_role.id]))
    assert await world.snapshot() == before

    plain = await world.services.users.create(inviter, new_user("nora"))
    assert plain.role_ids == []
    granted = await world.services.users.create(admin, new_user("omar", role_ids=[admin_role.id]))
    assert granted.role_ids == [admin_role.id]


async def test_an_unlinked_user_is_not_linked_again_by_email_until_an_admin_links_them(
    world: World,
) -> None:
    admin = await world.admin()
    await world.services.users.create(admin, new_user("rhea"))
    assert await world.services.identity.link_by_email(RHEA, "rhea@example.com") is not None

    await world.services.users.unlink_slack(admin, RHEA)

    assert await world.services.identity.link_by_email(RHEA, "rhea@example.com") is None
    assert (await world.repos.users.get_by_username("rhea")).slack is None
    with pytest.raises(RuleViolation, match="admin must link it explicitly"):
        await world.services.identity.bootstrap_admin(
            RHEA, email="rhea@example.com", full_name="Rhea", username_hint="rhea"
        )

    await world.services.users.link_slack(admin, "rhea", RHEA)
    assert (await world.repos.users.get_by_username("rhea")).auto_link is True


# --- what access changes cause ----------------------------------------------------------------


async def caused(world: World, username: str) -> list[AccessChanged]:
    """The access events waiting in the user's outbox (no reactions in this process)."""
    user = await stored_user(world, username)
    return [e for entry in user.outbox for e in entry.events if isinstance(e, AccessChanged)]


async def test_every_access_change_stores_what_it_caused_with_it(world: World) -> None:
    ada = await admin_of_roles(world)
    await world.services.roles.create(ada, RoleDraft(role_name="RM", can_create_release=True))
    await world.services.roles.create(ada, RoleDraft(role_name="QA", can_view_all=True))
    rm = await world.repos.roles.get("RM")
    users = world.services.users

    await users.create(ada, new_user("rhea", role_ids=[rm.id]))
    await users.grant_role(ada, "rhea", "QA")
    await users.link_slack(ada, "rhea", RHEA)
    await users.revoke_role(ada, "rhea", "RM")
    await users.set_status(ada, "rhea", UserStatus.DISABLED)
    await users.unlink_slack(ada, RHEA)

    rhea = await stored_user(world, "rhea")
    assert [(e.user_id, e.change) for e in await caused(world, "rhea")] == [
        (rhea.id, "made with roles"),
        (rhea.id, "granted QA"),
        (rhea.id, "linked to Slack user U1"),
        (rhea.id, "revoked RM"),
        (rhea.id, "status DISABLED"),
        (rhea.id, "unlinked from Slack"),
    ]


async def test_a_refused_access_change_causes_nothing(world: World) -> None:
    ada = await admin_of_roles(world)
    await world.services.users.create(ada, new_user("rhea"))
    await world.services.roles.create(ada, RoleDraft(role_name="RM", can_create_release=True))
    maya = await world.actor("maya", Permission.CAN_VIEW_ALL)
    before = await world.snapshot()

    with pytest.raises(PermissionDenied):
        await world.services.users.grant_role(maya, "rhea", "RM")

    assert await caused(world, "rhea") == []
    assert await world.snapshot() == before


async def test_an_access_change_reaches_the_reactions_once_then_leaves_the_outbox(
    world: World,
) -> None:
    ada = await admin_of_roles(world)
    await world.services.users.create(ada, new_user("rhea"))
    await world.services.roles.create(ada, RoleDraft(role_name="RM", can_create_release=True))
    handed: list[tuple[object, list[object]]] = []
    jobs: list[Callable[[], Awaitable[None]]] = []

    async def react(release: Release | None, entry: Entry) -> None:
        handed.append((release, list(entry.events)))

    world.services.outbox.connect(react, later=jobs.append)
    granted = await world.services.users.grant_role(ada, "rhea", "RM")
    for job in jobs:
        await job()
    again = await world.services.outbox.dispatch_pending()

    rhea = granted.user.id
    assert handed == [(None, [AccessChanged(user_id=rhea, change="granted RM")])]
    assert again == 0 and (await stored_user(world, "rhea")).outbox == []
