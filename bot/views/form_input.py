"""What every submitted form shares, admin, reject or release-editing: reading its state as
Slack sends it, answering errors next to its fields, and confirming once it is saved."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from blocks.message import Message
from blocks.text import cut, plain
from bot.errors import user_message
from core.errors import DomainError, ValidationFailed

log = logging.getLogger(__name__)

ERROR_LIMIT = 500
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_EPOCH_SECONDS = re.compile(r"-?[0-9]{1,20}")

# How a validation message is worded under its field: (field name, core message) → text.
Wording = Callable[[str, str], str]


class Form:
    """The values of a submitted view: ``state.values[block_id][action_id]``."""

    def __init__(self, view: Mapping[str, Any]) -> None:
        # A payload of another shape reads as an empty form: "Required", never a crash.
        state = view.get("state")
        values = state.get("values") if isinstance(state, Mapping) else None
        self._values: Mapping[str, Any] = values if isinstance(values, Mapping) else {}
        blocks = view.get("blocks")
        self.input_blocks: list[str] = [
            str(b["block_id"])
            for b in (blocks if isinstance(blocks, list) else [])
            if isinstance(b, Mapping) and b.get("type") == "input" and b.get("block_id")
        ]

    def _state(self, block_id: str) -> Mapping[str, Any]:
        actions = self._values.get(block_id) or {}
        state: object = next(iter(actions.values()), {}) if isinstance(actions, Mapping) else {}
        return state if isinstance(state, Mapping) else {}

    def text(self, block_id: str) -> str | None:
        """A text (or email, or url) input's value, stripped; None when empty."""
        value = self._state(block_id).get("value")
        text = str(value).strip() if value is not None else ""
        return text or None

    def date(self, block_id: str) -> str | None:
        """A datepicker's value, ``YYYY-MM-DD`` as Slack sends it; the core checks the
        date itself (2026-02-30, or one outside the years it plans for)."""
        value = self._state(block_id).get("selected_date")
        if value is None or value == "":
            return None
        if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
            raise ValidationFailed("Pick a date.", fields={block_id: "Pick a date"})
        return value

    def unix_time(self, block_id: str) -> int | None:
        """A datetimepicker's value: whole seconds since the epoch (Slack converts from the
        viewer's time zone); the core checks the moment is one it plans for."""
        value = self._state(block_id).get("selected_date_time")
        if value is None:
            return None
        if isinstance(value, str) and _EPOCH_SECONDS.fullmatch(value):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ValidationFailed("Pick a date and time.", fields={block_id: "Pick a date and time"})

    def choice(self, block_id: str) -> str | None:
        selected = self._state(block_id).get("selected_option") or {}
        value = selected.get("value") if isinstance(selected, Mapping) else None
        return str(value) if value else None

    def choices(self, block_id: str) -> list[str]:
        """A multi-select's or a checkbox group's values."""
        selected = self._state(block_id).get("selected_options")
        if not isinstance(selected, list):
            return []
        return [str(o["value"]) for o in selected if isinstance(o, Mapping) and o.get("value")]

    def user(self, block_id: str) -> str | None:
        value = self._state(block_id).get("selected_user")
        return str(value) if value else None


def present(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values that were given: a model's defaults apply to the rest, and a missing
    required field is reported as such."""
    return {k: v for k, v in values.items() if v is not None and v != ""}


def split_list(text: str | None) -> list[str]:
    """``"a, b,,c"`` → ``["a", "b", "c"]``."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


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
    if response_url:
        try:
            sent = await AsyncWebhookClient(response_url).send(
                **message.to_dict(), response_type="ephemeral", replace_original=False
            )
            if sent.status_code == 200:
                return
            log.info("response_url answered %s; confirming by DM", sent.status_code)
        except Exception:
            log.info("response_url failed; confirming by DM", exc_info=True)
    if channel:
        try:
            await client.chat_postEphemeral(channel=channel, user=user_id, **message.to_dict())
            return
        except SlackApiError as error:
            log.info("ephemeral confirmation in %s failed (%s); sending a DM", channel, error)
    try:
        await client.chat_postMessage(channel=user_id, **message.to_dict())
    except SlackApiError as error:
        log.warning("could not confirm to %s: %s", user_id, error)
