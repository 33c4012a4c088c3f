"""Read a submitted modal's state as Slack sends it, and answer errors next to the fields.

Pure: a view payload in, plain values out; an error in, Slack's ``errors`` map out.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from blocks.text import cut
from bot.errors import user_message
from core.errors import DomainError, ValidationFailed
from core.models.release import CTaskStatus

ERROR_LIMIT = 500
LINE_SEPARATOR = "|"


class Form:
    """The values of a submitted view: ``state.values[block_id][action_id]``."""

    def __init__(self, view: Mapping[str, Any]) -> None:
        state = view.get("state") or {}
        self._values: Mapping[str, Any] = state.get("values") or {}
        self.input_blocks: list[str] = [
            str(b["block_id"])
            for b in view.get("blocks") or []
            if b.get("type") == "input" and b.get("block_id")
        ]

    def _state(self, block_id: str) -> Mapping[str, Any]:
        actions = self._values.get(block_id) or {}
        return next(iter(actions.values()), {}) if isinstance(actions, Mapping) else {}

    def text(self, block_id: str) -> str | None:
        """A text input's value, stripped; None when empty."""
        value = self._state(block_id).get("value")
        text = str(value).strip() if value is not None else ""
        return text or None

    def date(self, block_id: str) -> str | None:
        value = self._state(block_id).get("selected_date")
        return str(value) if value else None

    def unix_time(self, block_id: str) -> int | None:
        """A datetimepicker's value: seconds since the epoch (Slack converts from the
        viewer's time zone)."""
        value = self._state(block_id).get("selected_date_time")
        return int(value) if value is not None else None

    def choice(self, block_id: str) -> str | None:
        selected = self._state(block_id).get("selected_option") or {}
        value = selected.get("value") if isinstance(selected, Mapping) else None
        return str(value) if value else None

    def choices(self, block_id: str) -> list[str]:
        """A multi-select's or a checkbox group's values."""
        selected = self._state(block_id).get("selected_options") or []
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


# --- lines --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskLine:
    name: str
    owner: str | None = None
    minutes: int | None = None


@dataclass(frozen=True)
class CTaskLine:
    ctask_id: str
    description: str | None = None
    status: CTaskStatus | None = None


_DURATION = re.compile(r"^(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?$", re.IGNORECASE)


def parse_duration(text: str) -> int:
    """Minutes from ``45``, ``45m``, ``1h``, ``1h30m``, ``90 min``."""
    value = text.strip()
    if value.isdigit():
        return int(value)
    match = _DURATION.match(value)
    if not value or match is None or not any(match.groups()):
        raise ValueError(f"'{value}' is not a duration (45, 45m, 1h, 1h30m)")
    hours, minutes = (int(g) if g else 0 for g in match.groups())
    return hours * 60 + minutes


def _lines(text: str | None) -> list[tuple[int, str]]:
    return [
        (number, line.strip())
        for number, line in enumerate((text or "").splitlines(), start=1)
        if line.strip()
    ]


def parse_task_lines(text: str | None, *, field: str) -> list[TaskLine]:
    """``name | owner | duration`` per line; owner and duration may be left out."""
    tasks: list[TaskLine] = []
    for number, line in _lines(text):
        parts = [p.strip() for p in line.split(LINE_SEPARATOR)]
        if len(parts) > 3:
            raise _line_error(field, number, "use at most: name | owner | duration")
        name, owner, duration = (parts + ["", ""])[:3]
        if not name:
            raise _line_error(field, number, "the task needs a name")
        try:
            minutes = parse_duration(duration) if duration else None
        except ValueError as error:
            raise _line_error(field, number, str(error)) from None
        tasks.append(TaskLine(name, owner.lstrip("@") or None, minutes))
    return tasks


