"""Open a modal while the trigger_id is fresh, then fill it once its data is loaded."""

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


async def open_modal(
    client: AsyncWebClient, trigger_id: str, title: str, callback_id: str, what: str, build: Build
) -> None:
    """Open a "Loading…" modal now, then show what ``build`` makes of the loaded data —
    or, when loading fails, why (a release that does not exist, say)."""
    opened = await client.views_open(
        trigger_id=trigger_id, view=loading_view(title, callback_id, what).to_dict()
    )
    view_id = str(opened["view"]["id"])
    try:
        view = await build()
    except Exception as error:  # told in the modal; unexpected ones are logged with a ref
        view = notice_view(title, callback_id, user_message(error))
    try:
        await client.views_update(view_id=view_id, view=view.to_dict())
    except SlackApiError as error:  # closed by the person meanwhile
        log.info("could not update modal %s: %s", view_id, error)
