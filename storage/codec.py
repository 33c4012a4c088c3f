"""Convert domain models to MongoDB documents and back.

Ids travel as strings in the domain and as ObjectId in ``_id``; dates (BSON has none) are
stored as midnight UTC, times of day as "HH:MM"; enums as their values.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from enum import Enum
from typing import Any, TypeVar

from bson import ObjectId
from bson.errors import InvalidId
from pydantic import BaseModel

from core.errors import NotFound

M = TypeVar("M", bound=BaseModel)


def to_document(model: BaseModel) -> dict[str, Any]:
    data: dict[str, Any] = _bsonable(model.model_dump())
    if "id" in data:
        data["_id"] = ObjectId(data.pop("id"))
    return data


def from_document(model: type[M], doc: dict[str, Any]) -> M:
    data = dict(doc)
    if "_id" in data:
        data["id"] = str(data.pop("_id"))
    return model.model_validate(data)


def object_id(value: str, what: str) -> ObjectId:
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        raise NotFound(f"No {what} with id '{value}'.") from None


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
