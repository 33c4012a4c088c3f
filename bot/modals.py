"""The one way the bot opens modals: while the trigger_id is fresh (3 s, used once), then,
when data must be loaded or a check made, replaced by what follows.

Replacing is ``views.update``, which can fail like any call. A failure another try may get
past (a 500 after the client's retries, no answer, Slack busy) is tried once more; a refusal
is not. A modal that still shows "Loading…" is then not left unexplained: ``open_modal``
raises ``FormNotShown``, which the caller answers like any refusal (a command's answer,
ephemeral, or by DM when its response_url fails too). ``not_found`` means the person closed
the modal meanwhile: nothing is tried again, nor told.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum

from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from blocks.modals.form import loading_view, notice_view
from bot.errors import user_message
from bot.slack_client import error_code, is_transient
from core.errors import DomainError, ErrorCode

log = logging.getLogger(__name__)
Build = Callable[[], Awaitable[View]]
ATTEMPTS = 2  # views.update: once, and once more when Slack failed to take it


class Replaced(StrEnum):
    SHOWN = "shown"
    CLOSED = "closed"  # the person closed the modal: nothing to show, nothing to tell
    NOT_SHOWN = "not_shown"  # the modal may still say "Loading…": the caller tells them


class FormNotShown(DomainError):
    """Slack did not replace a form's "Loading…" modal with what was loaded."""

    code = ErrorCode.CONFLICT

    def __init__(self, title: str, cause: DomainError | None = None) -> None:
        stuck = f"The “{title}” form could not be shown: it may still say “Loading…”."
        if cause is not None:  # what the form would have said, and that it is stuck
            super().__init__(f"{cause.message} ({stuck} Close it.)")
        else:
            super().__init__(f"{stuck} Close it and try again.")


async def show_modal(client: AsyncWebClient, trigger_id: str, view: View) -> str:
    """Open ``view`` (a ready form, or a notice); its id, to replace it later."""
    opened = await client.views_open(trigger_id=trigger_id, view=view.to_dict())
    return str(opened["view"]["id"])


async def replace_modal(client: AsyncWebClient, view_id: str, view: View) -> Replaced:
    """Show ``view`` in place of an open modal; a failure another try may get past is tried
    once more (logged)."""
    payload = view.to_dict()
    for attempt in range(1, ATTEMPTS + 1):
        try:
            await client.views_update(view_id=view_id, view=payload)
            return Replaced.SHOWN
        except Exception as error:  # a refusal, a 5xx after the client's retries, no answer
            if isinstance(error, SlackApiError) and error_code(error) == "not_found":
                log.info("modal %s was closed before it could be replaced", view_id)
                return Replaced.CLOSED
            log.warning("modal %s not updated (attempt %s): %r", view_id, attempt, error)
            if not is_transient(error):
                break
    return Replaced.NOT_SHOWN


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
    if await replace_modal(client, view_id, view) is Replaced.NOT_SHOWN:
        raise FormNotShown(title, cause)
