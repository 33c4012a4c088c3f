"""Rule 4: the readiness summary of a release."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from core.models.approval import BreakGlass
from core.models.release import (
    ApprovalStatus,
    GateStatus,
    Milestone,
    MilestoneStatus,
    Release,
)
from core.rules.gates import FAILING, SATISFIED

NEXT_MILESTONES = 5
# Bump when what ``summarize`` answers changes: the summaries stored with releases
# (``ReleaseCard``) are then rebuilt at start-up.
SUMMARY_VERSION = 1


class Readiness(StrEnum):
    READY = "READY"
    BLOCKED = "BLOCKED"
    NOT_READY = "NOT_READY"


@dataclass(frozen=True, slots=True)
class MilestoneRef:
    """A milestone with where it sits in the release."""

    product_id: str
    product_name: str
    gate_name: str
    milestone: Milestone


def milestone_refs(release: Release) -> list[MilestoneRef]:
    """Every milestone of the release, where it sits, in the order ``status`` shows them."""
    return [
        MilestoneRef(product.product_id, product.product_name, gate.gate_name, milestone)
        for product, gate in release.gates()
        for milestone in gate.milestones
    ]


@dataclass(frozen=True, slots=True)
class Blocker:
    """A BLOCKED or FAILED gate, or a BLOCKED milestone (then ``milestone_key`` is set)."""

    product_id: str
    gate_name: str
    status: str
    milestone_key: str | None = None
    comment: str | None = None
    product_name: str = ""
    milestone_name: str | None = None


@dataclass(frozen=True, slots=True)
class ReadinessSummary:
    release_id: str
    release_name: str
    release_date: date
    total_gates: int
    counts: dict[GateStatus, int]
    all_required_gates_passed: bool
    has_blockers: bool
    blockers: list[Blocker] = field(default_factory=list)
    next_milestones: list[MilestoneRef] = field(default_factory=list)
    pending_approvals: list[MilestoneRef] = field(default_factory=list)
    # Decided "no": shown with who rejected and why until the milestone is asked again.
    rejected_approvals: list[MilestoneRef] = field(default_factory=list)

    @property
    def is_ready_for_approval(self) -> bool:
        # A release without any gate has been checked for nothing, so it is not ready.
        return self.total_gates > 0 and self.all_required_gates_passed and not self.has_blockers

    @property
    def readiness(self) -> Readiness:
        if self.has_blockers:
            return Readiness.BLOCKED
        return Readiness.READY if self.is_ready_for_approval else Readiness.NOT_READY


def summarize(release: Release, next_limit: int = NEXT_MILESTONES) -> ReadinessSummary:
    """Counts per gate status, blockers, next pending milestones, pending and rejected
    approvals.

    A required gate counts as passed when PASSED or WAIVED (a waiver exists to let a release
    go ahead). Blockers are gates or milestones that are BLOCKED or FAILED.
    """
    counts = dict.fromkeys(GateStatus, 0)
    blockers: list[Blocker] = []
    open_milestones: list[MilestoneRef] = []
    pending: list[MilestoneRef] = []
    rejected: list[MilestoneRef] = []
    required_ok = True
    total = 0
    for product in release.products:
        for gate in product.sorted_gates():
            total += 1
            counts[gate.gate_status] += 1
            if gate.required and gate.gate_status not in SATISFIED:
                required_ok = False
            if gate.gate_status in FAILING:
                blockers.append(
                    Blocker(
                        product.product_id,
                        gate.gate_name,
                        gate.gate_status.value,
                        None,
                        gate.comment,
                        product_name=product.product_name,
                    )
                )
            for milestone in gate.milestones:
                ref = MilestoneRef(
                    product.product_id, product.product_name, gate.gate_name, milestone
                )
                if milestone.status is MilestoneStatus.BLOCKED:
                    blockers.append(
                        Blocker(
                            product.product_id,
                            gate.gate_name,
                            milestone.status.value,
                            milestone.milestone_key,
                            product_name=product.product_name,
                            milestone_name=milestone.milestone_name,
                        )
                    )
                if milestone.status is not MilestoneStatus.DONE:
                    open_milestones.append(ref)
                if milestone.approval.status is ApprovalStatus.PENDING:
                    pending.append(ref)
                elif milestone.approval.status is ApprovalStatus.REJECTED:
                    rejected.append(ref)
    upcoming = heapq.nsmallest(
        next_limit,
        open_milestones,
        key=lambda r: (r.milestone.start_date, r.milestone.milestone_key),
    )
    return ReadinessSummary(
        release_id=release.release_id,
        release_name=release.release_name,
        release_date=release.release_date,
        total_gates=total,
        counts=counts,
        all_required_gates_passed=required_ok,
        has_blockers=bool(blockers),
        blockers=blockers,
        next_milestones=upcoming,
        pending_approvals=pending,
        rejected_approvals=rejected,
    )


class ReleaseCard:
    """What a list line, App Home and a digest show of a release: its head and its readiness
    summary, stored with every write of the release (``storage.codec``) so that they read
    this instead of the whole release.

    A stored summary is decoded when first read (``summary`` may be given as the function
    that decodes it): a digest reads a thousand cards and details fifty of them."""

    def __init__(
        self,
        *,
        id: str,
        release_id: str,
        release_name: str,
        release_date: date,
        release_type: str,
        squad_ids: list[str],
        summary: ReadinessSummary | Callable[[], ReadinessSummary],
        break_glass: Sequence[BreakGlass] = (),
    ) -> None:
        self.id = id
        # The last overrides of freezes (at most CARD_OVERRIDES), for the digest.
        self.break_glass = list(break_glass)
        self.release_id = release_id
        self.release_name = release_name
        self.release_date = release_date
        self.release_type = release_type
        self.squad_ids = squad_ids
        self._summary = summary

    @property
    def summary(self) -> ReadinessSummary:
        if not isinstance(self._summary, ReadinessSummary):
            self._summary = self._summary()
        return self._summary

    def _compared(self) -> tuple[object, ...]:
        head = (self.id, self.release_id, self.release_name, self.release_date)
        return (*head, self.release_type, self.squad_ids, self.summary)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ReleaseCard) and self._compared() == other._compared()

    def __repr__(self) -> str:
        return f"ReleaseCard({self.release_id!r}, {self.release_date})"


CARD_OVERRIDES = 5


def card_of(release: Release) -> ReleaseCard:
    return ReleaseCard(
        id=release.id,
        release_id=release.release_id,
        release_name=release.release_name,
        release_date=release.release_date,
        release_type=release.release_type,
        squad_ids=list(release.squad_ids),
        summary=summarize(release),
        break_glass=release.break_glass[-CARD_OVERRIDES:],
    )
