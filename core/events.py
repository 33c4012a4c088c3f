"""Which domain events a change caused, derived from the release before and after it.

A change takes a ``Snapshot`` (the states events are about, not a copy of the document)
before it runs; ``caused`` compares it with the changed release. Handlers never diff
documents: whatever entry point made the change, the same events come out of core.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from core.models.events import (
    ApprovalDecided,
    ApprovalExpired,
    ApprovalRef,
    ApprovalRequested,
    ApprovalVoted,
    ApprovalWithdrawn,
    BrokeGlass,
    DomainEvent,
    GateChanged,
    MilestoneChanged,
    TaskChanged,
    VotesWithdrawn,
)
from core.models.release import Release
from core.models.statuses import ApprovalStatus, Decision, GateStatus, MilestoneStatus, TaskStatus
from core.rules.evidence import Evidence, evidence_of

GateKey = tuple[str, str]  # product_id, gate_name
MilestoneKey = tuple[str, str, str]  # product_id, gate_name, milestone_key
TaskKey = tuple[str, str]  # runbook_id, task_name
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class ApprovalState:
    status: ApprovalStatus
    requested_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    votes: int = 0
    last_voter: str | None = None
    withdrawn_at: datetime | None = None
    withdrawn_because: str | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    gates: dict[GateKey, GateStatus]
    milestones: dict[MilestoneKey, MilestoneStatus]
    approvals: dict[MilestoneKey, ApprovalState]
    tasks: dict[TaskKey, TaskStatus]
    evidence: dict[str, Evidence]  # per product id (``core.rules.evidence``)
    break_glass: int  # overrides of freezes recorded so far


def snapshot(release: Release) -> Snapshot:
    gates: dict[GateKey, GateStatus] = {}
    milestones: dict[MilestoneKey, MilestoneStatus] = {}
    approvals: dict[MilestoneKey, ApprovalState] = {}
    for product in release.products:
        for gate in product.quality_gates:
            gates[(product.product_id, gate.gate_name)] = gate.gate_status
            for milestone in gate.milestones:
                ref = (product.product_id, gate.gate_name, milestone.milestone_key)
                milestones[ref] = milestone.status
                approval = milestone.approval
                withdrawal = approval.withdrawal
                approvals[ref] = ApprovalState(
                    approval.status,
                    approval.requested_at,
                    approval.approved_at,
                    approval.approver_user_id,
                    len(approval.votes),
                    approval.votes[-1].by_label if approval.votes else None,
                    withdrawal.at if withdrawal else None,
                    withdrawal.reason if withdrawal else None,
                )
    tasks = {
        (runbook.runbook_id, task.task_name): task.status
        for runbook in release.runbooks
        for task in runbook.tasks
    }
    evidence = {p.product_id: evidence_of(p) for p in release.products}
    return Snapshot(gates, milestones, approvals, tasks, evidence, len(release.break_glass))


def caused(before: Snapshot, after: Release) -> list[DomainEvent]:
    """The events of going from ``before`` to ``after``, in a stable order."""
    now = snapshot(after)
    events: list[DomainEvent] = [
        GateChanged(product_id=product_id, gate_name=gate_name, before=was, after=status)
        for (product_id, gate_name), was, status in _changed(before.gates, now.gates)
    ]
    events.extend(
        MilestoneChanged(ref=_ref(key), before=was, after=status)
        for key, was, status in _changed(before.milestones, now.milestones)
    )
    for key, was_state, state in _changed(before.approvals, now.approvals):
        events.extend(_approval_events(key, was_state, state))
    events.extend(
        TaskChanged(runbook_id=runbook_id, task_name=task_name, before=was, after=status)
        for (runbook_id, task_name), was, status in _changed(before.tasks, now.tasks)
    )
    events.extend(
        BrokeGlass(freeze_name=b.freeze_name, by=b.by, reason=b.reason, what=b.what)
        for b in after.break_glass[before.break_glass :]
    )
    return events


def _changed(before: Mapping[K, V], after: Mapping[K, V]) -> Iterator[tuple[K, V | None, V]]:
    """Each key whose value differs from before (or is new), with both values."""
    for key, value in after.items():
        was = before.get(key)
        if was != value:
            yield key, was, value


def _ref(key: MilestoneKey) -> ApprovalRef:
    product_id, gate_name, milestone_key = key
    return ApprovalRef(product_id=product_id, gate_name=gate_name, milestone_key=milestone_key)


def _approval_events(
    key: MilestoneKey, was: ApprovalState | None, state: ApprovalState
) -> list[DomainEvent]:
    ref = _ref(key)
    if state.status is ApprovalStatus.NOT_REQUIRED and was and was.status is ApprovalStatus.PENDING:
        return [ApprovalWithdrawn(ref=ref)]
    events: list[DomainEvent] = []
    if state.withdrawn_at is not None and (was is None or was.withdrawn_at != state.withdrawn_at):
        events.append(
            VotesWithdrawn(
                ref=ref,
                reason=state.withdrawn_because or "",
                at=state.withdrawn_at,
                round=was.requested_at if was else None,
            )
        )
    if state.status is ApprovalStatus.EXPIRED and was and was.status is ApprovalStatus.PENDING:
        return [ApprovalExpired(ref=ref, round=state.requested_at)]
    if state.status is ApprovalStatus.PENDING:
        if was is None or was.status is not state.status or was.requested_at != state.requested_at:
            # Pending anew, or asked again (what it covers changed): a new round of asking.
            events.append(ApprovalRequested(ref=ref, requested_at=state.requested_at))
        elif state.votes != was.votes:  # a vote in, or one dropped (its voter disabled)
            events.append(ApprovalVoted(ref=ref, by=state.last_voter))
        return events
    if state.status in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED) and (
        was is None or was.status is not state.status or was.decided_at != state.decided_at
    ):
        decision = Decision.APPROVE if state.status is ApprovalStatus.APPROVED else Decision.REJECT
        return [
            ApprovalDecided(ref=ref, decision=decision, by=state.decided_by, at=state.decided_at)
        ]
    return []
