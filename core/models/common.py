"""Types shared by every model: ids, UTC datetimes, bounded text."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, TypeVar

from bson import ObjectId
from pydantic import (
    AfterValidator,
    BaseModel,
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
    """Naive datetimes are taken as UTC; aware ones are converted to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _no_control_chars(value: str) -> str:
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        raise ValueError("must not contain control characters")
    return value


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
# A key is what people type in commands (REL-2026.12, payments-api): no spaces, no `$`.
Key = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
    ),
]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=150),
    AfterValidator(_no_control_chars),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=3000)]
MimeType = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=255,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$",
    ),
]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2000, pattern=r"^https?://[^\s<>|]+$"),
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
