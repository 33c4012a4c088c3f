"""The one way the bot opens modals: while the trigger_id is fresh (3 s, used once), then,
when data must be loaded or a check made, replaced by what follows.

Replacing is ``views.update``, which can fail like any call (a 500 after the client's
retries, no answer, ``not_found``). It is tried once more; a modal that still shows
"Loading…" is then not left unexplained: ``open_modal`` raises ``FormNotShown``, which the
caller answers like any refusal (a command's answer, ephemeral, or by DM when its
response_url fails too).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from blocks.modals.form import loading_view, notice_view
from bot.errors import user_message
from core.errors import DomainError, ErrorCode

log = logging.getLogger(__name__)
Build = Callable[[], Awaitable[View]]
ATTEMPTS = 2  # views.update: once, and once more when Slack did not take it


class FormNotShown(DomainError):
    """Slack did not replace a form's "Loading…" modal with what was loaded."""

    code = ErrorCode.CONFLICT

    def __init__(self, title: str, cause: DomainError | None = None) -> None:
        stuck = f"The “{title}” form could not be shown: it may still say “Loading…”."
        if cause is not None:  # what the form would have said, and that it is stuck
            super().__init__(f"{cause.message} ({stuck} Close it.)")
        else:
            super().__init__(f"{stuck} Close it and try again.")
        self.cause = cause


async def show_modal(client: AsyncWebClient, trigger_id: str, view: View) -> str:
    """Open ``view`` (a ready form, or a notice); its id, to replace it later."""
    opened = await client.views_open(trigger_id=trigger_id, view=view.to_dict())
    return str(opened["view"]["id"])


async def replace_modal(client: AsyncWebClient, view_id: str, view: View) -> bool:
    """Show ``view`` in place of an open modal, trying twice; False (logged) when Slack did
    not take it (or the modal was closed meanwhile): the caller tells the person."""
    payload = view.to_dict()
    for attempt in range(1, ATTEMPTS + 1):
        try:
            await client.views_update(view_id=view_id, view=payload)
            return True
        except Exception as error:  # a refusal, a 5xx after the client's retries, no answer
            log.warning("modal %s not updated (attempt %s): %r", view_id, attempt, error)
    return False


async def open_modal(
    client: AsyncWebClient, trigger_id: str, title: str, callback_id: str, what: str, build: Build
) -> None:
    """Open a "Loading…" modal now, then show what ``build`` makes of the loaded data —
    or, when loading fails, why (a release that does not exist, say). Raises
    ``FormNotShown`` when the modal could not be replaced."""
    view_id = await show_modal(client, trigger_id, loading_view(title, callback_id, what))
    cause: DomainError | None = None
    try:
        view = await build()
    except Exception as error:  # told in the modal; unexpected ones are logged with a ref
        cause = error if isinstance(error, DomainError) else None
        view = notice_view(title, callback_id, user_message(error))
    if not await replace_modal(client, view_id, view):
        raise FormNotShown(title, cause)
