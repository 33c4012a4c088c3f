"""`/release new | product | gate | milestone | runbook | task | change | attach`: the
release-editing modals.

Every one opens at once with the trigger_id (valid 3 s, once) showing "Loading…", then
loads what the form offers (the release, the catalog) and replaces the view with
views.update. Submissions are handled in bot/views/editing.py.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from blocks.ids import CallbackId
from blocks.modals import (
    EditingMetadata,
    add_product_modal,
    attach_modal,
    change_modal,
    gate_modal,
    milestone_modal,
    new_release_modal,
    runbook_modal,
    task_modal,
)
from blocks.modals import attach as attach_form
from blocks.modals import change as change_form
from blocks.modals import gate as gate_form
from blocks.modals import milestone as milestone_form
from blocks.modals import product as product_form
from blocks.modals import release as release_form
from blocks.modals import runbook as runbook_form
from bot.commands.router import CommandRequest, Handler, Router
from bot.deps import BotDeps
from bot.modals import open_modal
from core.models.release import Release
from core.rules.permissions import Actor

log = logging.getLogger(__name__)

Build = Callable[[], Awaitable[View]]
BuildForRelease = Callable[[Release, EditingMetadata], Awaitable[View]]


async def open_new_release(
    client: AsyncWebClient,
    deps: BotDeps,
    actor: Actor,
    trigger_id: str,
    *,
    channel: str | None = None,
) -> None:
    """The "create a release" modal, for `/release new` and the App Home button."""

    async def build() -> View:
        catalog = deps.services.catalog
        squads = await catalog.squads(actor)
        applications = await catalog.applications(actor)
        return new_release_modal(EditingMetadata(channel=channel), squads, applications)

    await open_modal(
        client, trigger_id, release_form.TITLE, CallbackId.NEW_RELEASE, "the catalog", build
    )


async def open_release_modal(
    request: CommandRequest, title: str, callback_id: str, build: BuildForRelease
) -> None:
    ref = request.arg(0, "a release id")

    async def load() -> View:
        release = await request.deps.services.releases.get(request.user, ref)
        metadata = EditingMetadata(
            release=release.release_id, channel=request.channel_id or None, version=release.version
        )
        return await build(release, metadata)

    await open_modal(request.client, request.trigger_id, title, callback_id, ref, load)


def register(router: Router) -> None:
    @router.add("new", "", "create a release (opens a form)")
    async def new(request: CommandRequest) -> None:
        await open_new_release(
            request.client,
            request.deps,
            request.user,
            request.trigger_id,
            channel=request.channel_id or None,
        )

    @router.add("product", "<release>", "add a product to a release, or set its fixed version")
    async def product(request: CommandRequest) -> None:
        async def build(release: Release, metadata: EditingMetadata) -> View:
            catalog = request.deps.services.catalog
            applications = await catalog.applications(request.user)
            squads = await catalog.squads(request.user)
            return add_product_modal(release, applications, squads, metadata)

        await open_release_modal(request, product_form.TITLE, CallbackId.ADD_PRODUCT, build)

    for name, summary, title, callback_id, form in RELEASE_FORMS:
        router.add(name, "<release>", summary)(_opener(title, callback_id, form))


# A form of one release: builds its view from the release, its metadata and the viewer's zone.
ReleaseForm = Callable[[Release, EditingMetadata, ZoneInfo], View]

RELEASE_FORMS: list[tuple[str, str, str, CallbackId, ReleaseForm]] = [
    (
        "gate",
        "add a quality gate, or change a gate's status",
        gate_form.TITLE,
        CallbackId.GATE,
        lambda release, metadata, _tz: gate_modal(release, metadata),
    ),
    (
        "milestone",
        "add or update a milestone and its approval",
        milestone_form.TITLE,
        CallbackId.MILESTONE,
        milestone_modal,
    ),
    (
        "runbook",
        "add a runbook with its tasks",
        runbook_form.RUNBOOK_TITLE,
        CallbackId.RUNBOOK,
        lambda release, metadata, _tz: runbook_modal(release, metadata),
    ),
    (
        "task",
        "update a runbook task's status and timing",
        runbook_form.TASK_TITLE,
        CallbackId.TASK,
        task_modal,
    ),
    (
        "change",
        "create or update the change ticket and its CTASKs",
        change_form.TITLE,
        CallbackId.CHANGE,
        lambda release, metadata, _tz: change_modal(release, metadata),
    ),
    (
        "attach",
        "attach a file (url + sha256) to a release",
        attach_form.TITLE,
        CallbackId.ATTACH,
        lambda release, metadata, _tz: attach_modal(release, metadata),
    ),
]


def _opener(title: str, callback_id: CallbackId, form: ReleaseForm) -> Handler:
    async def open_form(request: CommandRequest) -> None:
        async def build(release: Release, metadata: EditingMetadata) -> View:
            return form(release, metadata, request.tz)

        await open_release_modal(request, title, callback_id, build)

    return open_form
