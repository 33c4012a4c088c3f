"""Opaque keyset cursors for release listings (newest release_date first)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from core.errors import ValidationFailed
from core.models.common import is_object_id

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ReleaseCursor:
    release_date: date
    id: str

    def encode(self) -> str:
        raw = json.dumps({"d": self.release_date.isoformat(), "i": self.id}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> ReleaseCursor:
        try:
            padded = token + "=" * (-len(token) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
            cursor = cls(date.fromisoformat(data["d"]), str(data["i"]))
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise ValidationFailed(
                "That page link is not valid any more; list the releases again.",
                fields={"cursor": "invalid"},
            ) from None
        if not is_object_id(cursor.id):
            raise ValidationFailed("That page link is not valid; list the releases again.")
        return cursor


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
