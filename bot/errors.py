"""Turn failures into messages a person can act on; log the unexpected ones with a ref."""

from __future__ import annotations

import logging

from blocks.text import esc
from bot import logs
from bot.unavailable import UNAVAILABLE_TEXT
from core.errors import DomainError, ErrorCode
from storage.engine import is_unavailable

log = logging.getLogger(__name__)

_ADVICE = {
    ErrorCode.RESOURCE_NOT_FOUND: "Check the id — `/release list` shows what you can see.",
    ErrorCode.PERMISSION_DENIED: "`/release whoami` shows your roles and permissions.",
    ErrorCode.VALIDATION_ERROR: "Fix the input and try again.",
    ErrorCode.RULE_VIOLATION: "",
    ErrorCode.CONFLICT: "Try again in a moment.",
    ErrorCode.DUPLICATE: "",
}


class NotLinked(DomainError):
    """A Slack person with no portal user tried something beyond help and whoami."""

    code = ErrorCode.PERMISSION_DENIED

    def __init__(self, *, guest: bool = False) -> None:
        why = (
            "You are a guest from another Slack organisation, and guests are never linked by email."
            if guest
            else "Your Slack account is not linked to a releasebot user yet."
        )
        super().__init__(
            f"{why} Ask an admin to run `/release admin link @you <username>`; until then you "
            "can use `help` and `whoami`."
        )


class SlackBusy(DomainError):
    """Slack did not say who this person is in time; nothing was done."""

    code = ErrorCode.CONFLICT

    def __init__(self) -> None:
        super().__init__("Slack did not tell me who you are in time. Please try again in a moment.")


def user_message(error: BaseException) -> str:
    """The mrkdwn text for an error: code and what to do for ours; a ref for the rest."""
    if isinstance(error, DomainError):
        advice = _ADVICE.get(error.code, "")
        text = f":warning: *{error.code.value}* — {esc(error.message)}"
        return f"{text}\n{advice}" if advice else text
    if is_unavailable(error):
        log.warning("storage unavailable: %r", error)
        return UNAVAILABLE_TEXT
    ref = logs.request_id.get()
    log.exception("unexpected error (ref %s)", ref, exc_info=error)
    return (
        f":boom: Something went wrong on our side (ref `{ref}`). Please try again or tell an admin."
    )
