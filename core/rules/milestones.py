"""Rule 2: milestones sort by start date and never overlap inside one gate."""

from __future__ import annotations

from core.errors import RuleViolation, ValidationFailed
from core.models.release import Milestone, QualityGate


def check_dates(milestone: Milestone) -> None:
    if milestone.end_date < milestone.start_date:
        raise ValidationFailed(
            f"Milestone '{milestone.milestone_key}' ends "
            f"({milestone.end_date:%Y-%m-%d %H:%M} UTC) before it starts "
            f"({milestone.start_date:%Y-%m-%d %H:%M} UTC); pick an end on or after the start.",
            fields={"end_date": "The end must not precede the start"},
        )


def overlapping(gate: QualityGate, candidate: Milestone) -> Milestone | None:
    """The first other milestone of the gate whose time range overlaps the candidate's.

    Ranges are half-open: one milestone may start exactly when the previous one ends.
    """
    for other in gate.milestones:
        if other.milestone_key == candidate.milestone_key:
            continue
        if candidate.start_date < other.end_date and other.start_date < candidate.end_date:
            return other
    return None


class MilestonesOverlap(RuleViolation):
    """Two milestones of one gate overlap; ``clash`` is the one already there."""

    def __init__(self, gate: QualityGate, milestone: Milestone, clash: Milestone) -> None:
        super().__init__(
            f"Milestone '{milestone.milestone_key}' overlaps '{clash.milestone_key}' "
            f"({clash.milestone_name}, {clash.start_date:%Y-%m-%d %H:%M} → "
            f"{clash.end_date:%Y-%m-%d %H:%M} UTC) in gate '{gate.gate_name}'; "
            "milestones of one gate must not overlap.",
            fields={"start_date": f"Overlaps milestone '{clash.milestone_key}'"},
        )
        self.clash = clash
        self.gate_name = gate.gate_name


def place_milestone(gate: QualityGate, milestone: Milestone) -> None:
    """Insert or replace the milestone in the gate, enforcing dates, overlap and order."""
    check_dates(milestone)
    clash = overlapping(gate, milestone)
    if clash is not None:
        raise MilestonesOverlap(gate, milestone, clash)
    others = [m for m in gate.milestones if m.milestone_key != milestone.milestone_key]
    gate.milestones = sorted([*others, milestone], key=lambda m: (m.start_date, m.milestone_key))
