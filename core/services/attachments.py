"""Attachments: register a file once (unique sha256) and link it to release targets."""

from __future__ import annotations

from datetime import datetime

from core.clock import Clock
from core.errors import Duplicate, ValidationFailed
from core.models.attachment import Attachment, AttachmentDraft, AttachmentTarget
from core.models.common import DomainModel, Name, parse
from core.models.release import AttachmentRef, CTask, Release
from core.models.timeline import TargetPath
from core.ports import AttachmentRepository, ReleaseRepository
from core.rules.operations import ATTACH_FILE
from core.rules.permissions import Actor
from core.services.outbox import Outbox
from core.services.release_changes import Recorded, ReleaseChanges, visible_release


class AttachmentService:
    def __init__(
        self,
        attachments: AttachmentRepository,
        releases: ReleaseRepository,
        outbox: Outbox,
        clock: Clock,
    ) -> None:
        self._attachments = attachments
        self._releases = releases
        self._changes = ReleaseChanges(releases, outbox, clock)
        self._clock = clock

    async def register(self, actor: Actor, draft: AttachmentDraft) -> Attachment:
        actor.require(ATTACH_FILE.permission, "register an attachment")
        attachment = Attachment(
            **draft.model_dump(), uploaded_by=actor.user_id, uploaded_at=self._clock()
        )
        return await self._attachments.add(attachment)

    async def attach(
        self,
        actor: Actor,
        draft: AttachmentDraft,
        target: AttachmentTarget,
        label: str | None = None,
    ) -> tuple[Attachment, Release]:
        """Register the file (or reuse the one with the same sha256) and link it to the target.

        Everything that can refuse — the permission, the label, the release (visible to the
        actor) and the part of it the target names — is checked before the file is
        registered, so a refusal stores nothing. The link then starts from the release as
        read for that check (no second read). Only a target removed in the moment between
        (a CTASK dropped from the change ticket) leaves the file registered, unlinked.
        """
        ATTACH_FILE.require(actor)
        if label is not None:
            label = parse(_LabelInput, {"label": label}).label
        release = await visible_release(self._releases, actor, target.release_id)
        _locate(release, target)
        try:
            attachment = await self.register(actor, draft)
        except Duplicate:
            existing = await self._attachments.find_by_sha256(draft.sha256)
            if existing is None:  # removed between the two calls
                raise
            attachment = existing
        linked = await self._link(
            actor, attachment, target, label or attachment.file_name, read=release
        )
        return attachment, linked

    async def link(
        self, actor: Actor, attachment_id: str, target: AttachmentTarget, label: str
    ) -> Release:
        """Add a reference on the release target, then record the link on the attachment.

        Without transactions the two writes are separate; both are idempotent, so a retry
        after a failure between them completes the link.
        """
        actor.require(ATTACH_FILE.permission, "link an attachment")
        attachment = await self._attachments.get(attachment_id)
        return await self._link(actor, attachment, target, label)

    async def _link(
        self,
        actor: Actor,
        attachment: Attachment,
        target: AttachmentTarget,
        label: str,
        *,
        read: Release | None = None,
    ) -> Release:
        """``read``: the release as the caller just read it (``ReleaseChanges.apply``)."""
        located: list[AttachmentTarget] = []

        def change(release: Release, now: datetime) -> Recorded | None:
            refs, canonical = _locate(release, target)
            located[:] = [canonical]
            if any(r.attachment_id == attachment.id for r in refs):
                return None
            refs.append(
                AttachmentRef(
                    attachment_id=attachment.id,
                    label=label,
                    tags=attachment.tags,
                    added_by=actor.user_id,
                    added_at=now,
                )
            )
            path = TargetPath(
                product_id=canonical.product_id,
                gate_name=canonical.gate_name,
                milestone_key=canonical.milestone_key,
                runbook_id=canonical.runbook_id,
                task_name=canonical.runbook_task_name,
                ctask_id=canonical.ctask_id,
                attachment_id=attachment.id,
            )
            return Recorded(
                "attachment.linked", path, after={"file_name": attachment.file_name, "label": label}
            )

        ref = read.id if read is not None else target.release_id
        release = await self._changes.apply(actor, ref, change, read=read)
        await self._attachments.add_link(attachment.id, located[0])
        return release


class _LabelInput(DomainModel):
    label: Name


def _locate(
    release: Release, target: AttachmentTarget
) -> tuple[list[AttachmentRef], AttachmentTarget]:
    """The attachment_refs list of the most specific part the target names, and the target
    spelled canonically (runbook by id, gate and task names as stored), so one place is
    always recorded the same way however it was typed."""
    found: dict[str, str | None] = {"release_id": release.release_id}
    refs: list[AttachmentRef]
    if target.ctask_id:
        refs = _ctask(release, target.ctask_id).attachment_refs
        found["ctask_id"] = target.ctask_id
    elif target.runbook_id:
        runbook = release.runbook(target.runbook_id)
        found["runbook_id"] = runbook.runbook_id
        refs = runbook.attachment_refs
        if target.runbook_task_name:
            task = runbook.task(target.runbook_task_name)
            found["runbook_task_name"] = task.task_name
            refs = task.attachment_refs
    elif target.product_id:
        product = release.product(target.product_id)
        found |= {"application_id": product.application_id, "product_id": product.product_id}
        refs = product.attachment_refs
        if target.gate_name:
            gate = product.gate(target.gate_name)
            found["gate_name"] = gate.gate_name
            refs = gate.attachment_refs
            if target.milestone_key:
                refs = gate.milestone(target.milestone_key).attachment_refs
                found["milestone_key"] = target.milestone_key
    elif target.gate_name or target.milestone_key:
        raise ValidationFailed(
            "Name the product the gate or milestone belongs to.", fields={"product_id": "Required"}
        )
    else:
        refs = release.attachment_refs
    return refs, AttachmentTarget.model_validate(found)


def _ctask(release: Release, ctask_id: str) -> CTask:
    if release.chg is None:
        raise ValidationFailed(
            f"Release '{release.release_id}' has no change ticket yet; create it first.",
            fields={"ctask_id": "No change ticket"},
        )
    for ctask in release.chg.ctasks:
        if ctask.ctask_id == ctask_id:
            return ctask
    raise ValidationFailed(
        f"Change {release.chg.change_id} has no CTASK '{ctask_id}'.", fields={"ctask_id": "Unknown"}
    )