def parse_ctask_lines(text: str | None, *, field: str) -> list[CTaskLine]:
    """``id | description | status`` per line; the description may contain ``|`` when a
    status ends the line; description and status may be left out."""
    ctasks: list[CTaskLine] = []
    for number, line in _lines(text):
        parts = [p.strip() for p in line.split(LINE_SEPARATOR)]
        ctask_id, rest = parts[0], parts[1:]
        if not ctask_id:
            raise _line_error(field, number, "start the line with the CTASK id")
        status: CTaskStatus | None = None
        if len(rest) >= 2:
            wanted = rest.pop().upper()
            if wanted not in CTaskStatus.__members__:
                known = ", ".join(CTaskStatus)
                raise _line_error(field, number, f"unknown status '{wanted}' (use {known})")
            status = CTaskStatus(wanted)
        description = f" {LINE_SEPARATOR} ".join(rest) if rest else None
        ctasks.append(CTaskLine(ctask_id, description, status))
    return ctasks


def _line_error(field: str, number: int, what: str) -> ValidationFailed:
    return ValidationFailed(f"Line {number}: {what}.", fields={field: f"Line {number}: {what}"})


# --- errors -------------------------------------------------------------------------------

_FRIENDLY = (
    ("Field required", "Required"),
    ("[A-Za-z0-9._:-]", "Use letters, digits and . _ : - only, starting with a letter or digit"),
    ("https?://", "Enter a web address starting with https:// or http://"),
    ("[0-9a-fA-F]{64}", "Enter the 64 hexadecimal characters of the SHA-256"),
    ("[A-Za-z0-9!#$&^_.+-]*/", "Enter a MIME type such as application/pdf"),
    ("valid integer", "Enter a whole number"),
    ("valid datetime", "Pick a date and time"),
    ("valid date", "Pick a date"),
)


def friendly(message: str) -> str:
    """Pydantic's wording, said the way a person filling a form understands it."""
    for needle, said in _FRIENDLY:
        if needle in message:
            return said
    return message


def field_errors(
    error: BaseException,
    form: Form,
    *,
    aliases: Mapping[str, str] | None = None,
    focus: str,
) -> dict[str, str]:
    """Slack's ``response_action: errors`` map for a failed submission.

    A core error's ``fields`` name model fields (``tasks.2.task_name``); each lands on the
    block of that name (or its alias). Validation errors show each field's message; other
    domain errors show their whole message on their first field; errors without a field
    (PERMISSION_DENIED, say) and unexpected ones (logged, with a ref) go on ``focus``.
    """
    names = aliases or {}
    blocks = set(form.input_blocks)
    fallback = focus if focus in blocks or not form.input_blocks else form.input_blocks[0]

    def place(name: str) -> str | None:
        head = name.split(".")[0]
        block = names.get(name) or names.get(head) or head
        return block if block in blocks else None

    found: dict[str, str] = {}
    if isinstance(error, ValidationFailed) and error.fields:
        for name, message in error.fields.items():
            text = _with_line(name, friendly(message))
            block = place(name)
            if block is None:
                block, text = fallback, f"{name}: {text}"
            found.setdefault(block, text)
    elif isinstance(error, DomainError):
        block = next(filter(None, map(place, error.fields)), None)
        found[block or fallback] = error.message
    else:
        found[fallback] = _plain(user_message(error))
    return {block: cut(text, ERROR_LIMIT) for block, text in found.items()}


def _with_line(name: str, message: str) -> str:
    """``tasks.1.task_name`` → ``Line 2: task_name: …`` for fields given as lines."""
    parts = name.split(".")
    if len(parts) >= 2 and parts[1].isdigit():
        what = ".".join(parts[2:])
        return f"Line {int(parts[1]) + 1}: " + (f"{what}: {message}" if what else message)
    return message


def _plain(mrkdwn: str) -> str:
    """A mrkdwn message as the plain text Slack shows under a field."""
    text = re.sub(r":[a-z_]+: ", "", mrkdwn).replace("*", "").replace("`", "")
    return html.unescape(text)
