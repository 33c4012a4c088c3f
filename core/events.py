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
    ApprovalRef,
    ApprovalRequested,
    ApprovalWithdrawn,
    DomainEvent,
    GateChanged,
    MilestoneChanged,
    TaskChanged,
)
from core.models.release import Release
from core.models.statuses import ApprovalStatus, Decision, GateStatus, MilestoneStatus, TaskStatus

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


@dataclass(frozen=True, slots=True)
class Snapshot:
    gates: dict[GateKey, GateStatus]
    milestones: dict[MilestoneKey, MilestoneStatus]
    approvals: dict[MilestoneKey, ApprovalState]
    tasks: dict[TaskKey, TaskStatus]


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
                approvals[ref] = ApprovalState(
                    approval.status,
                    approval.requested_at,
                    approval.approved_at,
                    approval.approver_user_id,
                )
    tasks = {
        (runbook.runbook_id, task.task_name): task.status
        for runbook in release.runbooks
        for task in runbook.tasks
    }
    return Snapshot(gates, milestones, approvals, tasks)


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
    if state.status is ApprovalStatus.PENDING:
        # Pending anew, or asked again (what it covers changed): a new round of asking.
        return [ApprovalRequested(ref=ref, requested_at=state.requested_at)]
    if state.status in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED) and (
        was is None or was.status is not state.status or was.decided_at != state.decided_at
    ):
        decision = Decision.APPROVE if state.status is ApprovalStatus.APPROVED else Decision.REJECT
        return [
            ApprovalDecided(ref=ref, decision=decision, by=state.decided_by, at=state.decided_at)
        ]
    return []
