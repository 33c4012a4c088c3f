"""Submissions of the release-editing modals: parse the state into a core draft, call one
core service, answer field errors in the modal, confirm ephemerally once saved."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from blocks.ids import BP_SIGNED_OFF, Approval, CallbackId, EditField
from blocks.message import Message
from blocks.modals import (
    EditingMetadata,
    GatePick,
    MilestonePick,
    ProductPick,
    TargetPick,
    TaskPick,
    gate_picks,
    milestone_picks,
    target_picks,
    task_picks,
)
from blocks.modals import confirmations as confirm
from blocks.modals.form import Pick, is_digest
from blocks.text import span
from bot.deps import BotDeps
from bot.errors import NotLinked
from bot.views.editing_input import parse_ctask_lines, parse_duration, parse_task_lines
from bot.views.form_input import Form, confirm_saved, field_errors, present, split_list
from core.errors import NotFound, PastReleaseDate, ValidationFailed
from core.models.attachment import AttachmentDraft, AttachmentTarget
from core.models.common import parse
from core.models.release import Change, FixedVersion, Release, ReleaseDraft
from core.rules.milestones import MilestonesOverlap
from core.rules.permissions import Actor
from core.services.approvals import newly_pending
from core.services.gates import GateChange, GateDraft, MilestoneChange, MilestoneDraft
from core.services.runbooks import RunbookDraft, TaskChange

log = logging.getLogger(__name__)
P = TypeVar("P", bound=Pick)


@dataclass(frozen=True)
class Submission:
    """One submitted modal, with what its handler needs."""

    deps: BotDeps
    client: AsyncWebClient
    actor: Actor
    tz: ZoneInfo
    user_id: str
    form: Form
    meta: EditingMetadata

    @property
    def release(self) -> str:
        if not self.meta.release:
            raise ValidationFailed("This form is out of date; open it again.")
        return self.meta.release

    async def load(self) -> Release:
        return await self.deps.services.releases.get(self.actor, self.release)

    async def pick(
        self,
        block: str,
        kind: type[P],
        offered: Callable[[Release], Iterable[P]] | None = None,
        *,
        release: Release | None = None,
    ) -> P:
        """The select's option as a pick; a digest value is resolved against the release."""
        value = self.form.choice(block)
        if value is None:
            raise ValidationFailed("Pick one.", fields={block: "Pick one"})
        found = kind.read(value)
        if found is None and offered is not None and is_digest(value):
            found = kind.read(value, offered(release or await self.load()))
        if found is None:
            raise ValidationFailed(
                "That choice is no longer there.",
                fields={block: "No longer there; close the form and open it again"},
            )
        return found

    async def owner(self, block: str = EditField.OWNER) -> str | None:
        """The portal user of the Slack person picked, linked by email if need be."""
        slack_id = self.form.user(block)
        if slack_id is None:
            return None
        resolved = await self.deps.identities.resolve(self.client, slack_id)
        if resolved.actor is None:
            raise ValidationFailed(
                "That person has no releasebot user.",
                fields={block: "This person has no releasebot user; an admin can link them"},
            )
        return resolved.actor.user_id


@dataclass(frozen=True)
class Saved:
    """The confirmation to show, and slow work to do once the modal is closed."""

    message: Message
    then: Callable[[], Awaitable[object]] | None = None


Save = Callable[[Submission], Awaitable[Saved]]


@dataclass(frozen=True)
class Editor:
    callback_id: CallbackId
    save: Save
    focus: Callable[[Form], str]
    aliases: Mapping[str, str] = field(default_factory=dict)


# --- one function per modal ----------------------------------------------------------------


