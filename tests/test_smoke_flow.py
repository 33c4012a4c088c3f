"""One walk through the main flow, as a release manager and an approval manager would."""

from core.models.rbac import Permission
from core.models.release import Decision, GateStatus
from core.rules.readiness import Readiness, summarize
from core.services.gates import GateChange
from tests.support import World, milestone


async def test_release_becomes_ready_after_gate_passes_and_approval(world: World) -> None:
    await world.release(gates=["Security scan"])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    arjun = await world.actor("arjun", Permission.IS_APPROVAL_MANAGER, Permission.CAN_VIEW_ALL)
    draft = milestone("scan-uat", 0, approval_required=True, requires_approval_manager=True)
    await world.services.gates.add_milestone(rhea, "REL-2026.12", "pay-api", "Security scan", draft)

    release = await world.services.approvals.decide(
        arjun, "REL-2026.12", "pay-api", "Security scan", "scan-uat", Decision.APPROVE
    )
    assert summarize(release).readiness is Readiness.NOT_READY
    release = await world.services.gates.update_gate(
        rhea, "REL-2026.12", "pay-api", "Security scan", GateChange(gate_status=GateStatus.PASSED)
    )
    summary = summarize(release)
    assert summary.readiness is Readiness.READY
    assert summary.pending_approvals == []
