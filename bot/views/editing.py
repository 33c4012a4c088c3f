"""Submissions of the release-editing modals: each form's reader (blocks/modals) turns its
state into a core draft; here a save resolves what needs I/O (the owner picked, a pick
given as a digest, task owners by username, the past-date confirmation), calls one core
service, and the listener answers field errors in the modal or confirms once saved."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from blocks.ids import CallbackId, EditField
from blocks.message import Message
from blocks.modals import (
    EditingMetadata,
    Form,
    GatePick,
    MilestonePick,
    ProductPick,
    TargetPick,
    TaskPick,
    confirmations as confirm,
    gate_picks,
    milestone as milestone_form,
    milestone_picks,
    read_attach_form,
    read_change_form,
    read_gate_form,
    read_milestone_form,
    read_product_form,
    read_release_form,
    read_runbook_form,
    read_task_form,
    target_name,
    target_picks,
    task_picks,
)
from blocks.modals.form import Pick, is_digest
from blocks.modals.gate import frozen_field_text
from blocks.text import span
from bot.deps import BotDeps
from bot.identity import actor_of
from bot.views.form_input import ViewListener, confirm_saved, field_errors
from core.errors import NotFound, PastReleaseDate, RuleViolation, ValidationFailed
from core.models.release import FixedVersion, Release
from core.rules.freeze import Frozen
from core.rules.milestones import MilestonesOverlap
from core.rules.permissions import Actor
from core.services.gates import GateDraft, MilestoneDraft

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
    ) -> P:
        """The select's option as a pick; a digest value is resolved against the release."""
        value = self.form.choice(block)
        if value is None:
            raise ValidationFailed("Pick one.", fields={block: "Pick one"})
        found = kind.read(value)
        if found is None and offered is not None and is_digest(value):
            found = kind.read(value, offered(await self.load()))
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

    async def portal_user(self, username: str, task: str) -> str:
        """The id of the portal user a runbook task line names as its owner."""
        try:
            return (await self.deps.services.users.get(self.actor, username)).id
        except NotFound:
            raise ValidationFailed(
                f"No user '{username}'.",
                fields={EditField.TASKS: f"No releasebot user '{username}' (task {task})"},
            ) from None


Save = Callable[[Submission], Awaitable[Message]]  # the confirmation to show


@dataclass(frozen=True)
class Editor:
    callback_id: CallbackId
    save: Save
    focus: Callable[[Form], str]
    aliases: Mapping[str, str] = field(default_factory=dict)


# --- one function per modal ----------------------------------------------------------------


async def save_release(s: Submission) -> Message:
    draft = read_release_form(s.form)
    releases = s.deps.services.releases
    try:
        release = await releases.create(s.actor, draft, tz=s.tz)
    except PastReleaseDate as past:
        await _ask_once(s, draft.release_id, past)
        release = await releases.create(s.actor, draft, tz=s.tz, past_date_confirmed=True)
    return confirm.release_created(release)


async def save_product(s: Submission) -> Message:
    pick = await s.pick(EditField.PRODUCT, ProductPick)  # ids are keys: never a digest
    typed = read_product_form(s.form, pick)
    releases = s.deps.services.releases
    if isinstance(typed, FixedVersion):
        release = await releases.set_fixed_version(s.actor, s.release, pick.product_id, typed)
        return confirm.fixed_version_set(release, pick.product_id)
    release = await releases.add_product(
        s.actor,
        s.release,
        application_id=typed.application_id,
        product_id=typed.product_id,
        squad_ids=typed.squad_ids,
    )
    return confirm.product_added(release, pick.product_id)


async def save_gate(s: Submission) -> Message:
    pick = await s.pick(EditField.GATE, GatePick, gate_picks)
    typed = read_gate_form(s.form, pick, owner_id=await s.owner())
    gates = s.deps.services.gates
    if isinstance(typed, GateDraft):
        release = await gates.add_gate(s.actor, s.release, pick.product_id, typed)
        return confirm.gate_added(release, pick.product_id, typed.gate_name)
    try:
        with _picked(EditField.GATE):
            release = await gates.update_gate(
                s.actor, s.release, pick.product_id, typed.gate_name, typed.change
            )
    except Frozen as frozen:  # under the status: which freeze, until when, how to go ahead
        said = frozen_field_text(frozen, s.tz)
        raise RuleViolation(said, fields={EditField.GATE_STATUS: said}) from None
    return confirm.gate_changed(release, pick.product_id, typed.gate_name)