async def save_release(s: Submission) -> Saved:
    form = s.form
    draft = parse(
        ReleaseDraft,
        present(
            {
                "release_id": form.text(EditField.RELEASE_ID),
                "release_name": form.text(EditField.RELEASE_NAME),
                "release_date": form.date(EditField.RELEASE_DATE),
                "release_type": form.choice(EditField.RELEASE_TYPE),
                "squad_ids": form.choices(EditField.SQUADS),
                "scope_application_ids": form.choices(EditField.APPLICATIONS),
                "description": form.text(EditField.DESCRIPTION),
            }
        ),
    )
    releases = s.deps.services.releases
    try:
        release = await releases.create(s.actor, draft, tz=s.tz)
    except PastReleaseDate as past:
        if await _first_time_asked(
            s, f"past-date:{s.user_id}:{draft.release_id.lower()}:{past.day}"
        ):
            raise ValidationFailed(
                past.message,
                fields={
                    EditField.RELEASE_DATE: f"{past.day:%a %d %b %Y} is in the past. Check it "
                    "(it cannot be changed later), or press Create again to keep it"
                },
            ) from None
        release = await releases.create(s.actor, draft, tz=s.tz, past_date_confirmed=True)
    return Saved(confirm.release_created(release))


def overlap_errors(
    overlap: MilestonesOverlap, context: dict[str, Any], deps: BotDeps
) -> dict[str, str]:
    clash = overlap.clash
    times = span(clash.start_date, clash.end_date, context.get("tz") or deps.default_tz)
    said = f"Overlaps {clash.milestone_name} ({times}) in gate {overlap.gate_name}"
    return {str(EditField.START): said}


PAST_DATE_CONFIRMATION = timedelta(minutes=15)


async def _first_time_asked(s: Submission, key: str) -> bool:
    """True the first time this question is asked (within 15 minutes): the next submission
    with the same answer is the person's confirmation, on whichever replica it lands."""
    claims = s.deps.repos.claims
    return await claims.claim(key, now=s.deps.clock(), ttl=PAST_DATE_CONFIRMATION)


async def save_product(s: Submission) -> Saved:
    form = s.form
    pick = await s.pick(EditField.PRODUCT, ProductPick)  # ids are keys: never a digest
    version = present(
        {
            "version_key": form.text(EditField.VERSION_KEY),
            "version_name": form.text(EditField.VERSION_NAME),
            "status": form.choice(EditField.VERSION_STATUS),
        }
    )
    squads = form.choices(EditField.PRODUCT_SQUADS)
    if pick.application_id is not None:
        if version:  # told under each version field filled in, so each can be cleared
            why = "Add the product first, then pick it again to set its fixed version"
            raise ValidationFailed(
                "Add the product first; then set its fixed version.",
                fields={_VERSION_BLOCKS[name]: why for name in version},
            )
        release = await s.deps.services.releases.add_product(
            s.actor,
            s.release,
            application_id=pick.application_id,
            product_id=pick.product_id,
            squad_ids=squads or None,
        )
        return Saved(confirm.product_added(release, pick.product_id))
    if squads:
        raise ValidationFailed(
            "Squads are chosen when a product is added.",
            fields={EditField.PRODUCT_SQUADS: "Only when adding a product"},
        )
    fixed = parse(FixedVersion, version)
    release = await s.deps.services.releases.set_fixed_version(
        s.actor, s.release, pick.product_id, fixed
    )
    return Saved(confirm.fixed_version_set(release, pick.product_id))


async def save_gate(s: Submission) -> Saved:
    form = s.form
    pick = await s.pick(EditField.GATE, GatePick, gate_picks)
    status, comment = form.choice(EditField.GATE_STATUS), form.text(EditField.COMMENT)
    details = present(
        {
            "description": form.text(EditField.DESCRIPTION),
            "order": form.text(EditField.ORDER),
            "required": form.choice(EditField.REQUIRED),
            "owner_id": await s.owner(),
        }
    )
    gates = s.deps.services.gates
    if pick.gate_name is None:
        given = {EditField.GATE_STATUS: status, EditField.COMMENT: comment}
        filled = [block for block, value in given.items() if value]
        if filled:  # told under each, so each can be cleared
            why = "Only for an existing gate: add the gate, then change its status"
            raise ValidationFailed(
                "A new gate starts as not started.", fields=dict.fromkeys(filled, why)
            )
        draft = parse(
            GateDraft, {**present({"gate_name": form.text(EditField.GATE_NAME)}), **details}
        )
        release = await gates.add_gate(s.actor, s.release, pick.product_id, draft)
        return Saved(confirm.gate_added(release, pick.product_id, draft.gate_name))
    if form.text(EditField.GATE_NAME):
        raise ValidationFailed(
            "Gates keep their name.",
            fields={EditField.GATE_NAME: "Only for a new gate; leave empty to change this one"},
        )
    change = parse(GateChange, {**present({"gate_status": status, "comment": comment}), **details})
    if change == GateChange():
        raise ValidationFailed(
            "Nothing to change.",
            fields={EditField.GATE_STATUS: "Pick a new status, or fill in what should change"},
        )
    with _picked(EditField.GATE):
        release = await gates.update_gate(
            s.actor, s.release, pick.product_id, pick.gate_name, change
        )
    return Saved(confirm.gate_changed(release, pick.product_id, pick.gate_name))


