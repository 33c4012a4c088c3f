"""One rule per operation (core/rules/operations.py): the check a command makes before its
form opens is the one the service makes when the form is saved, so the two cannot disagree."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import pytest

from core.errors import PermissionDenied
from core.models.attachment import AttachmentDraft, AttachmentTarget
from core.models.catalog import ApplicationDraft, JiraBoardDraft, SquadDraft
from core.models.rbac import Permission, RoleDraft, UserDraft
from core.models.release import Change, FixedVersion, MilestoneStatus, ReleaseDraft, TaskStatus
from core.rules import operations as ops
from core.rules.operations import require_any
from core.services.gates import GateChange, GateDraft, MilestoneChange
from core.services.runbooks import RunbookDraft, TaskChange
from tests.support import World, milestone

REL = "REL-2026.12"
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.fixture
def world(any_world: World) -> World:
    """Every test here runs on the in-memory fakes and on the storage adapters."""
    return any_world


def service_calls(world: World) -> dict[ops.Operation, Callable[[Any], Awaitable[object]]]:
    """Each operation, done through its service by ``actor``."""
    s = world.services
    return {
        ops.CREATE_RELEASE: lambda a: s.releases.create(
            a,
            ReleaseDraft(release_id="REL-2027.01", release_name="N", release_date=date(2027, 1, 5)),
        ),
        ops.ADD_PRODUCT: lambda a: s.releases.add_product(
            a, REL, application_id="app", product_id="pay-api"
        ),
        ops.SET_FIXED_VERSION: lambda a: s.releases.set_fixed_version(
            a, REL, "pay-api", FixedVersion(version_key="pay-1.0", version_name="Pay 1.0")
        ),
        ops.EDIT_DESCRIPTION: lambda a: s.releases.edit_description(a, REL, "Now with more."),
        ops.ADD_GATE: lambda a: s.gates.add_gate(a, REL, "pay-api", GateDraft(gate_name="DAST")),
        ops.CHANGE_GATE: lambda a: s.gates.update_gate(
            a, REL, "pay-api", "UAT", GateChange(description="Signed by the business")
        ),
        ops.ADD_MILESTONE: lambda a: s.gates.add_milestone(
            a, REL, "pay-api", "UAT", milestone("uat-2", 3)
        ),
        ops.CHANGE_MILESTONE: lambda a: s.gates.update_milestone(
            a, REL, "pay-api", "UAT", "uat-1", MilestoneChange(status=MilestoneStatus.DONE)
        ),
        ops.ADD_RUNBOOK: lambda a: s.runbooks.add_runbook(a, REL, RunbookDraft(runbook_name="Go")),
        ops.UPDATE_TASK: lambda a: s.runbooks.update_task(
            a, REL, "rb", "deploy", TaskChange(status=TaskStatus.DONE)
        ),
        ops.MANAGE_CHANGE: lambda a: s.runbooks.upsert_change(a, REL, Change(change_id="CHG1")),
        ops.ATTACH_FILE: lambda a: s.attachments.attach(
            a,
            AttachmentDraft(
                file_name="plan.pdf",
                file_size=1,
                file_url="https://files.example.com/p",
                sha256=SHA,
            ),
            AttachmentTarget(release_id=REL),
        ),
        ops.CREATE_ROLE: lambda a: s.roles.create(a, RoleDraft(role_name="Keeper")),
        ops.ADD_USER: lambda a: s.users.create(
            a, UserDraft(username="nora", full_name="Nora", email="nora@example.com")
        ),
        ops.ADD_APPLICATION: lambda a: s.catalog.create_application(
            a, ApplicationDraft(application_id="fx", application_name="FX")
        ),
        ops.ADD_SQUAD: lambda a: s.catalog.create_squad(
            a, SquadDraft(squad_id="fx", squad_name="FX")
        ),
        ops.ADD_BOARD: lambda a: s.catalog.create_board(
            a, JiraBoardDraft(board_id="FX", board_name="FX")
        ),
        ops.SUBSCRIBE_CHANNEL: lambda a: s.digests.subscribe_channel(
            a, team_id="T1", channel_id="C1", at=None, time_zone=None
        ),
    }


async def test_each_service_refuses_exactly_as_its_form_is_refused_before_opening(
    world: World,
) -> None:
    await world.release(gates=["UAT"])
    reader = await world.actor("pat", Permission.CAN_VIEW_ALL)
    before = await world.snapshot()

    for operation, call in service_calls(world).items():
        with pytest.raises(PermissionDenied) as early:
            require_any(reader, [operation])
        with pytest.raises(PermissionDenied) as on_save:
            await call(reader)
        assert on_save.value.message == early.value.message, operation.action
        assert operation.action in early.value.message

    assert await world.snapshot() == before


async def test_anyone_allowed_one_way_passes_and_is_checked_again_on_each_save(
    world: World,
) -> None:
    """The product form opens for someone who may only define fixed versions; adding a
    product with it is still refused by its own operation."""
    await world.release()
    versions = await world.actor(
        "vic", Permission.CAN_DEFINE_FIXED_VERSIONS, Permission.CAN_VIEW_ALL
    )

    require_any(versions, [ops.ADD_PRODUCT, ops.SET_FIXED_VERSION])  # no refusal
    with pytest.raises(PermissionDenied, match="to add a product to a release"):
        await service_calls(world)[ops.ADD_PRODUCT](versions)


async def test_a_form_offering_several_operations_names_each_way(world: World) -> None:
    reader = await world.actor("pat")

    with pytest.raises(PermissionDenied) as refused:
        require_any(reader, [ops.ADD_GATE, ops.CHANGE_GATE, ops.WAIVE_GATE])

    assert refused.value.message == (
        "You need the 'can_manage_quality_gates' permission to add a quality gate, or the "
        "'is_approval_manager' permission to waive a quality gate. Ask an admin to grant you a "
        "role that has it."
    )


async def test_a_disabled_account_is_told_so_first(world: World) -> None:
    disabled = await world.actor("old", *Permission, status="DISABLED")

    with pytest.raises(PermissionDenied, match="is disabled"):
        require_any(disabled, [ops.CREATE_RELEASE])
