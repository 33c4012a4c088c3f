"""Rule 3: approvals are NOT_REQUIRED or PENDING until decided once, by someone allowed to."""

from datetime import UTC, datetime
from typing import Any

import pytest

from core.errors import ErrorCode, PermissionDenied, RuleViolation, ValidationFailed
from core.models.rbac import Permission, Role, User
from core.models.release import ApprovalStatus, Decision, MilestoneApproval, Release
from core.rules.approvals import AlreadyDecided, ApprovalPolicy
from core.rules.permissions import Actor
from core.services.gates import MilestoneChange
from tests.support import World, milestone

REL = "REL-2026.12"
GATE = "Security scan"


@pytest.fixture
def world(any_world: World) -> World:
    """Every test here runs on the in-memory fakes and on the storage adapters."""
    return any_world


async def _release_with_milestone(world: World, key: str = "go-live", **approval: Any) -> None:
    """A release whose gate has one milestone, added by a gate manager (rhea)."""
    await world.release(gates=[GATE])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    await world.services.gates.add_milestone(
        rhea, REL, "pay-api", GATE, milestone(key, 0, **approval)
    )


async def _approver(world: World, name: str = "arjun") -> Actor:
    return await world.actor(name, Permission.IS_APPROVAL_MANAGER, Permission.CAN_VIEW_ALL)


def _decide(
    world: World, actor: Actor, decision: Decision, comment: str | None = None, key: str = "go-live"
) -> Any:
    return world.services.approvals.decide(actor, REL, "pay-api", GATE, key, decision, comment)


async def _approval(world: World, key: str = "go-live") -> MilestoneApproval:
    release = await world.repos.releases.get(REL)
    return release.product("pay-api").gate(GATE).milestone(key).approval


async def test_milestone_not_requiring_approval_has_nothing_to_decide(world: World) -> None:
    await _release_with_milestone(world, approval_required=False)
    arjun = await _approver(world)
    before = await world.snapshot()

    assert (await _approval(world)).status is ApprovalStatus.NOT_REQUIRED
    with pytest.raises(RuleViolation) as refused:
        await _decide(world, arjun, Decision.APPROVE)

    assert refused.value.code is ErrorCode.RULE_VIOLATION
    assert "does not need approval" in refused.value.message
    assert await world.snapshot() == before


async def test_required_approval_is_pending_since_the_clock_time(world: World) -> None:
    world.clock.advance(hours=5)

    await _release_with_milestone(world, approval_required=True)

    approval = await _approval(world)
    assert approval.status is ApprovalStatus.PENDING
    assert approval.requested_at == world.clock.now