async def save_milestone(s: Submission) -> Saved:
    form = s.form
    before = await s.load()
    pick = await s.pick(EditField.MILESTONE, MilestonePick, milestone_picks, release=before)
    required, manager = _approval(form.choice(EditField.APPROVAL))
    values = present(
        {
            "milestone_name": form.text(EditField.MILESTONE_NAME),
            "environment": form.choice(EditField.ENVIRONMENT),
            "start_date": form.unix_time(EditField.START),
            "end_date": form.unix_time(EditField.END),
            "status": form.choice(EditField.STATUS),
            "owner_id": await s.owner(),
            "approval_required": required,
            "requires_approval_manager": manager,
        }
    )
    gates = s.deps.services.gates
    key = form.text(EditField.MILESTONE_KEY)
    if pick.milestone_key is None:
        draft = parse(MilestoneDraft, {**present({"milestone_key": key}), **values})
        after = await gates.add_milestone(
            s.actor, s.release, pick.product_id, pick.gate_name, draft
        )
        key = draft.milestone_key
    else:
        if key and key != pick.milestone_key:
            raise ValidationFailed(
                "Milestones keep their key.",
                fields={EditField.MILESTONE_KEY: "Only for a new milestone; leave it empty"},
            )
        change = parse(MilestoneChange, values)
        if change == MilestoneChange():
            raise ValidationFailed(
                "Nothing to change.",
                fields={EditField.MILESTONE_NAME: "Fill in what should change"},
            )
        key = pick.milestone_key
        with _picked(EditField.MILESTONE):
            after = await gates.update_milestone(
                s.actor, s.release, pick.product_id, pick.gate_name, key, change
            )
    message = confirm.milestone_saved(
        after, pick.product_id, pick.gate_name, key, s.tz, added=pick.milestone_key is None
    )
    pending = newly_pending(before, after)
    if not pending:
        return Saved(message)

    async def ask_approvers() -> int:
        return await s.deps.notifier.request_decisions(s.client, after, pending)

    return Saved(message, ask_approvers)


async def save_runbook(s: Submission) -> Saved:
    form = s.form
    lines = parse_task_lines(form.text(EditField.TASKS), field=EditField.TASKS)
    owners: dict[str, str] = {}
    for line in lines:
        if line.owner and line.owner not in owners:
            try:
                owners[line.owner] = (await s.deps.services.users.get(s.actor, line.owner)).id
            except NotFound:
                raise ValidationFailed(
                    f"No user '{line.owner}'.",
                    fields={
                        EditField.TASKS: f"No releasebot user '{line.owner}' (task {line.name})"
                    },
                ) from None
    tasks = [
        present(
            {
                "task_name": line.name,
                "owner_id": owners.get(line.owner) if line.owner else None,
                "duration_minutes": line.minutes,
            }
        )
        for line in lines
    ]
    draft = parse(
        RunbookDraft,
        {
            **present(
                {
                    "runbook_name": form.text(EditField.RUNBOOK_NAME),
                    "description": form.text(EditField.DESCRIPTION),
                }
            ),
            "tasks": tasks,
        },
    )
    release = await s.deps.services.runbooks.add_runbook(s.actor, s.release, draft)
    return Saved(confirm.runbook_added(release, draft.runbook_name))


