"""Rule 5 and §2 RBAC: flags are the OR of held roles, inactive users get nothing, squad scoping."""

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import pytest

from core.errors import ErrorCode, NotFound, PermissionDenied
from core.models.rbac import Permission, Role, User, UserStatus
from core.models.release import Decision, GateStatus, ReleaseDraft
from core.rules.permissions import Actor, resolve_permissions
from core.services.gates import GateChange, GateDraft
from tests.support import T0, World, milestone

REL = "REL-2026.12"


@pytest.fixture
def world(any_world: World) -> World:
    """Every test here runs on the in-memory fakes and on the storage adapters."""
    return any_world


def _role(name: str, *permissions: Permission) -> Role:
    return Role.model_validate(
        {"role_name": name, "created_at": T0, **{p.value: True for p in permissions}}
    )


def _user(*roles: Role, status: UserStatus = UserStatus.ACTIVE) -> User:
    return User(
        username="pat",
        full_name="Pat",
        email="pat@example.com",
        role_ids=[r.id for r in roles],
        status=status,
        created_at=T0,
    )


async def _user_with_roles(world: World, username: str, *roles: Role) -> Actor:
    stored = [await world.repos.roles.add(role) for role in roles]
    user = User(
        username=username,
        full_name=username.title(),
        email=f"{username}@example.com",
        role_ids=[r.id for r in stored],
        created_at=world.clock(),
    )
    await world.repos.users.add(user)
    return await world.services.identity.actor_by_id(user.id)


def test_permissions_are_the_union_of_the_held_roles_flags() -> None:
    gates = _role("Gatekeeper", Permission.CAN_MANAGE_QUALITY_GATES)
    approver = _role("Approver", Permission.IS_APPROVAL_MANAGER, Permission.CAN_VIEW_ALL)

    granted = resolve_permissions(_user(gates, approver), [gates, approver])

    assert granted == {
        Permission.CAN_MANAGE_QUALITY_GATES,
        Permission.IS_APPROVAL_MANAGER,
        Permission.CAN_VIEW_ALL,
    }


def test_a_role_the_user_does_not_hold_grants_nothing() -> None:
    held = _role("Viewer", Permission.CAN_VIEW_ALL)
    not_held = _role("Admin", *Permission)
    actor = Actor(_user(held), (held, not_held))

    assert actor.permissions == {Permission.CAN_VIEW_ALL}
    assert actor.role_names == ["Viewer"]


@pytest.mark.parametrize("status", [UserStatus.DISABLED, UserStatus.INVITED])
def test_inactive_user_has_no_permissions_even_with_every_role(status: UserStatus) -> None:
    admin = _role("Admin", *Permission)
    actor = Actor(_user(admin, status=status), (admin,))

    assert actor.permissions == frozenset()
    assert not actor.has(Permission.CAN_VIEW_ALL)


async def test_user_with_two_roles_may_do_what_either_role_allows(world: World) -> None:
    await world.release()
    both = await _user_with_roles(
        world,
        "mia",
        _role("Gatekeeper", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL),
        _role("Approver", Permission.IS_APPROVAL_MANAGER),
    )

    await world.services.gates.add_gate(both, REL, "pay-api", GateDraft(gate_name="Perf"))
    release = await world.services.gates.update_gate(
        both, REL, "pay-api", "Perf", GateChange(gate_status=GateStatus.WAIVED, comment="n/a")
    )

    assert release.product("pay-api").gate("Perf").gate_status is GateStatus.WAIVED


def _operations(world: World) -> dict[str, Callable[[Actor], Awaitable[Any]]]:
    s = world.services
    return {
        "get": lambda a: s.releases.get(a, REL),
        "list": lambda a: s.releases.list_releases(a),
        "history": lambda a: s.timeline.history(a, REL),
        "create": lambda a: s.releases.create(
            a, ReleaseDraft(release_id="REL-X", release_name="X", release_date=date(2027, 1, 1))
        ),
        "add_gate": lambda a: s.gates.add_gate(a, REL, "pay-api", GateDraft(gate_name="New")),
        "waive": lambda a: s.gates.update_gate(
            a, REL, "pay-api", "Scan", GateChange(gate_status=GateStatus.WAIVED, comment="ok")
        ),
        "decide": lambda a: s.approvals.decide(
            a, REL, "pay-api", "Scan", "go-live", Decision.APPROVE
        ),
        "pending": lambda a: s.approvals.pending_for(a),
    }


@pytest.mark.parametrize("status", ["DISABLED", "INVITED"])
@pytest.mark.parametrize(
    "operation", ["get", "list", "history", "create", "add_gate", "waive", "decide", "pending"]
)
async def test_inactive_user_is_refused_everything_and_nothing_changes(
    world: World, status: str, operation: str
) -> None:
    await world.release(gates=["Scan"])
    admin = await world.admin_actor()
    draft = milestone("go-live", 0, approval_required=True)
    await world.services.gates.add_milestone(admin, REL, "pay-api", "Scan", draft)
    ghost = await world.actor("ghost", *Permission, squads=["payments"], status=status)
    before = await world.snapshot()

    with pytest.raises(PermissionDenied) as refused:
        await _operations(world)[operation](ghost)

    assert refused.value.code is ErrorCode.PERMISSION_DENIED
    assert f"is {status.lower()}" in refused.value.message
    assert "ask an admin" in refused.value.message
    assert await world.snapshot() == before


async def test_can_view_all_lists_every_release(world: World) -> None:
    await world.release("REL-A", squads=["payments"])
    await world.release("REL-B", squads=["cards"])
    auditor = await world.actor("ava", Permission.CAN_VIEW_ALL)

    page = await world.services.releases.list_releases(auditor)

    assert {r.release_id for r in page.items} == {"REL-A", "REL-B"}


async def test_squad_member_lists_only_releases_sharing_a_squad(world: World) -> None:
    await world.release("REL-A", squads=["payments"])
    await world.release("REL-B", squads=["cards"])
    await world.release("REL-C", squads=["cards", "payments"])
    dana = await world.actor("dana", squads=["payments"])

    page = await world.services.releases.list_releases(dana)

    assert {r.release_id for r in page.items} == {"REL-A", "REL-C"}


async def test_squad_member_cannot_open_another_squads_release(world: World) -> None:
    await world.release("REL-A", squads=["payments"])
    await world.release("REL-B", squads=["cards"])
    dana = await world.actor("dana", squads=["payments"])

    assert (await world.services.releases.get(dana, "REL-A")).release_id == "REL-A"
    with pytest.raises(NotFound) as refused:
        await world.services.releases.get(dana, "REL-B")
    assert "REL-B" in refused.value.message
    assert "squads" not in refused.value.message  # another squad's release is not disclosed


async def test_gate_manager_outside_the_releases_squads_cannot_change_it(world: World) -> None:
    await world.release(squads=["cards"])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, squads=["payments"])
    before = await world.snapshot()

    with pytest.raises(NotFound) as refused:
        await world.services.gates.add_gate(rhea, REL, "pay-api", GateDraft(gate_name="Perf"))

    assert REL in refused.value.message
    assert await world.snapshot() == before


async def test_refusal_names_the_missing_permission(world: World) -> None:
    await world.release()
    dana = await world.actor("dana", squads=["payments"])
    before = await world.snapshot()

    with pytest.raises(PermissionDenied) as refused:
        await world.services.gates.add_gate(dana, REL, "pay-api", GateDraft(gate_name="Perf"))

    assert "'can_manage_quality_gates'" in refused.value.message
    assert "Ask an admin" in refused.value.message
    assert await world.snapshot() == before
