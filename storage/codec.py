"""Convert domain models to MongoDB documents and back.

Ids travel as strings in the domain and as ObjectId in ``_id``; dates (BSON has none) are
stored as midnight UTC, times of day as "HH:MM"; enums as their values.

Keys people type ignoring case (release ids, role names, usernames) are also stored
case-folded in ``<key>_folded``, under a unique index: found ignoring case by an exact,
index-served match, on MongoDB and on mongomock alike. The domain never sees that field.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from enum import Enum
from typing import Any, TypeVar

from bson import ObjectId
from bson.errors import InvalidId
from pydantic import BaseModel

from core.errors import Kind, NotFound
from core.models.rbac import Role, User
from core.models.release import Release

M = TypeVar("M", bound=BaseModel)

FOLDED_SUFFIX = "_folded"
# The key of each model that is matched ignoring case, and the collection it is stored in.
FOLDED_KEYS: dict[type[BaseModel], tuple[str, str]] = {
    Release: ("releases", "release_id"),
    Role: ("roles", "role_name"),
    User: ("users", "username"),
}


def folded(value: object) -> str:
    """A key as compared ignoring case (``REL-2026.12`` → ``rel-2026.12``)."""
    return str(value).strip().casefold()


def folded_field(key: str) -> str:
    return f"{key}{FOLDED_SUFFIX}"


def first_exact(key: str) -> list[tuple[str, int]]:
    """The sort for ``{$or: [{key: typed}, {key_folded: folded(typed)}]}`` that puts the
    exact match first when two documents match.

    Two can match only when the exact one has no folded key: one stored before keys were
    folded whose key differs only in case from another's (``backfill_folded`` leaves it
    without). A missing field sorts first, so the key as typed wins; otherwise the unique
    folded key means exactly one document matches.
    """
    return [(folded_field(key), 1)]


def to_document(model: BaseModel) -> dict[str, Any]:
    data: dict[str, Any] = _bsonable(model.model_dump())
    if "id" in data:
        data["_id"] = ObjectId(data.pop("id"))
    folds = FOLDED_KEYS.get(type(model))
    if folds is not None:
        key = folds[1]
        data[folded_field(key)] = folded(data[key])
    return data


def entry_document(entry: BaseModel) -> dict[str, Any]:
    """An outbox entry as stored inside its aggregate's document (its id kept as ``id``)."""
    document: dict[str, Any] = _bsonable(entry.model_dump())
    return document


def from_document(model: type[M], doc: dict[str, Any]) -> M:
    data = {k: v for k, v in doc.items() if not k.endswith(FOLDED_SUFFIX)}
    if "_id" in data:
        data["id"] = str(data.pop("_id"))
    return model.model_validate(data)


def object_id(value: str, what: str, kind: Kind | None = None) -> ObjectId:
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        raise NotFound(f"No {what} with id '{value}'.", kind=kind) from None


def day_start(value: date) -> datetime:
    return datetime.combine(value, time(), tzinfo=UTC)


def _bsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _bsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_bsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date) and not isinstance(value, datetime):
        return day_start(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value
