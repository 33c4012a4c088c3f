"""Domain errors with stable codes and messages a person can act on.

Codes are for logs and APIs; a person reads the message. Messages are plain sentences (no
Slack markup, no command names): the bot adds where to look next, from the error's class and,
for ``NotFound``, from the ``Kind`` of thing that was not found.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import ValidationError


class ErrorCode(StrEnum):
    RESOURCE_NOT_FOUND = "RESOURCE_NOT_FOUND"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    RULE_VIOLATION = "RULE_VIOLATION"
    CONFLICT = "CONFLICT"
    DUPLICATE = "DUPLICATE"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    RATE_LIMITED = "RATE_LIMITED"


class Kind(StrEnum):
    """Which kind of thing a ``NotFound`` is about."""

    RELEASE = "release"
    USER = "user"
    ROLE = "role"
    APPLICATION = "application"
    SQUAD = "squad"
    BOARD = "board"
    PRODUCT = "product"
    GATE = "gate"
    MILESTONE = "milestone"
    RUNBOOK = "runbook"
    TASK = "task"
    ATTACHMENT = "attachment"


def literal(text: object) -> str:
    """Text put into a message that names ``moments``: its braces are not placeholders."""
    return str(text).replace("{", "{{").replace("}", "}}")


def utc_text(moment: datetime) -> str:
    """A moment for a reader the core does not know: ``2026-12-01 09:00 UTC``."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


class DomainError(Exception):
    """Base of every error the core raises on purpose.

    ``fields`` maps an input field to what is wrong with it, so a modal can show the
    message next to the field (Slack's ``response_action: errors``).

    ``moments``: times the message names, as ``{name}`` in it. The core knows no reader, so
    ``message`` gives them in UTC (the API, the logs); the bot writes ``template`` again
    with each on its reader's own clock (``bot.errors.user_message``).
    """

    code: ClassVar[ErrorCode]

    def __init__(
        self,
        message: str,
        *,
        fields: Mapping[str, str] | None = None,
        moments: Mapping[str, datetime] | None = None,
    ) -> None:
        self.template = message
        self.moments: dict[str, datetime] = dict(moments or {})
        if self.moments:
            message = message.format(**{k: utc_text(v) for k, v in self.moments.items()})
        super().__init__(message)
        self.message = message
        self.fields: dict[str, str] = dict(fields or {})

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class NotFound(DomainError):
    """``kind``: what was looked for; ``suggestions``: the closest existing names the person
    may see (by the service that knows what they may see), closest first."""

    code = ErrorCode.RESOURCE_NOT_FOUND

    def __init__(
        self,
        message: str,
        *,
        kind: Kind | None = None,
        suggestions: Sequence[str] = (),
        fields: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, fields=fields)
        self.kind = kind
        self.suggestions: tuple[str, ...] = tuple(suggestions)

    def suggesting(self, suggestions: Sequence[str]) -> NotFound:
        """The same error, offering these names instead."""
        return NotFound(self.message, kind=self.kind, suggestions=suggestions, fields=self.fields)


class PermissionDenied(DomainError):
    code = ErrorCode.PERMISSION_DENIED


class ValidationFailed(DomainError):
    code = ErrorCode.VALIDATION_ERROR

    @classmethod
    def from_pydantic(cls, error: ValidationError) -> ValidationFailed:
        fields: dict[str, str] = {}
        for item in error.errors():
            name = ".".join(str(part) for part in item["loc"]) or "input"
            fields.setdefault(name, _friendly(item["msg"]))
        summary = "; ".join(f"{name}: {msg}" for name, msg in fields.items())
        return cls(f"Please correct the input — {summary}", fields=fields)


class RuleViolation(DomainError):
    code = ErrorCode.RULE_VIOLATION


class PastReleaseDate(RuleViolation):
    """A new release dated before today: created only once the person confirms the date
    (a release's date cannot be changed afterwards)."""

    def __init__(self, day: date) -> None:
        super().__init__(
            f"The release date {day:%Y-%m-%d} is in the past; confirm it to create the release.",
            fields={"release_date": "In the past"},
        )
        self.day = day


class Conflict(DomainError):
    code = ErrorCode.CONFLICT


class Duplicate(DomainError):
    code = ErrorCode.DUPLICATE


class NotAuthenticated(DomainError):
    """No credentials, or credentials that are wrong, expired or revoked (HTTP 401)."""

    code = ErrorCode.NOT_AUTHENTICATED


class RateLimited(DomainError):
    """Too many attempts; ``retry_after`` seconds until the next one is accepted (HTTP 429)."""

    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StaleVersion(Exception):
    """Raised by a repository when a versioned save lost a race; services retry on it."""


def _friendly(message: str) -> str:
    prefix = "Value error, "
    return message[len(prefix) :] if message.startswith(prefix) else message
