"""`/release new | product | gate | milestone | runbook | task | change | attach`: the
release-editing modals.

Every one opens at once with the trigger_id (valid 3 s, once) showing "Loading…", then
loads what the form offers (the release, the catalog) and replaces the view with
views.update. Submissions are handled in bot/views/editing.py.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

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
from bot.commands.router import CommandRequest, Router
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

    @router.add("gate", "<release>", "add a quality gate, or change a gate's status")
    async def gate(request: CommandRequest) -> None:
        async def build(release: Release, metadata: EditingMetadata) -> View:
            return gate_modal(release, metadata)

        await open_release_modal(request, gate_form.TITLE, CallbackId.GATE, build)

    @router.add("milestone", "<release>", "add or update a milestone and its approval")
    async def milestone(request: CommandRequest) -> None:
        async def build(release: Release, metadata: EditingMetadata) -> View:
            return milestone_modal(release, metadata, request.tz)

        await open_release_modal(request, milestone_form.TITLE, CallbackId.MILESTONE, build)

    @router.add("runbook", "<release>", "add a runbook with its tasks")
    async def runbook(request: CommandRequest) -> None:
        async def build(release: Release, metadata: EditingMetadata) -> View:
            return runbook_modal(release, metadata)

        await open_release_modal(request, runbook_form.RUNBOOK_TITLE, CallbackId.RUNBOOK, build)

    @router.add("task", "<release>", "update a runbook task's status and timing")
    async def task(request: CommandRequest) -> None:
        async def build(release: Release, metadata: EditingMetadata) -> View:
            return task_modal(release, metadata, request.tz)

        await open_release_modal(request, runbook_form.TASK_TITLE, CallbackId.TASK, build)

    @router.add("change", "<release>", "create or update the change ticket and its CTASKs")
    async def change(request: CommandRequest) -> None:
        async def build(release: Release, metadata: EditingMetadata) -> View:
            return change_modal(release, metadata)

        await open_release_modal(request, change_form.TITLE, CallbackId.CHANGE, build)

    @router.add("attach", "<release>", "attach a file (url + sha256) to a release")
    async def attach(request: CommandRequest) -> None:
        async def build(release: Release, metadata: EditingMetadata) -> View:
            return attach_modal(release, metadata)

        await open_release_modal(request, attach_form.TITLE, CallbackId.ATTACH, build)
