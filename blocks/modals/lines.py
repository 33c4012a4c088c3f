"""Tasks and CTASKs given as lines of a text input, and durations: the Runbook and Change
forms' own input.

Pure: text in, typed lines out; a wrong line is refused under its field, by line number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from blocks.text import cut
from core.errors import ValidationFailed
from core.models.release import MAX_TASK_MINUTES, CTaskStatus

LINE_SEPARATOR = "|"


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


# ASCII digits only: "²" passes str.isdigit() but not int(), and "٤٥" would be read as 45.
_DURATION = re.compile(r"(?:([0-9]+)\s*h)?\s*(?:([0-9]+)\s*m(?:in)?)?", re.IGNORECASE)
_MINUTES = re.compile(r"[0-9]+")
LONGEST = f"{MAX_TASK_MINUTES // 60 // 24} days ({MAX_TASK_MINUTES} minutes)"


def parse_duration(text: str) -> int:
    """Minutes from ``45``, ``45m``, ``1h``, ``1h30m``, ``90 min``; at most 30 days."""
    value = text.strip()
    shown = cut(value, 40)
    if _MINUTES.fullmatch(value):
        numbers: tuple[str, ...] = ("0", value)
    else:
        match = _DURATION.fullmatch(value)
        if match is None or not any(match.groups()):
            raise ValueError(f"'{shown}' is not a duration (45, 45m, 1h, 1h30m)")
        numbers = tuple(group or "0" for group in match.groups())
    # Thousands of digits are not read (int() refuses them with its own words).
    if any(len(number.lstrip("0")) > len(str(MAX_TASK_MINUTES)) for number in numbers):
        raise ValueError(f"'{shown}' is longer than {LONGEST}")
    hours, minutes = (int(number) for number in numbers)
    if hours * 60 + minutes > MAX_TASK_MINUTES:
        raise ValueError(f"'{shown}' is longer than {LONGEST}")
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
