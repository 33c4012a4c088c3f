"""Turn failures into messages a person can act on; log the unexpected ones with a ref.

A refusal reads as words: what was wrong (the error's message), the closest names when
something was not found ("did you mean"), and where to look next, chosen here from the kind
of thing that was not found or the kind of refusal. Error codes go to the log, never to
Slack.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from blocks.text import esc, when
from bot import logs
from bot.unavailable import UNAVAILABLE_TEXT
from core.errors import DomainError, ErrorCode, Kind, NotFound, PermissionDenied
from storage.engine import is_unavailable

log = logging.getLogger(__name__)

# Where to look for the things that exist, by the kind of thing that was not found. Kinds
# without a line (a gate, a milestone…) are named with the ones that exist in the message.
WHERE_TO_LOOK: dict[Kind, str] = {
    Kind.RELEASE: "`/release list` shows the releases you can see.",
    Kind.USER: "`/release admin users` lists the users and who is linked to Slack.",
    Kind.ROLE: "`/release admin roles` lists the roles.",
    Kind.APPLICATION: "`/release admin apps` lists the applications and their products.",
    Kind.SQUAD: "`/release admin squads` lists the squads.",
    Kind.BOARD: "`/release admin boards` lists the Jira boards.",
}
WHO_AM_I = "`/release whoami` shows your roles and permissions."


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


def _on_their_clock(error: DomainError) -> str:
    """The message with the times it names on its reader's clock (``DomainError.moments``),
    when who is being answered is known; else as the core wrote it (UTC)."""
    zone = logs.reader_zone.get()
    if not error.moments or zone is None:
        return error.message
    return error.template.format(**{k: when(v, zone) for k, v in error.moments.items()})


def user_message(error: BaseException) -> str:
    """The mrkdwn text for an error: what was wrong and what to do next for ours (the code
    only in the log); a ref for the rest."""
    if isinstance(error, DomainError):
        log.info("refused: %s", error)
        text = f":warning: {esc(_on_their_clock(error))}"
        if isinstance(error, NotFound) and error.suggestions:
            text = f"{text} Did you mean {_either(error.suggestions)}?"
        advice = next_step(error)
        return f"{text}\n{advice}" if advice else text
    if is_unavailable(error):
        log.warning("storage unavailable: %r", error)
        return UNAVAILABLE_TEXT
    ref = logs.request_id.get()
    log.exception("unexpected error (ref %s)", ref, exc_info=error)
    return (
        f":boom: Something went wrong on our side (ref `{ref}`). Please try again or tell an admin."
    )


def next_step(error: DomainError) -> str | None:
    """Where to look next: by the kind of thing not found, or the kind of refusal."""
    if isinstance(error, NotFound):
        return WHERE_TO_LOOK.get(error.kind) if error.kind else None
    if isinstance(error, PermissionDenied):
        return WHO_AM_I
    return None


def _either(names: Sequence[str]) -> str:
    """`a`, `b` or `c`."""
    shown = ["`" + esc(name).replace("`", "'") + "`" for name in names]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"