async def save_milestone(s: Submission) -> Message:
    pick = await s.pick(EditField.MILESTONE, MilestonePick, milestone_picks)
    current = None
    if pick.milestone_key is not None:  # its approval, for the policy settings left as they are
        with _picked(EditField.MILESTONE):
            gate = (await s.load()).product(pick.product_id).gate(pick.gate_name)
            current = gate.milestone(pick.milestone_key).approval
    roles: list[str] = []
    if milestone_form.names_approvers(s.form):
        roles = [r.role_name for r in await s.deps.services.roles.list_roles(s.actor)]
    typed = read_milestone_form(
        s.form, pick, owner_id=await s.owner(), role_names=roles, current=current
    )
    gates, where = s.deps.services.gates, (s.actor, s.release, pick.product_id, pick.gate_name)
    if isinstance(typed, MilestoneDraft):
        after = await gates.add_milestone(*where, typed)
    else:
        with _picked(EditField.MILESTONE):
            after = await gates.update_milestone(*where, typed.milestone_key, typed.change)
    # Approval requests that this save made pending are DMed by the reactions to its events.
    added = isinstance(typed, MilestoneDraft)
    return confirm.milestone_saved(
        after, pick.product_id, pick.gate_name, typed.milestone_key, s.tz, added=added
    )


async def save_runbook(s: Submission) -> Message:
    typed = read_runbook_form(s.form)
    owners = {name: await s.portal_user(name, task) for name, task in typed.owners().items()}
    draft = typed.draft(owners)
    release = await s.deps.services.runbooks.add_runbook(s.actor, s.release, draft)
    return confirm.runbook_added(release, draft.runbook_name)


async def save_task(s: Submission) -> Message:
    pick = await s.pick(EditField.TASK, TaskPick, task_picks)
    change = read_task_form(s.form, owner_id=await s.owner())
    release = await s.deps.services.runbooks.update_task(
        s.actor, s.release, pick.runbook_id, pick.task_name, change
    )
    return confirm.task_updated(release, pick.runbook_id, pick.task_name, s.tz)


async def save_change(s: Submission) -> Message:
    """The core refuses a release changed since the form was opened."""
    chg = read_change_form(s.form)
    created = (await s.load()).chg is None  # for the confirmation's wording only
    release = await s.deps.services.runbooks.upsert_change(
        s.actor, s.release, chg, expected_version=s.meta.version
    )
    return confirm.change_saved(release, created=created)


async def save_attachment(s: Submission) -> Message:
    pick = await s.pick(EditField.TARGET, TargetPick, target_picks)
    typed = read_attach_form(s.form, pick, release_id=s.release)
    attachment, release = await s.deps.services.attachments.attach(
        s.actor, typed.draft, typed.target, label=typed.label
    )
    return confirm.attachment_linked(release, attachment, target_name(pick))


# --- what a save needs besides the form ------------------------------------------------------

PAST_DATE_CONFIRMATION = timedelta(minutes=15)


async def _ask_once(s: Submission, release_id: str, past: PastReleaseDate) -> None:
    """Refuse a past release date the first time it is submitted (within 15 minutes): the
    next submission with the same date is the person's confirmation, on whichever replica
    it lands."""
    key = f"past-date:{s.user_id}:{release_id.lower()}:{past.day}"
    if await s.deps.repos.claims.claim(key, now=s.deps.clock(), ttl=PAST_DATE_CONFIRMATION):
        raise ValidationFailed(
            past.message,
            fields={
                EditField.RELEASE_DATE: f"{past.day:%a %d %b %Y} is in the past. Check it "
                "(it cannot be changed later), or press Create again to keep it"
            },
        )


def overlap_errors(
    overlap: MilestonesOverlap, context: dict[str, Any], deps: BotDeps
) -> dict[str, str]:
    clash = overlap.clash
    times = span(clash.start_date, clash.end_date, context.get("tz") or deps.default_tz)
    said = f"Overlaps {clash.milestone_name} ({times}) in gate {overlap.gate_name}"
    return {str(EditField.START): said}


@contextmanager
def _picked(block: str) -> Iterator[None]:
    """A gate or milestone picked in the form but gone by the time it is saved is told under
    its picker, not under the input for a new one's name (which has the same field name)."""
    try:
        yield
    except NotFound as error:
        raise NotFound(error.message, fields={block: "No longer there"}) from None


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
            "approval_policy": milestone_form.PolicyField.APPROVERS,
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


def forms(deps: BotDeps) -> dict[str, ViewListener]:
    return {editor.callback_id: _listener(deps, editor) for editor in EDITORS}


def _listener(deps: BotDeps, editor: Editor) -> ViewListener:
    async def on_submit(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        view = body.get("view") or {}
        form = Form(view)
        user_id = str((body.get("user") or {}).get("id", ""))
        meta = EditingMetadata()
        try:
            actor = actor_of(context)
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
            message = await editor.save(submission)
        except MilestonesOverlap as overlap:  # the other milestone's times on the person's clock
            await ack(response_action="errors", errors=overlap_errors(overlap, context, deps))
            return
        except Exception as error:  # nothing was saved: say why, next to the field
            errors = field_errors(error, form, aliases=editor.aliases, focus=editor.focus(form))
            await ack(response_action="errors", errors=errors)
            return
        await ack()  # closes the modal; what follows happens after Slack has its answer
        await confirm_saved(client, user_id, message, channel=meta.channel)

    return on_submit
