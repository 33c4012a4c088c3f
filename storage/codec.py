"""Convert domain models to MongoDB documents and back.

Ids travel as strings in the domain and as ObjectId in ``_id``; dates (BSON has none) are
stored as midnight UTC, times of day as "HH:MM"; enums as their values.

Keys people type ignoring case (release ids, role names, usernames) are also stored
case-folded in ``<key>_folded``, under a unique index: found ignoring case by an exact,
index-served match, on MongoDB and on mongomock alike. The domain never sees that field.

A release also stores what is derived from it for queries and compact reads, rebuilt with
every write: ``search_keys`` (core/rules/search.py, under a multikey index), ``summary``
(its readiness summary, core/rules/readiness.py: lists, App Home and digests read the
release's card, ``CARD_PROJECTION``, instead of the whole release) and ``derived`` (the
version of both rules they were built by; ``storage.indexes.backfill_folded`` rebuilds older
ones at start-up). The domain never sees these fields either. The summary is read whole and
never queried, so it is stored as one JSON string: a digest reads a thousand of them, and as
nested documents they cost tens of times more to copy (embedded engine) and to BSON-decode
(a MongoDB driver) than as strings (scripts/bench/bench_digest.py).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time
from enum import Enum
from functools import partial
from typing import Any, TypeVar

from bson import ObjectId
from bson.errors import InvalidId
from pydantic import BaseModel, TypeAdapter

from core.errors import Kind, NotFound
from core.models.approval import BreakGlass
from core.models.rbac import Role, User
from core.models.release import Release
from core.rules.readiness import (
    CARD_OVERRIDES,
    SUMMARY_VERSION,
    ReadinessSummary,
    ReleaseCard,
    summarize,
)
from core.rules.search import SEARCH_VERSION, search_keys

M = TypeVar("M", bound=BaseModel)

FOLDED_SUFFIX = "_folded"
# The key of each model that is matched ignoring case, and the collection it is stored in.
FOLDED_KEYS: dict[type[BaseModel], tuple[str, str]] = {
    Release: ("releases", "release_id"),
    Role: ("roles", "role_name"),
    User: ("users", "username"),
}


SEARCH_KEYS = "search_keys"
SUMMARY = "summary"
DERIVED = "derived"
DERIVED_VERSION = f"search {SEARCH_VERSION}, summary {SUMMARY_VERSION}"
# What a release card is read from (besides _id).
CARD_PROJECTION = dict.fromkeys(
    (
        "release_id",
        "release_name",
        "release_date",
        "release_type",
        "squad_ids",
        "break_glass",
        SUMMARY,
        DERIVED,
    ),
    1,
)
_SUMMARY = TypeAdapter(ReadinessSummary)
_DERIVED_KEYS = (SEARCH_KEYS, SUMMARY, DERIVED)


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
    if isinstance(model, Release):
        data.update(derived_fields(model))
    return data


def derived_fields(release: Release) -> dict[str, Any]:
    """What a release stores besides itself: its search keys, readiness summary, version."""
    summary = _SUMMARY.dump_json(summarize(release), exclude_defaults=True).decode()
    return {SEARCH_KEYS: search_keys(release), SUMMARY: summary, DERIVED: DERIVED_VERSION}


def card_from_document(doc: dict[str, Any]) -> ReleaseCard | None:
    """The card of a release read with ``CARD_PROJECTION``, its summary decoded when first
    read; None when the summary was built by another version of the rules (or is missing):
    read the whole release instead. Its head is taken as stored: ``to_document`` wrote it
    from a validated release, with the summary."""
    if doc.get(DERIVED) != DERIVED_VERSION:
        return None
    return ReleaseCard(
        id=str(doc["_id"]),
        release_id=doc["release_id"],
        release_name=doc["release_name"],
        release_date=stored_day(doc["release_date"]),
        release_type=doc["release_type"],
        squad_ids=list(doc["squad_ids"]),
        summary=partial(_SUMMARY.validate_json, doc[SUMMARY]),
        break_glass=[
            BreakGlass.model_validate(b) for b in (doc.get("break_glass") or [])[-CARD_OVERRIDES:]
        ],
    )


def entry_document(entry: BaseModel) -> dict[str, Any]:
    """An outbox entry as stored inside its aggregate's document (its id kept as ``id``)."""
    document: dict[str, Any] = _bsonable(entry.model_dump())
    return document


OFF_LOOP_DOCUMENTS = 8  # decoding more whole documents than this takes milliseconds


async def from_documents(model: type[M], docs: list[dict[str, Any]]) -> list[M]:
    """``from_document`` for each; many are decoded on a worker thread, so other requests'
    acks do not wait for the validation of a few dozen whole releases."""
    if len(docs) <= OFF_LOOP_DOCUMENTS:
        return [from_document(model, d) for d in docs]
    return await asyncio.to_thread(lambda: [from_document(model, d) for d in docs])


def from_document(model: type[M], doc: dict[str, Any]) -> M:
    derived = _DERIVED_KEYS if model is Release else ()
    data = {k: v for k, v in doc.items() if not k.endswith(FOLDED_SUFFIX) and k not in derived}
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


def stored_day(value: datetime) -> date:
    """A date as ``day_start`` stored it (midnight UTC; naive when read without tz_aware)."""
    return (value.astimezone(UTC) if value.tzinfo else value).date()


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
