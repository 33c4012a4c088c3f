"""AttachmentService: register a file once by sha256 and link it to parts of a release."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import Duplicate, NotFound, PermissionDenied, ValidationFailed
from core.models.attachment import AttachmentDraft, AttachmentTarget
from core.models.common import parse
from core.models.rbac import Permission
from core.models.release import AttachmentRef, Change, CTask, Release, RunbookTask
from core.rules.permissions import Actor
from core.services.runbooks import RunbookDraft
from tests.support import T0, World, milestone

REL = "REL-2026.12"
SHA = "ab" * 32


@pytest.fixture
def world(any_world: World) -> World:
    """Every test here runs on the in-memory fakes and on the storage adapters."""
    return any_world


def draft(sha256: str = SHA, name: str = "plan.pdf", **extra: Any) -> AttachmentDraft:
    return AttachmentDraft.model_validate(
        {
            "file_name": name,
            "file_type": "application/pdf",
            "file_size": 2048,
            "file_url": f"https://files.example.com/{name}",
            "sha256": sha256,
            **extra,
        }
    )


async def uploader(world: World) -> Actor:
    return await world.actor("uma", Permission.CAN_UPLOAD_ATTACHMENTS, Permission.CAN_VIEW_ALL)


async def full_release(world: World) -> Release:
    """A release with a product, gate, milestone, runbook task and CTASK to attach to."""
    await world.release(REL, products=["pay-api"], gates=["Security scan"])
    admin = await world.admin_actor()
    await world.services.gates.add_milestone(
        admin, REL, "pay-api", "Security scan", milestone("scan-uat", 0)
    )
    await world.services.runbooks.add_runbook(
        admin, REL, RunbookDraft(runbook_name="Deploy", tasks=[RunbookTask(task_name="Drain")])
    )
    await world.services.runbooks.upsert_change(
        admin, REL, Change(change_id="CHG0001", ctasks=[CTask(ctask_id="CTASK1")])
    )
    return await world.repos.releases.get(REL)


def refs_at(release: Release, where: str) -> list[AttachmentRef]:
    product = release.product("pay-api")
    gate = product.gate("Security scan")
    assert release.chg is not None
    return {
        "release": release.attachment_refs,
        "product": product.attachment_refs,
        "gate": gate.attachment_refs,
        "milestone": gate.milestone("scan-uat").attachment_refs,
        "runbook": release.runbook("Deploy").attachment_refs,
        "task": release.runbook("Deploy").task("Drain").attachment_refs,
        "ctask": release.chg.ctasks[0].attachment_refs,
    }[where]


TARGETS: dict[str, dict[str, str]] = {
    "release": {},
    "product": {"product_id": "pay-api"},
    "gate": {"product_id": "pay-api", "gate_name": "Security scan"},
    "milestone": {
        "product_id": "pay-api",
        "gate_name": "Security scan",
        "milestone_key": "scan-uat",
    },
    "runbook": {"runbook_id": "RUNBOOK"},
    "task": {"runbook_id": "RUNBOOK", "runbook_task_name": "Drain"},
    "ctask": {"ctask_id": "CTASK1"},
}


def target(release: Release, where: str) -> AttachmentTarget:
    fields = dict(TARGETS[where])
    if fields.get("runbook_id") == "RUNBOOK":
        fields["runbook_id"] = release.runbook("Deploy").runbook_id
    return AttachmentTarget(release_id=REL, **fields)


async def test_register_stores_the_file_with_its_uploader(world: World) -> None:
    uma = await uploader(world)

    registered = await world.services.attachments.register(uma, draft(SHA.upper()))

    stored = await world.repos.attachments.get(registered.id)
    assert stored.sha256 == SHA
    assert stored.uploaded_by == uma.user_id
    assert stored.uploaded_at == T0
    assert stored.links == []


async def test_register_without_permission_is_denied_and_stores_nothing(world: World) -> None:
    viewer = await world.actor("vic", Permission.CAN_VIEW_ALL)
    before = await world.snapshot()

    with pytest.raises(PermissionDenied, match="can_upload_attachments"):
        await world.services.attachments.register(viewer, draft())

    assert await world.snapshot() == before


async def test_registering_the_same_content_twice_is_a_duplicate(world: World) -> None:
    uma = await uploader(world)
    await world.services.attachments.register(uma, draft(SHA, name="plan.pdf"))

    with pytest.raises(Duplicate) as caught:
        await world.services.attachments.register(uma, draft(SHA.upper(), name="copy.pdf"))

    assert "sha256" in caught.value.fields
    assert len(await world.stored("attachments")) == 1


async def test_attach_reuses_the_file_already_registered_with_that_sha256(world: World) -> None:
    await full_release(world)
    uma = await uploader(world)
    first = await world.services.attachments.register(uma, draft(SHA, name="plan.pdf"))

    attachment, release = await world.services.attachments.attach(
        uma, draft(SHA.upper(), name="copy.pdf"), AttachmentTarget(release_id=REL)
    )

    assert attachment.id == first.id
    assert len(await world.stored("attachments")) == 1
    assert [(r.attachment_id, r.label) for r in release.attachment_refs] == [(first.id, "plan.pdf")]
    stored = await world.repos.attachments.get(first.id)
    assert stored.links == [AttachmentTarget(release_id=REL)]


@pytest.mark.parametrize("where", list(TARGETS))
async def test_linking_puts_the_reference_on_the_named_part(world: World, where: str) -> None:
    release = await full_release(world)
    uma = await uploader(world)
    registered = await world.services.attachments.register(uma, draft(tags=["evidence"]))

    await world.services.attachments.link(uma, registered.id, target(release, where), "Evidence")

    stored = await world.repos.releases.get(REL)
    for part in TARGETS:
        refs = refs_at(stored, part)
        if part == where:
            assert [(r.attachment_id, r.label, r.tags, r.added_by) for r in refs] == [
                (registered.id, "Evidence", ["evidence"], uma.user_id)
            ]
        else:
            assert refs == []
    linked = await world.repos.attachments.get(registered.id)
    expected = target(release, where)
    if expected.product_id:  # the link also records the product's application
        expected = expected.model_copy(
            update={"application_id": stored.product(expected.product_id).application_id}
        )
    assert linked.links == [expected]
    _, events = await world.services.timeline.history(uma, REL, limit=1)
    assert events[0].action == "attachment.linked"
    assert events[0].target.attachment_id == registered.id


async def test_linking_twice_keeps_one_reference_and_one_link(world: World) -> None:
    release = await full_release(world)
    uma = await uploader(world)
    registered = await world.services.attachments.register(uma, draft())
    await world.services.attachments.link(uma, registered.id, target(release, "gate"), "Scan")
    before = await world.snapshot()

    await world.services.attachments.link(uma, registered.id, target(release, "gate"), "Scan")
    await world.services.attachments.attach(uma, draft(), target(release, "gate"))

    assert await world.snapshot() == before
    stored = await world.repos.releases.get(REL)
    assert len(refs_at(stored, "gate")) == 1
    assert len((await world.repos.attachments.get(registered.id)).links) == 1


async def test_a_link_made_through_the_release_object_id_is_stored_by_release_id(
    world: World,
) -> None:
    release = await full_release(world)
    uma = await uploader(world)
    registered = await world.services.attachments.register(uma, draft())

    await world.services.attachments.link(
        uma, registered.id, AttachmentTarget(release_id=release.id), "Plan"
    )

    assert (await world.repos.attachments.get(registered.id)).links == [
        AttachmentTarget(release_id=REL)
    ]


async def test_a_runbook_linked_by_name_is_recorded_by_its_id(world: World) -> None:
    release = await full_release(world)
    uma = await uploader(world)
    registered = await world.services.attachments.register(uma, draft())
    by_name = AttachmentTarget(release_id=REL, runbook_id="Deploy")

    await world.services.attachments.link(uma, registered.id, by_name, "Plan")
    await world.services.attachments.link(uma, registered.id, target(release, "runbook"), "Plan")

    assert (await world.repos.attachments.get(registered.id)).links == [target(release, "runbook")]


async def test_linking_to_an_unknown_gate_is_not_found_and_links_nothing(world: World) -> None:
    await full_release(world)
    uma = await uploader(world)
    registered = await world.services.attachments.register(uma, draft())
    before = await world.snapshot()

    with pytest.raises(NotFound, match="Security scan"):
        await world.services.attachments.link(
            uma,
            registered.id,
            AttachmentTarget(release_id=REL, product_id="pay-api", gate_name="Perf test"),
            "Plan",
        )

    assert await world.snapshot() == before


async def test_linking_to_an_unknown_ctask_is_refused(world: World) -> None:
    await full_release(world)
    uma = await uploader(world)
    registered = await world.services.attachments.register(uma, draft())

    with pytest.raises(ValidationFailed, match="CTASK9"):
        await world.services.attachments.link(
            uma, registered.id, AttachmentTarget(release_id=REL, ctask_id="CTASK9"), "Plan"
        )


async def test_link_without_permission_is_denied(world: World) -> None:
    await full_release(world)
    uma = await uploader(world)
    registered = await world.services.attachments.register(uma, draft())
    viewer = await world.actor("vic", Permission.CAN_VIEW_ALL)
    before = await world.snapshot()

    with pytest.raises(PermissionDenied):
        await world.services.attachments.link(
            viewer, registered.id, AttachmentTarget(release_id=REL), "Plan"
        )

    assert await world.snapshot() == before


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://files.example.com/plan.pdf",
        "file:///etc/passwd",
        "//files.example.com/plan.pdf",
        "https://files.example.com/a b.pdf",
        "https://<script>",
    ],
)
def test_a_file_url_that_is_not_plain_http_is_refused(url: str) -> None:
    data = draft().model_dump() | {"file_url": url}

    with pytest.raises(ValidationFailed) as caught:
        parse(AttachmentDraft, data)

    assert "file_url" in caught.value.fields


def test_a_mime_type_is_accepted_as_file_type() -> None:
    data = draft().model_dump() | {"file_type": "application/pdf"}

    assert parse(AttachmentDraft, data).file_type == "application/pdf"


async def test_a_file_registered_without_a_type_can_be_read_back(world: World) -> None:
    uma = await uploader(world)
    untyped = AttachmentDraft(
        file_name="notes.txt",
        file_size=1,
        file_url="https://files.example.com/notes.txt",
        sha256=SHA,
    )
    registered = await world.services.attachments.register(uma, untyped)

    assert (await world.repos.attachments.get(registered.id)).file_name == "notes.txt"
