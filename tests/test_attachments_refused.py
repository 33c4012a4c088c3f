"""AttachmentService.attach: a link that is refused registers no file either — the target is
checked before the file is stored."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import DomainError, NotFound, ValidationFailed
from core.models.attachment import AttachmentDraft, AttachmentTarget
from core.models.rbac import Permission
from core.models.release import RunbookTask
from core.services.runbooks import RunbookDraft
from tests.support import World

REL = "REL-2026.12"
SHA = "cd" * 32


@pytest.fixture
def world(any_world: World) -> World:
    """Every test here runs on the in-memory fakes and on the storage adapters."""
    return any_world


def draft() -> AttachmentDraft:
    return AttachmentDraft(
        file_name="plan.pdf",
        file_type="application/pdf",
        file_size=2048,
        file_url="https://files.example.com/plan.pdf",
        sha256=SHA,
    )


async def a_release(world: World) -> None:
    await world.release(REL, products=["pay-api"], gates=["Security scan"])
    await world.services.runbooks.add_runbook(
        await world.admin_actor(),
        REL,
        RunbookDraft(runbook_name="Deploy", tasks=[RunbookTask(task_name="Drain")]),
    )


TARGETS: dict[str, tuple[dict[str, Any], type[DomainError]]] = {
    "unknown release": ({"release_id": "REL-NOPE"}, NotFound),
    "unknown product": ({"product_id": "card-api"}, NotFound),
    "unknown gate": ({"product_id": "pay-api", "gate_name": "Perf"}, NotFound),
    "unknown milestone": (
        {"product_id": "pay-api", "gate_name": "Security scan", "milestone_key": "m"},
        NotFound,
    ),
    "gate without product": ({"gate_name": "Security scan"}, ValidationFailed),
    "unknown runbook": ({"runbook_id": "Rollback"}, NotFound),
    "unknown task": ({"runbook_id": "Deploy", "runbook_task_name": "Boot"}, NotFound),
    "no change ticket": ({"ctask_id": "CTASK1"}, ValidationFailed),
}


@pytest.mark.parametrize("where", list(TARGETS))
async def test_a_refused_target_stores_no_file(world: World, where: str) -> None:
    await a_release(world)
    uma = await world.actor("uma", Permission.CAN_UPLOAD_ATTACHMENTS, Permission.CAN_VIEW_ALL)
    fields, error = TARGETS[where]
    target = AttachmentTarget.model_validate({"release_id": REL, **fields})
    before = await world.snapshot()

    with pytest.raises(error):
        await world.services.attachments.attach(uma, draft(), target)

    assert await world.snapshot() == before


async def test_a_release_the_uploader_may_not_see_stores_no_file(world: World) -> None:
    """Another squad's release answers as an unknown one, and registers nothing."""
    await a_release(world)
    outsider = await world.actor("otto", Permission.CAN_UPLOAD_ATTACHMENTS, squads=["identity"])
    before = await world.snapshot()

    with pytest.raises(NotFound):
        await world.services.attachments.attach(outsider, draft(), AttachmentTarget(release_id=REL))

    assert await world.snapshot() == before


async def test_a_good_target_still_registers_and_links_the_file(world: World) -> None:
    await a_release(world)
    uma = await world.actor("uma", Permission.CAN_UPLOAD_ATTACHMENTS, Permission.CAN_VIEW_ALL)
    target = AttachmentTarget(release_id=REL, runbook_id="Deploy", runbook_task_name="drain")

    attachment, release = await world.services.attachments.attach(uma, draft(), target)

    assert len(await world.stored("attachments")) == 1
    task = release.runbook("Deploy").task("Drain")
    assert [r.attachment_id for r in task.attachment_refs] == [attachment.id]
    linked = await world.repos.attachments.get(attachment.id)
    runbook_id = release.runbook("Deploy").runbook_id
    assert linked.links == [
        AttachmentTarget(release_id=REL, runbook_id=runbook_id, runbook_task_name="Drain")
    ]
