"""The release aggregate: one document, saved with an optimistic version check.

Lists, App Home and digests read release cards (``core.rules.readiness.ReleaseCard``): the
head and the readiness summary stored with every write (``storage.codec``), not whole
releases. Search is a prefix of the stored ``search_keys`` (``core.rules.search``): an
anchored, case-sensitive regex on a folded literal, which an index serves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from core.errors import Kind, NotFound, StaleVersion
from core.models.common import is_object_id
from core.models.release import Release
from core.pagination import ReleaseCursor
from core.rules.readiness import ReleaseCard, card_of
from core.rules.search import search_term
from storage.codec import (
    CARD_PROJECTION,
    SEARCH_KEYS,
    card_from_document,
    day_start,
    first_exact,
    folded,
    folded_field,
    from_document,
    to_document,
)
from storage.engine import Collection
from storage.errors import duplicate

NEWEST_FIRST = [("release_date", -1), ("_id", -1)]
FOLDED_ID = folded_field("release_id")


class ReleaseRepository:
    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    async def add(self, release: Release) -> Release:
        try:
            await self._collection.insert_one(to_document(release))
        except DuplicateKeyError as error:
            raise duplicate(error, "release") from None
        return release

    async def get(self, ref: str) -> Release:
        """One round trip, every clause index-served. See ``storage.codec.first_exact``."""
        ref = str(ref).strip()
        clauses: list[dict[str, Any]] = [{"release_id": ref}, {FOLDED_ID: folded(ref)}]
        if is_object_id(ref):
            clauses.insert(0, {"_id": ObjectId(ref)})
        doc = await self._collection.find_one({"$or": clauses}, sort=first_exact("release_id"))
        if doc is None:
            raise NotFound(
                f"No release '{ref}'.", kind=Kind.RELEASE, fields={"release_id": "Unknown release"}
            )
        return from_document(Release, doc)

    async def recent_ids(self, *, squads: Sequence[str] | None, limit: int) -> list[str]:
        clauses = self._visible(squads)
        query = {"$and": clauses} if clauses else {}
        cursor = self._collection.find(query, {"release_id": 1}).sort(NEWEST_FIRST).limit(limit)
        return [str(d["release_id"]) for d in await cursor.to_list(length=None)]

    async def save(self, release: Release) -> Release:
        saved = release.model_copy(update={"version": release.version + 1})
        where = {"_id": ObjectId(release.id), "version": release.version}
        document = to_document(saved)
        try:
            result = await self._collection.replace_one(where, document)
        except DuplicateKeyError:
            # Stored before ids were folded, its id differs only in case from another
            # release's: it keeps no folded id (storage.indexes.backfill_folded).
            document.pop(FOLDED_ID)
            result = await self._collection.replace_one(where, document)
        if result.matched_count == 0:
            raise StaleVersion(release.release_id)
        return saved

    async def clear_outbox(self, release_oid: str, event_ids: Sequence[str]) -> None:
        # Not a version change: a writer that read the entries first writes them back, and
        # they are delivered (once, by id) and cleared again.
        await self._collection.update_one(
            {"_id": ObjectId(release_oid)}, {"$pull": {"outbox": {"id": {"$in": list(event_ids)}}}}
        )

    async def with_outbox(self, *, limit: int) -> list[Release]:
        cursor = self._collection.find({"outbox.id": {"$exists": True}}).limit(limit)
        return [from_document(Release, d) for d in await cursor.to_list(length=None)]

    async def page(
        self,
        *,
        squads: Sequence[str] | None,
        query: str | None,
        after: ReleaseCursor | None,
        limit: int,
    ) -> list[ReleaseCard]:
        clauses = self._visible(squads)
        term = search_term(query)
        if term:
            clauses.append({SEARCH_KEYS: {"$regex": f"^{re.escape(term)}"}})
        if after is not None:
            when, oid = day_start(after.release_date), ObjectId(after.id)
            clauses.append(
                {
                    "$or": [
                        {"release_date": {"$lt": when}},
                        {"release_date": when, "_id": {"$lt": oid}},
                    ]
                }
            )
        return await self._cards(clauses, limit)

    async def with_pending_approvals(self, *, squads: Sequence[str] | None) -> list[Release]:
        clauses = self._visible(squads)
        clauses.append({"products.quality_gates.milestones.approval.status": "PENDING"})
        return await self._find(clauses, 0)

    async def dated_between(
        self, *, start: date, end: date, squads: Sequence[str] | None
    ) -> list[ReleaseCard]:
        clauses = self._visible(squads)
        clauses.append({"release_date": {"$gte": day_start(start), "$lte": day_start(end)}})
        return await self._cards(clauses, 0)

    async def _cards(self, clauses: list[dict[str, Any]], limit: int) -> list[ReleaseCard]:
        """One round trip; a second only for releases stored by an older version (without a
        current summary until start-up rebuilds it), read whole and summarized here."""
        query = {"$and": clauses} if clauses else {}
        cursor = self._collection.find(query, CARD_PROJECTION).sort(NEWEST_FIRST)
        if limit:
            cursor = cursor.limit(limit)
        docs = await cursor.to_list(length=None)
        cards = [card_from_document(d) for d in docs]
        stale = [d["_id"] for d, card in zip(docs, cards, strict=True) if card is None]
        if stale:
            whole = await self._collection.find({"_id": {"$in": stale}}).to_list(length=None)
            rebuilt = {d["_id"]: card_of(from_document(Release, d)) for d in whole}
            cards = [c or rebuilt.get(d["_id"]) for d, c in zip(docs, cards, strict=True)]
        return [c for c in cards if c is not None]

    async def _find(self, clauses: list[dict[str, Any]], limit: int) -> list[Release]:
        query = {"$and": clauses} if clauses else {}
        cursor = self._collection.find(query).sort(NEWEST_FIRST)
        if limit:
            cursor = cursor.limit(limit)
        return [from_document(Release, d) for d in await cursor.to_list(length=None)]

    @staticmethod
    def _visible(squads: Sequence[str] | None) -> list[dict[str, Any]]:
        return [] if squads is None else [{"squad_ids": {"$in": list(squads)}}]
