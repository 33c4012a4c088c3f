"""Rule 1: gate status. WAIVED only by an approval manager, and only with a comment."""

from __future__ import annotations

from core.errors import PermissionDenied, ValidationFailed
from core.models.rbac import Permission
from core.models.release import GateStatus, QualityGate
from core.rules.permissions import Actor

SATISFIED = frozenset({GateStatus.PASSED, GateStatus.WAIVED})
FAILING = frozenset({GateStatus.BLOCKED, GateStatus.FAILED})


def check_gate_status_change(
    actor: Actor, gate: QualityGate, status: GateStatus, comment: str | None
) -> None:
    """Refuse a gate status change the actor may not make.

    Waiving needs is_approval_manager and a comment; any other status change needs
    can_manage_quality_gates.
    """
    if status is GateStatus.WAIVED and gate.gate_status is not GateStatus.WAIVED:
        actor.require_active()
        if not actor.has(Permission.IS_APPROVAL_MANAGER):
            raise PermissionDenied(
                f"Gate '{gate.gate_name}' can be waived only by an approval manager; "
                "ask one to waive it, or set another status."
            )
        if not (comment and comment.strip()):
            raise ValidationFailed(
                f"Waiving gate '{gate.gate_name}' needs a comment saying why.",
                fields={"comment": "A waiver needs a comment"},
            )
    elif status is not gate.gate_status:
        actor.require(Permission.CAN_MANAGE_QUALITY_GATES, "change a gate's status")
