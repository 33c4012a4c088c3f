"""`/release new | product | gate | milestone | runbook | task | change | attach`: the
release-editing modals.

Each command first checks, from what the request already knows, that the person may save
the form at all (the core's rule for its operations) and — one read — that the release is
one they can see, reading with it what the form offers (the product form: the catalog); a
refusal is answered ephemerally and no modal opens. Then the modal opens while the
trigger_id is fresh (valid 3 s, once) showing "Loading…", and the view is replaced with
views.update. Submissions are handled in bot/views/editing.py, where the core checks
everything again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from slack_sdk.models.views import View

from blocks.ids import CallbackId
from blocks.modals import (
    EditingMetadata,
    add_product_modal,
    attach as attach_form,
    attach_modal,
    change as change_form,
    change_modal,
    gate as gate_form,
    gate_modal,
    milestone as milestone_form,
    milestone_modal,
    product as product_form,
    runbook as runbook_form,
    runbook_modal,
    task_modal,
)
from bot.commands.router import CommandRequest, Handler, Router
from bot.modals import open_modal
from bot.new_release import open_new_release
from core.models.release import Release
from core.rules import operations as ops
from core.rules.archive import require_not_archived
from core.rules.operations import Operation, require_any

log = logging.getLogger(__name__)

# The release is read before its form opens, and the trigger_id (3 s from Slack, part of
# which resolving the person already used) must still open the modal. If storage is slow
# the modal opens at once with "Loading…" and the release is read — and refused, if need
# be — inside it, as before.
PRECHECK_SECONDS = 1.0


@dataclass(frozen=True)
class Loaded:
    """A form's release, read (and refused) as every read of it is, and the form's view
    from the metadata it carries, made of what was read with the release."""

    release: Release
    view: Callable[[EditingMetadata], View]


# A form's read: the release the person named, and what else the form shows, in one read.
LoadForm = Callable[[CommandRequest, str], Awaitable[Loaded]]


@dataclass(frozen=True)
class ReleaseForm:
    """A form of one release, and the core operations saving it performs: it opens for
    anyone the core allows at least one of them (each save is checked again)."""

    name: str
    summary: str
    title: str
    callback_id: CallbackId
    operations: tuple[Operation, ...]
    load: LoadForm


async def open_release_form(request: CommandRequest, form: ReleaseForm) -> None:
    """Refuse now what saving would refuse for who the person is, or for a release they
    cannot see; otherwise open the form."""
    require_any(request.user, form.operations)  # the actor is in the request: no read
    ref = request.arg(0, "a release id")
    checked = await _visible_release(request, form, ref)
    if checked is not None:  # saving would be refused: say so before a form opens
        require_not_archived(checked.release)

    async def build() -> View:
        loaded = checked or await form.load(request, ref)
        release = loaded.release
        metadata = EditingMetadata(
            release=release.release_id, channel=request.channel_id or None, version=release.version
        )
        return loaded.view(metadata)

    await open_modal(request.client, request.trigger_id, form.title, form.callback_id, ref, build)


async def _visible_release(request: CommandRequest, form: ReleaseForm, ref: str) -> Loaded | None:
    """The release and what its form shows, in one read; an unknown id, or a release in
    another squad, is refused here exactly as anywhere else. None when storage did not
    answer in time."""
    try:
        return await asyncio.wait_for(form.load(request, ref), PRECHECK_SECONDS)
    except TimeoutError:
        log.warning("release %r not read within %ss; opening the form first", ref, PRECHECK_SECONDS)
        return None


def register(router: Router) -> None:
    @router.add("new", "", "create a release (opens a form)")
    async def new(request: CommandRequest) -> None:
        ops.CREATE_RELEASE.require(request.user)  # answered where it was typed, no modal
        await open_new_release(
            request.client,
            request.deps,
            request.user,
            request.trigger_id,
            channel=request.channel_id or None,
        )

    for form in RELEASE_FORMS:
        router.add(form.name, "<release>", form.summary)(_opener(form))


def _opener(form: ReleaseForm) -> Handler:
    async def open_form(request: CommandRequest) -> None:
        await open_release_form(request, form)

    return open_form


# --- the views ----------------------------------------------------------------------------


async def _product_view(request: CommandRequest, ref: str) -> Loaded:
    """The release with the catalog it may add products from."""
    read = await request.deps.services.catalog.for_product_form(request.user, ref)
    return Loaded(
        read.release,
        lambda metadata: add_product_modal(read.release, read.applications, read.squads, metadata),
    )


def _view(build: Callable[[Release, EditingMetadata], View]) -> LoadForm:
    """A form of the release alone, showing no times."""
    return _zoned_view(lambda release, metadata, _tz: build(release, metadata))


def _zoned_view(build: Callable[[Release, EditingMetadata, ZoneInfo], View]) -> LoadForm:
    """A form of the release alone, showing times in the viewer's zone."""

    async def load(request: CommandRequest, ref: str) -> Loaded:
        release = await request.deps.services.releases.get(request.user, ref)
        return Loaded(release, lambda metadata: build(release, metadata, request.tz))

    return load


RELEASE_FORMS = (
    ReleaseForm(
        "product",
        "add a product to a release, or set its fixed version",
        product_form.TITLE,
        CallbackId.ADD_PRODUCT,
        (ops.ADD_PRODUCT, ops.SET_FIXED_VERSION),
        _product_view,
    ),
    ReleaseForm(
        "gate",
        "add a quality gate, or change a gate's status",
        gate_form.TITLE,
        CallbackId.GATE,
        # An approval manager may open it only to waive a gate.
        (ops.ADD_GATE, ops.CHANGE_GATE, ops.WAIVE_GATE),
        _view(gate_modal),
    ),
    ReleaseForm(
        "milestone",
        "add or update a milestone and its approval",
        milestone_form.TITLE,
        CallbackId.MILESTONE,
        (ops.ADD_MILESTONE, ops.CHANGE_MILESTONE),
        _zoned_view(milestone_modal),
    ),
    ReleaseForm(
        "runbook",
        "add a runbook with its tasks",
        runbook_form.RUNBOOK_TITLE,
        CallbackId.RUNBOOK,
        (ops.ADD_RUNBOOK,),
        _view(runbook_modal),
    ),
    ReleaseForm(
        "task",
        "update a runbook task's status and timing",
        runbook_form.TASK_TITLE,
        CallbackId.TASK,
        (ops.UPDATE_TASK,),
        _zoned_view(task_modal),
    ),
    ReleaseForm(
        "change",
        "create or update the change ticket and its CTASKs",
        change_form.TITLE,
        CallbackId.CHANGE,
        (ops.MANAGE_CHANGE,),
        _view(change_modal),
    ),
    ReleaseForm(
        "attach",
        "attach a file (url + sha256) to a release",
        attach_form.TITLE,
        CallbackId.ATTACH,
        (ops.ATTACH_FILE,),
        _view(attach_modal),
    ),
)
