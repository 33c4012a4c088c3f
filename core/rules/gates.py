"""Rule 1: gate status. WAIVED only by an approval manager, and only with a comment."""

from __future__ import annotations

from core.errors import PermissionDenied, ValidationFailed
from core.models.release import GateStatus, QualityGate
from core.rules.operations import CHANGE_GATE, WAIVE_GATE
from core.rules.permissions import Actor

SATISFIED = frozenset({GateStatus.PASSED, GateStatus.WAIVED})
FAILING = frozenset({GateStatus.BLOCKED, GateStatus.FAILED})


def check_gate_status_change(
    actor: Actor, gate: QualityGate, status: GateStatus, comment: str | None
) -> None:
    """Refuse a gate status change (or its comment) the actor may not make.

    Setting WAIVED — or rewording a waiver — needs is_approval_manager and a comment; any
    other status or comment change needs can_manage_quality_gates.
    """
    if status is GateStatus.WAIVED:
        require_approval_manager(actor, f"Gate '{gate.gate_name}' can be waived")
        if not (comment and comment.strip()):
            raise ValidationFailed(
                f"Waiving gate '{gate.gate_name}' needs a comment saying why.",
                fields={"comment": "A waiver needs a comment"},
            )
    elif status is not gate.gate_status or (comment or None) != gate.comment:
        CHANGE_GATE.require(actor)


def check_required_change(actor: Actor, gate: QualityGate, required: bool) -> None:
    """Making a required gate optional lets a release skip it: that is a waiver in effect."""
    if gate.required and not required:
        require_approval_manager(actor, f"Gate '{gate.gate_name}' can be made optional")


def require_approval_manager(actor: Actor, what: str) -> None:
    actor.require_active()
    if not WAIVE_GATE.allows(actor):
        raise PermissionDenied(f"{what} only by an approval manager; ask one to do it.")
