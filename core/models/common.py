"""Types shared by every model: ids, UTC datetimes, bounded text."""

from __future__ import annotations

import calendar
import math
import re
from datetime import UTC, date, datetime
from typing import Annotated, TypeVar

from bson import ObjectId
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from core.errors import ValidationFailed


def new_id() -> str:
    return str(ObjectId())


def is_object_id(value: str) -> bool:
    return ObjectId.is_valid(value) and len(value) == 24


def _as_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC; aware ones are converted to UTC. Kept to the
    millisecond, as BSON stores them, so a value reads back equal to what was written."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f]")  # below space, but for tab and newline


def _no_control_chars(value: str) -> str:
    if _CONTROL_CHARS.search(value):
        raise ValueError("must not contain control characters")
    return value


# What people plan — release dates, milestones, task schedules — falls in these years.
# Beyond them a value is a typo or a probe, and far beyond them Python's datetime overflows
# (year 9999 plus a time zone) when it is rendered.
EARLIEST_PLANNED = date(2000, 1, 1)
LATEST_PLANNED = date(2999, 12, 31)
PLANNED_RANGE = f"between {EARLIEST_PLANNED:%Y-%m-%d} and {LATEST_PLANNED:%Y-%m-%d}"
_EPOCH_SECONDS = re.compile(r"-?[0-9]+")


def _epoch_seconds(value: object) -> object:
    """A number is seconds since the epoch, as Slack's datetimepicker sends it.

    Pydantic would read a number above 2e10 as milliseconds: 9999-12-31 (253402214400 s)
    became 1978-01-12. Anything else is left to pydantic's own parsing."""
    if isinstance(value, str) and _EPOCH_SECONDS.fullmatch(value.strip()):
        if len(value.strip()) > 20:  # far beyond any year, and more than int() reads
            raise ValueError(f"Pick a date and time {PLANNED_RANGE}")
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("Pick a date and time")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"Pick a date and time {PLANNED_RANGE}") from None


_ISO_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def _real_day(value: object) -> object:
    """``2027-02-31`` is refused in words: there is no such date (February has 28 days)."""
    found = _ISO_DAY.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        return value
    year, month, day_ = (int(part) for part in found.groups())
    if 1 <= month <= 12 and day_ >= 1:
        days = calendar.monthrange(year, month)[1] if year >= 1 else 31
        if day_ > days:
            raise ValueError(
                f"There is no {value}: {calendar.month_name[month]} {year} has {days} days"
            )
    return value


def _planned_date(value: date) -> date:
    if not EARLIEST_PLANNED <= value <= LATEST_PLANNED:
        raise ValueError(f"Pick a date {PLANNED_RANGE}")
    return value


def _planned_datetime(value: datetime) -> datetime:
    try:
        value = _as_utc(value)
    except OverflowError:  # 9999-12-31 23:00-05:00 has no UTC
        raise ValueError(f"Pick a date and time {PLANNED_RANGE}") from None
    if not EARLIEST_PLANNED <= value.date() <= LATEST_PLANNED:
        raise ValueError(f"Pick a date and time {PLANNED_RANGE}")
    return value


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
# A date or a moment a person picks (not one the clock stamps): within the planned years, in
# UTC; a number is seconds since the epoch.
PlannedDate = Annotated[date, BeforeValidator(_real_day), AfterValidator(_planned_date)]
PlannedDatetime = Annotated[
    datetime,
    BeforeValidator(_epoch_seconds),
    AfterValidator(_planned_datetime),
]
# The longest value of each kind of text: the forms' inputs use the same numbers.
KEY_MAX = 64
NAME_MAX = 150
TEXT_MAX = 3000
COMMENT_MAX = 2000
URL_MAX = 2000

# A key is what people type in commands (REL-2026.12, payments-api): no spaces, no `$`.
Key = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=KEY_MAX,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
    ),
]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX),
    AfterValidator(_no_control_chars),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=TEXT_MAX)]
MimeType = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=255,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$",
    ),
]
Comment = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=COMMENT_MAX)
]
Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=URL_MAX, pattern=r"^https?://[^\s<>|]+$"),
]


class DomainModel(BaseModel):
    """Strict-ish base: unknown fields are errors, assignments are validated."""

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, validate_default=True, populate_by_name=True
    )


class Entity(DomainModel):
    id: str = Field(default_factory=new_id)


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: object) -> M:
    """Build a model from untrusted input, raising VALIDATION_ERROR with per-field messages."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ValidationFailed.from_pydantic(error) from None
