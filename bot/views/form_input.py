"""What every submitted form shares, admin, reject or release-editing: answering errors next
to its fields, and confirming once it is saved. Reading its state is the pure
blocks/modals/form_state.py."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from blocks.message import Message
from blocks.modals.form_state import Form
from blocks.text import cut, plain
from bot.answers import DeliveredRespond, post_elsewhere
from bot.errors import user_message
from core.errors import DomainError, ValidationFailed

log = logging.getLogger(__name__)

ERROR_LIMIT = 500

# What answers one kind of submitted form: (ack, body, context, client).
ViewListener = Callable[[AsyncAck, dict[str, Any], dict[str, Any], AsyncWebClient], Awaitable[None]]

# How a validation message is worded under its field: (field name, core message) → text.
Wording = Callable[[str, str], str]


# --- errors -------------------------------------------------------------------------------

_FRIENDLY = (
    ("Field required", "Required"),
    ("[A-Za-z0-9._:-]", "Use letters, digits and . _ : - only, starting with a letter or digit"),
    ("https?://", "Enter a web address starting with https:// or http://"),
    ("[0-9a-fA-F]{64}", "Enter the 64 hexadecimal characters of the SHA-256"),
    ("[A-Za-z0-9!#$&^_.+-]*/", "Enter a MIME type such as application/pdf"),
    ("valid integer", "Enter a whole number"),
    ("as an integer, exceeded maximum size", "Enter a whole number with fewer digits"),
    ("valid datetime", "Pick a date and time"),
    ("valid date", "Pick a date"),
)


def friendly(message: str) -> str:
    """Pydantic's wording, said the way a person filling a form understands it."""
    for needle, said in _FRIENDLY:
        if needle in message:
            return said
    return message


def explained(name: str, message: str) -> str:
    """A validation message in a form's words; ``tasks.1.task_name`` → ``Line 2:
    task_name: …`` for fields given as lines."""
    message = friendly(message)
    parts = name.split(".")
    if len(parts) >= 2 and parts[1].isdigit():
        what = ".".join(parts[2:])
        return f"Line {int(parts[1]) + 1}: " + (f"{what}: {message}" if what else message)
    return message


def as_given(_name: str, message: str) -> str:
    """A validation message as the core words it."""
    return message


def field_errors(
    error: BaseException,
    form: Form,
    *,
    aliases: Mapping[str, str] | None = None,
    focus: str | None = None,
    wording: Wording = explained,
) -> dict[str, str]:
    """Slack's ``response_action: errors`` map for a failed submission.

    A core error's ``fields`` name model fields (``tasks.2.task_name``); each lands on the
    block of that name (or its alias). Validation errors show each field's message; other
    domain errors show their whole message on their first field; errors without a field
    (PERMISSION_DENIED, say) and unexpected ones (logged, with a ref) go on ``focus``, or
    on the form's first input when there is no such block.
    """
    names = aliases or {}
    blocks = set(form.input_blocks)
    first = form.input_blocks[0] if form.input_blocks else None
    fallback = focus if focus is not None and focus in blocks else first or focus or ""

    def place(name: str) -> str | None:
        head = name.split(".")[0]
        block = names.get(name) or names.get(head) or head
        return block if block in blocks else None

    found: dict[str, str] = {}
    if isinstance(error, ValidationFailed) and error.fields:
        for name, message in error.fields.items():
            text = wording(name, message)
            block = place(name)
            if block is None:
                block, text = fallback, f"{name}: {text}"
            found.setdefault(block, text)
    elif isinstance(error, DomainError):
        block = next(filter(None, map(place, error.fields)), None)
        found[block or fallback] = error.message
    else:
        found[fallback] = plain(user_message(error))
    return {block: cut(text, ERROR_LIMIT) for block, text in found.items()}


# --- once saved ---------------------------------------------------------------------------


async def confirm_saved(
    client: AsyncWebClient,
    user_id: str,
    message: Message,
    *,
    channel: str | None = None,
    response_url: str | None = None,
) -> None:
    """Tell the person their form was saved: ephemerally where the command was typed (through
    its ``response_url``, else in its ``channel``); as a DM when neither works."""
    try:
        if response_url:
            respond = DeliveredRespond.to(response_url, client, channel_id=channel, user_id=user_id)
            await respond(**message.to_dict(), response_type="ephemeral", replace_original=False)
        else:
            await post_elsewhere(client, message.to_dict(), user_id=user_id, channel=channel)
    except SlackApiError as error:
        log.warning("could not confirm to %s: %s", user_id, error)