async def save_task(s: Submission) -> Saved:
    form = s.form
    pick = await s.pick(EditField.TASK, TaskPick, task_picks)
    duration = form.text(EditField.DURATION)
    try:
        minutes = parse_duration(duration) if duration else None
    except ValueError as error:
        raise ValidationFailed(str(error), fields={EditField.DURATION: str(error)}) from None
    change = parse(
        TaskChange,
        present(
            {
                "status": form.choice(EditField.STATUS),
                "scheduled_start": form.unix_time(EditField.SCHEDULED_START),
                "scheduled_end": form.unix_time(EditField.SCHEDULED_END),
                "duration_minutes": minutes,
                "owner_id": await s.owner(),
            }
        ),
    )
    if change == TaskChange():
        raise ValidationFailed(
            "Nothing to change.", fields={EditField.STATUS: "Fill in what should change"}
        )
    release = await s.deps.services.runbooks.update_task(
        s.actor, s.release, pick.runbook_id, pick.task_name, change
    )
    return Saved(confirm.task_updated(release, pick.runbook_id, pick.task_name, s.tz))


async def save_change(s: Submission) -> Saved:
    """The form shows each CTASK's id, description and status; the core keeps the rest
    (assignee, times, dependencies, files) and refuses a release changed since the form
    was opened."""
    form = s.form
    lines = parse_ctask_lines(form.text(EditField.CTASKS), field=EditField.CTASKS)
    ctasks = [
        {
            "ctask_id": line.ctask_id,
            **present({"description": line.description, "status": line.status}),
        }
        for line in lines
    ]
    chg = parse(
        Change,
        {
            **present(
                {
                    "change_id": form.text(EditField.CHANGE_ID),
                    "change_type": form.choice(EditField.CHANGE_TYPE),
                    "status": form.choice(EditField.STATUS),
                }
            ),
            "affected_ci": split_list(form.text(EditField.AFFECTED_CI)),
            "bp_signoff": BP_SIGNED_OFF in form.choices(EditField.BP_SIGNOFF),
            "ctasks": ctasks,
        },
    )
    created = (await s.load()).chg is None  # for the confirmation's wording only
    release = await s.deps.services.runbooks.upsert_change(
        s.actor, s.release, chg, expected_version=s.meta.version
    )
    return Saved(confirm.change_saved(release, created=created))


async def save_attachment(s: Submission) -> Saved:
    form = s.form
    pick = await s.pick(EditField.TARGET, TargetPick, target_picks)
    draft = parse(
        AttachmentDraft,
        present(
            {
                "file_name": form.text(EditField.FILE_NAME),
                "file_type": form.text(EditField.FILE_TYPE),
                "file_size": form.text(EditField.FILE_SIZE),
                "file_url": form.text(EditField.FILE_URL),
                "sha256": form.text(EditField.SHA256),
                "tags": split_list(form.text(EditField.TAGS)),
            }
        ),
    )
    target = parse(
        AttachmentTarget,
        present(
            {
                "release_id": s.release,
                "product_id": pick.product_id,
                "gate_name": pick.gate_name,
                "milestone_key": pick.milestone_key,
            }
        ),
    )
    attachment, release = await s.deps.services.attachments.attach(
        s.actor, draft, target, label=form.text(EditField.LABEL)
    )
    return Saved(confirm.attachment_linked(release, attachment, _where(pick)))


# The fixed version's fields, as FixedVersion names them, and the blocks they are typed in.
_VERSION_BLOCKS = {
    "version_key": EditField.VERSION_KEY,
    "version_name": EditField.VERSION_NAME,
    "status": EditField.VERSION_STATUS,
}


@contextmanager
def _picked(block: str) -> Iterator[None]:
    """A gate or milestone picked in the form but gone by the time it is saved is told under
    its picker, not under the input for a new one's name (which has the same field name)."""
    try:
        yield
    except NotFound as error:
        raise NotFound(error.message, fields={block: "No longer there"}) from None


