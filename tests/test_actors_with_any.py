"""Who may decide an approval is told with every role they hold: a flag that lets someone
decide and one that lets them see the release may come from two different roles."""

from __future__ import annotations

import pytest

from core.models.rbac import Permission, Role, User
from core.services.approvals import pending_in
from tests.support import T0, World, milestone

GATE = "Security scan"


@pytest.fixture
def world(any_world: World) -> World:
    return any_world


async def test_a_decider_sees_releases_through_another_role_they_hold(world: World) -> None:
    """ana decides through "Approvers" and sees every squad through "Auditors"."""
    await world.release("REL-A", squads=["cards"], gates=[GATE])
    admin = await world.admin_actor()
    draft = milestone("go-live", 0, approval_required=True, requires_approval_manager=True)
    await world.services.gates.add_milestone(admin, "REL-A", "pay-api", GATE, draft)
    approvers = await world.repos.roles.add(role("Approvers", Permission.IS_APPROVAL_MANAGER))
    auditors = await world.repos.roles.add(role("Auditors", Permission.CAN_VIEW_ALL))
    await world.repos.users.add(person("ana", [approvers.id, auditors.id]))
    await world.repos.users.add(person("ben", [approvers.id]))  # sees no squad
    release = await world.repos.releases.get("REL-A")
    [ref] = pending_in(release)

    [deciders] = await world.services.approvals.deciders_of(release, [ref])
    actors = await world.services.identity.actors_with_any(
        frozenset({Permission.IS_APPROVAL_MANAGER})
    )

    assert sorted(a.user.username for a in deciders) == ["ana"]  # root asked for it
    assert {a.user.username: a.role_names for a in actors} == {
        "ana": ["Approvers", "Auditors"],
        "ben": ["Approvers"],
        "root": [admin.roles[0].role_name],
    }


def role(name: str, *flags: Permission) -> Role:
    return Role.model_validate(
        {"role_name": name, "created_at": T0, **{f.value: True for f in flags}}
    )


def person(username: str, role_ids: list[str]) -> User:
    return User(
        username=username,
        full_name=username.title(),
        email=f"{username}@example.com",
        role_ids=role_ids,
        created_at=T0,
    )