async def test_gate_manager_cannot_decide_what_needs_an_approval_manager(world: World) -> None:
    await _release_with_milestone(world, approval_required=True, requires_approval_manager=True)
    kim = await world.actor("kim", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    before = await world.snapshot()

    with pytest.raises(PermissionDenied) as refused:
        await _decide(world, kim, Decision.APPROVE)

    assert "must be decided by an approval manager" in refused.value.message
    assert await world.snapshot() == before


async def test_approval_manager_decides_what_needs_an_approval_manager(world: World) -> None:
    await _release_with_milestone(world, approval_required=True, requires_approval_manager=True)
    arjun = await _approver(world)

    await _decide(world, arjun, Decision.APPROVE)

    assert (await _approval(world)).status is ApprovalStatus.APPROVED


@pytest.mark.parametrize(
    "flag", [Permission.IS_APPROVAL_MANAGER, Permission.CAN_MANAGE_QUALITY_GATES]
)
async def test_either_flag_may_decide_when_no_approval_manager_is_required(
    world: World, flag: Permission
) -> None:
    await _release_with_milestone(world, approval_required=True)
    kim = await world.actor("kim", flag, Permission.CAN_VIEW_ALL)

    await _decide(world, kim, Decision.APPROVE)

    assert (await _approval(world)).approver_username == "kim"


async def test_squad_member_without_flags_cannot_decide(world: World) -> None:
    await _release_with_milestone(world, approval_required=True)
    dana = await world.actor("dana", squads=["payments"])
    before = await world.snapshot()

    with pytest.raises(PermissionDenied) as refused:
        await _decide(world, dana, Decision.APPROVE)

    assert "'is_approval_manager' or 'can_manage_quality_gates'" in refused.value.message
    assert await world.snapshot() == before


async def test_decision_records_approver_roles_time_and_comment(world: World) -> None:
    await _release_with_milestone(world, approval_required=True, requires_approval_manager=True)
    arjun = await _approver(world)
    world.clock.advance(hours=2, minutes=30)

    await _decide(world, arjun, Decision.APPROVE, "  scan is clean ")

    approval = await _approval(world)
    assert approval.status is ApprovalStatus.APPROVED
    assert approval.approver_user_id == arjun.user_id
    assert approval.approver_username == "arjun"
    assert approval.approver_role_snapshot == arjun.role_names
    assert approval.approved_at == world.clock.now
    assert approval.comment == "scan is clean"


async def test_role_snapshot_keeps_the_role_names_held_at_decision_time(world: World) -> None:
    await _release_with_milestone(world, approval_required=True, requires_approval_manager=True)
    approver_role = await world.repos.roles.add(
        Role(role_name="Approval Manager", is_approval_manager=True, created_at=world.clock())
    )
    viewer_role = await world.repos.roles.add(
        Role(role_name="Viewer", can_view_all=True, created_at=world.clock())
    )
    user = User(
        username="arjun",
        full_name="Arjun",
        email="arjun@example.com",
        role_ids=[approver_role.id, viewer_role.id],
        created_at=world.clock(),
    )
    await world.repos.users.add(user)
    arjun = await world.services.identity.actor_by_id(user.id)
    await _decide(world, arjun, Decision.APPROVE)

    await world.edit_stored("roles", {"role_name": "Approval Manager"}, {"role_name": "Gatekeeper"})
    await world.repos.roles.add(Role(role_name="Release Manager", created_at=world.clock()))
    await world.services.users.grant_role(await world.admin_actor(), "arjun", "Release Manager")

    assert (await _approval(world)).approver_role_snapshot == ["Approval Manager", "Viewer"]


async def test_decision_is_reconstructible_from_the_timeline(world: World) -> None:
    await _release_with_milestone(world, approval_required=True, requires_approval_manager=True)
    arjun = await _approver(world)
    world.clock.advance(days=1)

    release: Release = await _decide(world, arjun, Decision.REJECT, "pen test open")

    event = (await world.repos.timeline.for_release(release.id, limit=1))[0]
    assert event.action == "approval.rejected"
    assert (event.actor.user_id, event.actor.username) == (arjun.user_id, "arjun")
    assert event.target.milestone_key == "go-live"
    assert event.after == {
        "status": "REJECTED",
        "approver_user_id": arjun.user_id,
        "approver_role_snapshot": arjun.role_names,
    }
    assert event.comment == "pen test open"
    assert event.at == world.clock.now


async def test_reject_without_a_reason_is_refused_and_nothing_changes(world: World) -> None:
    await _release_with_milestone(world, approval_required=True)
    arjun = await _approver(world)
    before = await world.snapshot()

    with pytest.raises(ValidationFailed) as refused:
        await _decide(world, arjun, Decision.REJECT, "   ")

    assert refused.value.fields == {"comment": "A rejection needs a reason"}
    assert "needs a reason" in refused.value.message
    assert await world.snapshot() == before


async def test_second_decision_is_told_who_decided_and_when(world: World) -> None:
    await _release_with_milestone(world, approval_required=True)
    arjun = await _approver(world)
    maya = await _approver(world, "maya")
    world.clock.advance(hours=4)
    await _decide(world, arjun, Decision.APPROVE)
    world.clock.advance(hours=1)
    before = await world.snapshot()

    with pytest.raises(AlreadyDecided) as refused:
        await _decide(world, maya, Decision.REJECT, "too late?")

    # Who in words; when as a moment, for the bot to show on each reader's own clock.
    assert "already approved by arjun" in refused.value.message
    assert refused.value.decided_by == "arjun"
    assert refused.value.decided_at == datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    assert isinstance(refused.value, RuleViolation)
    assert await world.snapshot() == before


async def test_milestone_owner_may_not_approve_their_own_milestone(world: World) -> None:
    await world.release(gates=[GATE])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    arjun = await _approver(world)
    owned = milestone("go-live", 0, approval_required=True, owner_id=arjun.user_id)
    await world.services.gates.add_milestone(rhea, REL, "pay-api", GATE, owned)
    before = await world.snapshot()

    with pytest.raises(PermissionDenied) as refused:
        await _decide(world, arjun, Decision.APPROVE)

    assert "another approver must decide" in refused.value.message
    assert await world.snapshot() == before
    assert await world.services.approvals.pending_for(arjun) == []


@pytest.mark.parametrize("policy", [ApprovalPolicy(allow_self_approval=True)])
async def test_policy_may_allow_owners_to_approve_their_own_milestone(
    world: World, policy: ApprovalPolicy
) -> None:
    await world.release(gates=[GATE])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    arjun = await _approver(world)
    owned = milestone("go-live", 0, approval_required=True, owner_id=arjun.user_id)
    await world.services.gates.add_milestone(rhea, REL, "pay-api", GATE, owned)

    await _decide(world, arjun, Decision.APPROVE)

    assert (await _approval(world)).approver_user_id == arjun.user_id


async def test_approval_settings_cannot_change_after_a_decision(world: World) -> None:
    await _release_with_milestone(world, approval_required=True)
    await _decide(world, await _approver(world), Decision.APPROVE)
    kim = await world.actor("kim", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    before = await world.snapshot()

    with pytest.raises(RuleViolation) as refused:
        await world.services.gates.update_milestone(
            kim, REL, "pay-api", GATE, "go-live", MilestoneChange(approval_required=False)
        )

    assert "can no longer change" in refused.value.message
    assert await world.snapshot() == before


async def test_approval_settings_may_change_while_pending(world: World) -> None:
    await _release_with_milestone(world, approval_required=True)
    kim = await world.actor("kim", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)

    await world.services.gates.update_milestone(
        kim, REL, "pay-api", GATE, "go-live", MilestoneChange(approval_required=False)
    )

    assert (await _approval(world)).status is ApprovalStatus.NOT_REQUIRED


async def test_pending_for_lists_only_approvals_the_actor_may_decide_and_see(
    world: World,
) -> None:
    await world.release("REL-A", squads=["payments"], gates=[GATE])
    await world.release("REL-B", squads=["cards"], gates=[GATE])
    admin = await world.admin_actor()
    kim = await world.actor("kim", Permission.CAN_MANAGE_QUALITY_GATES, squads=["payments"])
    drafts = [
        ("REL-A", milestone("any-ok", 0, approval_required=True)),
        ("REL-A", milestone("needs-am", 2, approval_required=True, requires_approval_manager=True)),
        ("REL-A", milestone("no-appr", 4)),
        ("REL-A", milestone("own", 6, approval_required=True, owner_id=kim.user_id)),
        ("REL-A", milestone("decided", 8, approval_required=True)),
        ("REL-B", milestone("other-squad", 0, approval_required=True)),
    ]
    for ref, draft in drafts:
        await world.services.gates.add_milestone(admin, ref, "pay-api", GATE, draft)
    await world.services.approvals.decide(
        await _approver(world), "REL-A", "pay-api", GATE, "decided", Decision.APPROVE
    )

    pending = await world.services.approvals.pending_for(kim)

    assert [(p.release_id, p.ref.milestone.milestone_key) for p in pending] == [("REL-A", "any-ok")]


@pytest.mark.parametrize(
    "change",
    [MilestoneChange(approval_required=False), MilestoneChange(requires_approval_manager=False)],
)
async def test_only_an_approval_manager_may_lower_an_approval_managers_sign_off(
    world: World, change: MilestoneChange
) -> None:
    await _release_with_milestone(world, approval_required=True, requires_approval_manager=True)
    kim = await world.actor("kim", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    lead = await world.actor(
        "lead",
        Permission.CAN_MANAGE_QUALITY_GATES,
        Permission.IS_APPROVAL_MANAGER,
        Permission.CAN_VIEW_ALL,
    )
    before = await world.snapshot()

    with pytest.raises(PermissionDenied, match="only an approval manager"):
        await world.services.gates.update_milestone(kim, REL, "pay-api", GATE, "go-live", change)
    assert await world.snapshot() == before

    await world.services.gates.update_milestone(lead, REL, "pay-api", GATE, "go-live", change)
    assert (await _approval(world)).requires_approval_manager is False or (
        await _approval(world)
    ).status is ApprovalStatus.NOT_REQUIRED


async def test_overlong_comment_is_refused_and_nothing_changes(world: World) -> None:
    await _release_with_milestone(world, approval_required=True)
    arjun = await _approver(world)
    before = await world.snapshot()

    with pytest.raises(ValidationFailed) as error:
        await _decide(world, arjun, Decision.REJECT, "x" * 2001)

    assert error.value.fields == {"comment": "At most 2000 characters"}
    assert await world.snapshot() == before
