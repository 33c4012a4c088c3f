"""The one way the bot opens modals: while the trigger_id is fresh (3 s, used once), then,
when data must be loaded or a check made, replaced by what follows."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from blocks.modals.form import loading_view, notice_view
from bot.errors import user_message

log = logging.getLogger(__name__)
Build = Callable[[], Awaitable[View]]


async def show_modal(client: AsyncWebClient, trigger_id: str, view: View) -> str:
    """Open ``view`` (a ready form, or a notice); its id, to replace it later."""
    opened = await client.views_open(trigger_id=trigger_id, view=view.to_dict())
    return str(opened["view"]["id"])


async def replace_modal(client: AsyncWebClient, view_id: str, view: View) -> None:
    """Show ``view`` in place of an open modal; a modal closed meanwhile is left closed."""
    try:
        await client.views_update(view_id=view_id, view=view.to_dict())
    except SlackApiError as error:
        log.info("could not update modal %s: %s", view_id, error)


async def open_modal(
    client: AsyncWebClient, trigger_id: str, title: str, callback_id: str, what: str, build: Build
) -> None:
    """Open a "Loading…" modal now, then show what ``build`` makes of the loaded data —
    or, when loading fails, why (a release that does not exist, say)."""
    view_id = await show_modal(client, trigger_id, loading_view(title, callback_id, what))
    try:
        view = await build()
    except Exception as error:  # told in the modal; unexpected ones are logged with a ref
        view = notice_view(title, callback_id, user_message(error))
    await replace_modal(client, view_id, view)