def _approval(value: str | None) -> tuple[bool | None, bool | None]:
    """(approval_required, requires_approval_manager); (None, None) leaves them as they are."""
    if value is None:
        return None, None
    try:
        return Approval(value).settings
    except ValueError:
        raise ValidationFailed(
            "Unknown approval setting.", fields={EditField.APPROVAL: "Pick one of the options"}
        ) from None


def _where(pick: TargetPick) -> str:
    parts = [p for p in (pick.product_id, pick.gate_name, pick.milestone_key) if p]
    return " / ".join(parts) if parts else "the release"


def _always(block: str) -> Callable[[Form], str]:
    return lambda _form: block


def _gate_focus(form: Form) -> str:
    """A refused status change (a waiver, say) is told next to the status."""
    return EditField.GATE_STATUS if form.choice(EditField.GATE_STATUS) else EditField.GATE


EDITORS = (
    Editor(CallbackId.NEW_RELEASE, save_release, _always(EditField.RELEASE_ID)),
    Editor(
        CallbackId.ADD_PRODUCT,
        save_product,
        _always(EditField.PRODUCT),
        {
            "product_id": EditField.PRODUCT,
            "application_id": EditField.PRODUCT,
            "status": EditField.VERSION_STATUS,
        },
    ),
    Editor(CallbackId.GATE, save_gate, _gate_focus, {"product_id": EditField.GATE}),
    Editor(
        CallbackId.MILESTONE,
        save_milestone,
        _always(EditField.MILESTONE),
        {
            "product_id": EditField.MILESTONE,
            "gate_name": EditField.MILESTONE,
            "approval_required": EditField.APPROVAL,
            "requires_approval_manager": EditField.APPROVAL,
        },
    ),
    Editor(CallbackId.RUNBOOK, save_runbook, _always(EditField.RUNBOOK_NAME)),
    Editor(
        CallbackId.TASK,
        save_task,
        _always(EditField.TASK),
        {"runbook_id": EditField.TASK, "task_name": EditField.TASK},
    ),
    Editor(CallbackId.CHANGE, save_change, _always(EditField.CHANGE_ID)),
    Editor(
        CallbackId.ATTACH,
        save_attachment,
        _always(EditField.TARGET),
        {
            "release_id": EditField.TARGET,
            "product_id": EditField.TARGET,
            "gate_name": EditField.TARGET,
            "milestone_key": EditField.TARGET,
            "ctask_id": EditField.TARGET,
        },
    ),
)


# --- the listener ------------------------------------------------------------------------


def register(app: AsyncApp, deps: BotDeps) -> None:
    for editor in EDITORS:
        app.view(editor.callback_id)(_listener(deps, editor))


def _listener(deps: BotDeps, editor: Editor) -> Callable[..., Awaitable[None]]:
    async def on_submit(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        view = body.get("view") or {}
        form = Form(view)
        user_id = str((body.get("user") or {}).get("id", ""))
        meta = EditingMetadata()
        try:
            actor = context.get("actor")
            if actor is None:
                raise NotLinked()
            meta = EditingMetadata.decode(view.get("private_metadata"))
            submission = Submission(
                deps=deps,
                client=client,
                actor=actor,
                tz=context.get("tz") or deps.default_tz,
                user_id=user_id,
                form=form,
                meta=meta,
            )
            saved = await editor.save(submission)
        except MilestonesOverlap as overlap:  # the other milestone's times on the person's clock
            await ack(response_action="errors", errors=overlap_errors(overlap, context, deps))
            return
        except Exception as error:  # nothing was saved: say why, next to the field
            errors = field_errors(error, form, aliases=editor.aliases, focus=editor.focus(form))
            await ack(response_action="errors", errors=errors)
            return
        await ack()  # closes the modal; what follows happens after Slack has its answer
        await confirm_saved(client, user_id, saved.message, channel=meta.channel)
        if saved.then is not None:
            try:
                await saved.then()
            except Exception:
                log.exception("after saving %s", editor.callback_id)

    return on_submit
