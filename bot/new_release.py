"""Opening the "create a release" modal: for `/release new` (bot/commands/editing.py) and
the App Home's New release button (bot/events/home.py). Its submission is handled in
bot/views/editing.py."""

from __future__ import annotations

from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from blocks.ids import CallbackId
from blocks.modals import EditingMetadata, new_release_modal, notice_view, release as release_form
from bot.deps import BotDeps
from bot.errors import user_message
from bot.modals import open_modal, show_modal
from core.errors import PermissionDenied
from core.rules import operations as ops
from core.rules.permissions import Actor


async def open_new_release(
    client: AsyncWebClient,
    deps: BotDeps,
    actor: Actor,
    trigger_id: str,
    *,
    channel: str | None = None,
) -> None:
    """The "create a release" modal, for `/release new` (refused before it gets here) and
    the App Home button, where a refusal is shown in a small modal instead of the form:
    Home has no place for an ephemeral answer."""
    try:
        ops.CREATE_RELEASE.require(actor)
    except PermissionDenied as error:
        view = notice_view(release_form.TITLE, None, user_message(error))
        await show_modal(client, trigger_id, view)
        return

    async def build() -> View:
        squads, applications = await deps.services.catalog.for_release_form(actor)
        return new_release_modal(EditingMetadata(channel=channel), squads, applications)

    await open_modal(
        client, trigger_id, release_form.TITLE, CallbackId.NEW_RELEASE, "the catalog", build
    )
