"""Approval policies: a quorum of distinct people by role, never the requester or owner,
votes that count once, approvals that go stale when their evidence changes, and expiry."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.errors import PermissionDenied, RuleViolation, ValidationFailed
from core.models.approval import Policy, QuorumRule
from core.models.events import (
    ApprovalDecided,
    ApprovalExpired,
    ApprovalRequested,
    ApprovalVoted,
    VotesWithdrawn,
)
from core.models.rbac import Permission, Role, User
from core.models.release import ApprovalStatus, Decision, Environment, MilestoneApproval, Release
from core.models.statuses import GateStatus
from core.rules.approvals import AlreadyDecided, AlreadyVoted, ApprovalPolicy, progress_line
from core.rules.evidence import evidence_of, fingerprint
from core.rules.permissions import Actor
from core.services.container import build_services
from core.services.gates import GateChange, MilestoneChange
from core.services.schedule import ReminderKind
from tests.support import World, milestone

REL = "REL-2026.12"
GATE = "Regression suite"
QA, PAY = "QA Lead", "Payments Owner"
UTC_ZONE = ZoneInfo("UTC")
QUORUM = Policy(rules=[QuorumRule(role=QA), QuorumRule(role=PAY, count=2)])


@pytest.fixture
def world(any_world: World) -> World:
    return any_world


async def _role(world: World, name: str) -> Role:
    for role in await world.repos.roles.all():
        if role.role_name == name:
            return role
    role = Role(role_name=name, created_at=world.clock())
    return await world.repos.roles.add(role)


async def person(
    world: World, username: str, *roles: str, flags: tuple[Permission, ...] = ()
) -> Actor:
    """A user holding the named roles (made flagless), seeing every release, and holding
    another role with ``flags``."""
    ids = [(await _role(world, name)).id for name in roles]
    viewer = await world.actor(f"{username}-view", Permission.CAN_VIEW_ALL, *flags)
    user = User(
        username=username,
        full_name=username.title(),
        email=f"{username}@example.com",
        role_ids=[*ids, *viewer.user.role_ids],
        created_at=world.clock(),
    )
    await world.repos.users.add(user)
    return await world.services.identity.actor_by_id(user.id)


async def _setup(
    world: World,
    policy: Policy | None = QUORUM,
    *,
    environment: Environment = Environment.PROD,
    **draft: Any,
) -> Actor:
    """A release whose gate has milestone go-live needing ``policy``, asked for by rhea."""
    await world.release(gates=[GATE])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    await world.services.gates.add_milestone(
        rhea,
        REL,
        "pay-api",
        GATE,
        milestone(
            "go-live",
            0,
            approval_required=True,
            approval_policy=policy,
            environment=environment,
            **draft,
        ),
    )
    return rhea


def vote(
    world: World, actor: Actor, decision: Decision = Decision.APPROVE, comment: Any = None
) -> Any:
    return world.services.approvals.decide(
        actor, REL, "pay-api", GATE, "go-live", decision, comment
    )


async def approval(world: World) -> MilestoneApproval:
    release = await world.repos.releases.get(REL)
    return release.product("pay-api").gate(GATE).milestone("go-live").approval


async def events_of(world: World, kind: type) -> list[Any]:
    release = await world.repos.releases.get(REL)
    stored = await world.repos.timeline.for_release(release.id, limit=500)
    return [e for entry in stored for e in entry.events if isinstance(e, kind)]


async def test_a_quorum_approves_only_when_every_rule_is_met_by_distinct_people(
    world: World,
) -> None:
    await _setup(world)
    qa = await person(world, "quinn", QA)
    pay1, pay2 = await person(world, "pia", PAY), await person(world, "paul", PAY)

    await vote(world, qa)
    await vote(world, pay1)
    waiting = await approval(world)
    assert waiting.status is ApprovalStatus.PENDING
    assert progress_line(waiting) == "QA Lead 1/1 · Payments Owner 1/2"
    await vote(world, pay2, comment="numbers reconcile")

    done = await approval(world)
    assert done.status is ApprovalStatus.APPROVED
    assert [v.username for v in done.votes] == ["quinn", "pia", "paul"]
    assert done.votes[0].role_snapshot == [QA, "can_view_all"]
    assert done.approver_username == "paul" and done.comment == "numbers reconcile"
    assert len(await events_of(world, ApprovalVoted)) == 2
    assert len(await events_of(world, ApprovalDecided)) == 1


async def test_a_person_holding_two_roles_counts_once_and_where_they_are_needed(
    world: World,
) -> None:
    await _setup(world, Policy(rules=[QuorumRule(role=QA), QuorumRule(role=PAY)]))
    both = await person(world, "bo", QA, PAY)
    qa = await person(world, "quinn", QA)

    await vote(world, both)
    assert (await approval(world)).status is ApprovalStatus.PENDING
    await vote(world, qa)  # bo moves to Payments Owner; quinn fills QA Lead

    done = await approval(world)
    assert done.status is ApprovalStatus.APPROVED
    assert progress_line(done) == "QA Lead 1/1 · Payments Owner 1/1"


async def test_a_vote_that_would_not_count_is_refused_and_changes_nothing(world: World) -> None:
    await _setup(world)
    await vote(world, await person(world, "quinn", QA))
    second_qa = await person(world, "quincy", QA)
    before = await world.snapshot()

    with pytest.raises(RuleViolation, match="waits for other roles"):
        await vote(world, second_qa)

    assert await world.snapshot() == before


async def test_someone_without_a_named_role_is_refused_naming_the_policy(world: World) -> None:
    await _setup(world)
    outsider = await person(world, "olga", "Auditor")
    before = await world.snapshot()

    with pytest.raises(PermissionDenied) as refused:
        await vote(world, outsider)

    assert "1 × QA Lead + 2 × Payments Owner" in refused.value.message
    assert await world.snapshot() == before


async def test_a_double_click_counts_once(world: World) -> None:
    await _setup(world)
    qa = await person(world, "quinn", QA)

    await vote(world, qa)
    with pytest.raises(AlreadyVoted, match="already"):
        await vote(world, qa)

    assert [v.username for v in (await approval(world)).votes] == ["quinn"]


async def test_the_requester_cannot_count_even_after_handing_the_milestone_to_someone_else(
    world: World,
) -> None:
    """What the issue tried: she changes the milestone, moves its owner away, approves it."""
    await world.release(gates=[GATE])
    gatekeeper = await world.actor(
        "gk", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL
    )
    rhea = await person(world, "rhea", QA, flags=(Permission.CAN_MANAGE_QUALITY_GATES,))
    dana = await person(world, "dana")
    await world.services.gates.add_milestone(
        gatekeeper,
        REL,
        "pay-api",
        GATE,
        milestone("go-live", 0, approval_required=True, approval_policy=QUORUM),
    )
    await world.services.gates.update_milestone(
        rhea, REL, "pay-api", GATE, "go-live", MilestoneChange(milestone_name="Go live (moved)")
    )
    assert (await approval(world)).requested_by == rhea.user_id  # she changed what it covers
    await world.services.gates.update_milestone(
        rhea, REL, "pay-api", GATE, "go-live", MilestoneChange(owner_id=dana.user_id)
    )
    assert (await approval(world)).requested_by == rhea.user_id  # an owner change is not asking
    before = await world.snapshot()

    with pytest.raises(PermissionDenied, match="You asked for the approval"):
        await vote(world, rhea)
    assert await world.snapshot() == before


async def test_who_made_the_approval_pending_cannot_approve_it(world: World) -> None:
    await world.release(gates=[GATE])
    lead = await world.actor(
        "lead",
        Permission.CAN_MANAGE_QUALITY_GATES,
        Permission.IS_APPROVAL_MANAGER,
        Permission.CAN_VIEW_ALL,
    )
    await world.services.gates.add_milestone(
        lead, REL, "pay-api", GATE, milestone("go-live", 0, approval_required=True)
    )
    before = await world.snapshot()

    with pytest.raises(PermissionDenied, match="You asked for the approval"):
        await vote(world, lead)

    assert await world.snapshot() == before


async def test_allow_self_approval_lets_the_requester_count(world: World) -> None:
    services = build_services(
        world.repos, clock=world.clock, policy=ApprovalPolicy(allow_self_approval=True)
    )
    await world.release(gates=[GATE])
    lead = await world.actor(
        "lead",
        Permission.CAN_MANAGE_QUALITY_GATES,
        Permission.IS_APPROVAL_MANAGER,
        Permission.CAN_VIEW_ALL,
    )
    await services.gates.add_milestone(
        lead, REL, "pay-api", GATE, milestone("go-live", 0, approval_required=True)
    )

    await services.approvals.decide(lead, REL, "pay-api", GATE, "go-live", Decision.APPROVE)

    assert (await approval(world)).status is ApprovalStatus.APPROVED


async def test_one_rejection_decides_and_needs_a_reason(world: World) -> None:
    await _setup(world)
    pay = await person(world, "pia", PAY)
    await vote(world, await person(world, "quinn", QA))

    with pytest.raises(ValidationFailed, match="needs a reason"):
        await vote(world, pay, Decision.REJECT)
    await vote(world, pay, Decision.REJECT, "totals are off by one cent")

    done = await approval(world)
    assert done.status is ApprovalStatus.REJECTED
    assert done.approver_username == "pia" and done.comment == "totals are off by one cent"
    with pytest.raises(AlreadyDecided):
        await vote(world, await person(world, "paul", PAY))


async def test_two_people_voting_at_once_on_a_two_of_two_both_count_and_it_is_announced_once(
    racing_world: World,
) -> None:
    world = racing_world
    await _setup(world, Policy(rules=[QuorumRule(role=PAY, count=2)]))
    pia, paul = await person(world, "pia", PAY), await person(world, "paul", PAY)

    await asyncio.gather(vote(world, pia), vote(world, paul))

    done = await approval(world)
    assert done.status is ApprovalStatus.APPROVED
    assert sorted(v.username for v in done.votes) == ["paul", "pia"]
    assert len(await events_of(world, ApprovalDecided)) == 1


# --- approvals that go stale ------------------------------------------------------------


async def _gate(world: World, status: GateStatus, comment: str | None = None) -> None:
    user = await world.repos.users.find_by_email("kim@example.com")
    kim = (
        await world.services.identity.actor_for(user)
        if user is not None
        else await world.actor("kim", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    )
    await world.services.gates.update_gate(
        kim, REL, "pay-api", GATE, GateChange(gate_status=status, comment=comment)
    )


async def test_a_vote_is_withdrawn_when_its_evidence_changes_and_the_timeline_says_why(
    world: World,
) -> None:
    await _setup(world, Policy(rules=[QuorumRule(role=QA)]))
    await _gate(world, GateStatus.PASSED)
    await vote(world, await person(world, "quinn", QA))
    assert (await approval(world)).status is ApprovalStatus.APPROVED
    world.clock.advance(minutes=5)

    await _gate(world, GateStatus.FAILED)

    again = await approval(world)
    assert again.status is ApprovalStatus.PENDING and again.votes == []
    assert again.requested_at == world.clock.now
    assert again.withdrawal is not None
    assert again.withdrawal.reason == "Regression suite PASSED → FAILED"
    assert again.withdrawal.voters == ["quinn"]
    withdrawn = await events_of(world, VotesWithdrawn)
    assert [w.reason for w in withdrawn] == ["Regression suite PASSED → FAILED"]
    assert any(e.requested_at == world.clock.now for e in await events_of(world, ApprovalRequested))
    release = await world.repos.releases.get(REL)
    entries = await world.repos.timeline.for_release(release.id, limit=100)
    said = [e for e in entries if e.action == "approval.votes_withdrawn"]
    assert said and said[0].comment == "Withdrawn: Regression suite PASSED → FAILED"


async def test_evidence_changes_leave_non_prod_votes_unless_the_policy_says_so(
    world: World,
) -> None:
    await _setup(
        world,
        Policy(rules=[QuorumRule(role=QA, count=1), QuorumRule(role=PAY)]),
        environment=Environment.UAT,
    )
    await vote(world, await person(world, "quinn", QA))

    await _gate(world, GateStatus.FAILED)

    assert [v.username for v in (await approval(world)).votes] == ["quinn"]


async def test_the_stale_switch_withdraws_non_prod_votes_when_on(world: World) -> None:
    policy = Policy(
        rules=[QuorumRule(role=QA), QuorumRule(role=PAY)], withdraw_when_evidence_changes=True
    )
    await _setup(world, policy, environment=Environment.UAT)
    await vote(world, await person(world, "quinn", QA))

    await _gate(world, GateStatus.BLOCKED)

    assert (await approval(world)).votes == []


async def test_a_last_vote_racing_a_stale_making_change_never_stays_on_old_evidence(
    racing_world: World,
) -> None:
    world = racing_world
    await _setup(world, Policy(rules=[QuorumRule(role=QA), QuorumRule(role=PAY)]))
    await _gate(world, GateStatus.PASSED)
    await vote(world, await person(world, "quinn", QA))
    pia = await person(world, "pia", PAY)

    await asyncio.gather(vote(world, pia), _gate(world, GateStatus.FAILED))

    release = await world.repos.releases.get(REL)
    current = fingerprint(evidence_of(release.product("pay-api")))
    final = await approval(world)
    assert all(v.evidence == current for v in final.votes)
    assert final.status is ApprovalStatus.PENDING  # quinn's vote went either way


async def test_votes_from_before_fingerprints_are_never_withdrawn(world: World) -> None:
    """A document saved by the version before policies keeps its decision."""
    await _setup(world, None, requires_approval_manager=True)
    release = await world.repos.releases.get(REL)
    legacy = release.product("pay-api").gate(GATE).milestone("go-live").approval
    legacy.status = ApprovalStatus.APPROVED
    legacy.approver_username = "arjun"
    await world.repos.releases.save(release)

    await _gate(world, GateStatus.FAILED)

    assert (await approval(world)).status is ApprovalStatus.APPROVED


# --- expiry -----------------------------------------------------------------------------


async def test_an_approval_expires_once_and_can_be_asked_for_again(world: World) -> None:
    rhea = await _setup(world, Policy(rules=[QuorumRule(role=QA)], expires_after_hours=4))
    qa = await person(world, "quinn", QA)
    asked = (await approval(world)).requested_at
    assert (await approval(world)).expires_at == world.clock.now + timedelta(hours=4)

    world.clock.advance(hours=3, minutes=59)
    assert await world.services.approvals.expire_due(world.clock.now) == []
    world.clock.advance(minutes=1)
    assert await world.services.approvals.expire_due(world.clock.now) == [REL]
    assert await world.services.approvals.expire_due(world.clock.now) == []  # once

    assert (await approval(world)).status is ApprovalStatus.EXPIRED
    expired = await events_of(world, ApprovalExpired)
    assert [e.round for e in expired] == [asked]
    before = await world.snapshot()
    with pytest.raises(RuleViolation, match="expired"):
        await vote(world, qa)
    assert await world.snapshot() == before

    await world.services.approvals.request_again(rhea, REL, "pay-api", GATE, "go-live")
    again = await approval(world)
    assert again.status is ApprovalStatus.PENDING and again.requested_at == world.clock.now
    await vote(world, qa)
    assert (await approval(world)).status is ApprovalStatus.APPROVED


async def test_only_an_expired_approval_is_asked_for_again(world: World) -> None:
    rhea = await _setup(world)
    before = await world.snapshot()

    with pytest.raises(RuleViolation, match="only an expired approval"):
        await world.services.approvals.request_again(rhea, REL, "pay-api", GATE, "go-live")

    assert await world.snapshot() == before


# --- documents saved before policies ----------------------------------------------------


async def test_an_approval_saved_before_policies_loads_with_the_same_meaning(world: World) -> None:
    await _setup(world, None)
    release = await world.repos.releases.get(REL)
    document = release.model_dump(mode="json")
    stored = document["products"][0]["quality_gates"][0]["milestones"][0]["approval"]
    for added in (
        "policy",
        "votes",
        "requested_by",
        "requested_by_username",
        "expires_at",
        "withdrawal",
    ):
        stored.pop(added)
    stored["requires_approval_manager"] = True
    old = Release.model_validate(document).product("pay-api").gate(GATE).milestone("go-live")

    assert old.approval.policy is None and old.approval.votes == []
    assert old.approval.effective_policy.describe() == "1 × Approval Manager"
    assert progress_line(old.approval) == "Approval Manager 0/1"


async def test_reminders_go_to_who_may_still_vote_not_to_who_voted(world: World) -> None:
    await _setup(world)
    quinn = await person(world, "quinn", QA)
    pia = await person(world, "pia", PAY)
    await vote(world, quinn)

    due = await world.services.reminders.due(world.clock.now + timedelta(hours=30))

    reminded = {j.recipient.user_id for j in due if j.kind is ReminderKind.REMIND}
    assert pia.user_id in reminded and quinn.user_id not in reminded


# --- found in review --------------------------------------------------------------------


async def test_a_vote_after_the_deadline_is_refused_before_the_scheduler_marks_it(
    world: World,
) -> None:
    await _setup(world, Policy(rules=[QuorumRule(role=QA)], expires_after_hours=4))
    qa = await person(world, "quinn", QA)
    world.clock.advance(hours=4)  # due now; no tick has run
    before = await world.snapshot()

    with pytest.raises(RuleViolation, match="expired"):
        await vote(world, qa)

    assert await world.snapshot() == before


async def test_a_rejection_needs_no_place_left_in_the_policy(world: World) -> None:
    await _setup(world)
    await vote(world, await person(world, "quinn", QA))  # QA Lead 1/1

    await vote(world, await person(world, "quincy", QA), Decision.REJECT, "totals are off")

    assert (await approval(world)).status is ApprovalStatus.REJECTED


async def test_only_an_approval_manager_may_weaken_a_pending_policy(world: World) -> None:
    rhea = await _setup(world)
    before = await world.snapshot()
    weaker = Policy(rules=[QuorumRule(role=QA)])

    with pytest.raises(PermissionDenied, match="approval manager"):
        await world.services.gates.update_milestone(
            rhea, REL, "pay-api", GATE, "go-live", MilestoneChange(approval_policy=weaker)
        )
    assert await world.snapshot() == before

    stronger = Policy(rules=[QuorumRule(role=QA, count=2), QuorumRule(role=PAY, count=2)])
    await world.services.gates.update_milestone(
        rhea, REL, "pay-api", GATE, "go-live", MilestoneChange(approval_policy=stronger)
    )
    assert (await approval(world)).policy == stronger


async def test_a_voter_made_owner_no_longer_counts(world: World) -> None:
    rhea = await _setup(world)
    pia = await person(world, "pia", PAY)
    await vote(world, pia)

    await world.services.gates.update_milestone(
        rhea, REL, "pay-api", GATE, "go-live", MilestoneChange(owner_id=pia.user_id)
    )

    assert (await approval(world)).votes == []


async def test_a_decided_milestones_environment_is_final_and_a_pending_one_is_asked_again(
    world: World,
) -> None:
    rhea = await _setup(world, Policy(rules=[QuorumRule(role=QA), QuorumRule(role=PAY)]))
    await vote(world, await person(world, "quinn", QA))
    world.clock.advance(minutes=1)

    await world.services.gates.update_milestone(
        rhea, REL, "pay-api", GATE, "go-live", MilestoneChange(environment=Environment.UAT)
    )
    again = await approval(world)
    assert again.votes == [] and again.requested_at == world.clock.now

    await vote(world, await person(world, "quincy", QA))
    await vote(world, await person(world, "pia", PAY))
    before = await world.snapshot()
    with pytest.raises(RuleViolation, match="can no longer change"):
        await world.services.gates.update_milestone(
            rhea, REL, "pay-api", GATE, "go-live", MilestoneChange(environment=Environment.PROD)
        )
    assert await world.snapshot() == before


async def test_named_approvers_must_agree_with_the_other_settings(world: World) -> None:
    await world.release(gates=[GATE])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    qa_only = Policy(rules=[QuorumRule(role=QA)])
    before = await world.snapshot()

    for draft in (
        milestone("m1", 0, approval_required=True, requires_approval_manager=True,
                  approval_policy=qa_only),
        milestone("m2", 2, approval_required=False, approval_policy=qa_only),
    ):  # fmt: skip
        with pytest.raises(ValidationFailed) as refused:
            await world.services.gates.add_milestone(rhea, REL, "pay-api", GATE, draft)
        assert refused.value.fields == {"approval_policy": refused.value.fields["approval_policy"]}
    assert await world.snapshot() == before


async def test_a_delegate_who_lost_the_roles_no_longer_votes_for_who_is_away(
    world: World,
) -> None:
    await _setup(world, Policy(rules=[QuorumRule(role=QA)]))
    arjun = await person(world, "arjun", QA)
    dana = await person(world, "dana", QA)
    await world.services.delegation.delegate(
        arjun, dana.user, world.clock.now.date() + timedelta(days=5), UTC_ZONE
    )
    qa_role = next(r for r in await world.repos.roles.all() if r.role_name == QA)
    await world.repos.users.remove_role(dana.user_id, qa_role.id)
    dana = await world.services.identity.actor_by_id(dana.user_id)
    before = await world.snapshot()

    with pytest.raises(PermissionDenied):
        await vote(world, dana)

    assert await world.snapshot() == before
