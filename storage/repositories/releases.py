"""The release aggregate: one document, saved with an optimistic version check.

Lists, App Home and digests read release cards (``core.rules.readiness.ReleaseCard``): the
head and the readiness summary stored with every write (``storage.codec``), not whole
releases. Search is a prefix of the stored ``search_keys`` (``core.rules.search``): an
anchored, case-sensitive regex on a folded literal, which an index serves.

Every list (pages, search, Home, pending approvals, digests' date windows, "did you mean")
leaves archived releases out (``LISTED``); reading one by reference, the outbox and the
audit heads do not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from core import ports
from core.errors import Kind, NotFound, StaleVersion
from core.models.common import is_object_id
from core.models.release import Release
from core.models.timeline import TimelineEvent
from core.pagination import ReleaseCursor
from core.ports import AuditHead, HomeReleases, ReleaseWithCatalog
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
    from_documents,
    to_document,
)
from storage.engine import Collection, union_of
from storage.errors import duplicate
from storage.repositories.keyed import KeyedRepository

NEWEST_FIRST = [("release_date", -1), ("_id", -1)]
FOLDED_ID = folded_field("release_id")
PENDING = {"products.quality_gates.milestones.approval.status": "PENDING"}
# Not archived: ``null`` also matches a release stored before archiving (no field). Checked on
# the documents the list's index walks (by date, by squad, by search key, pending): archived
# releases are few, so a page still costs O(page).
LISTED = {"archived_at": None}
_APPLICATION = "_catalog_application"  # an application, in the union of the catalog


class ReleaseRepository:
    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    async def add(self, release: Release) -> Release:
        try:
            await self._collection.insert_one(to_document(release))
        except DuplicateKeyError as error:
            raise duplicate(error, "release") from None
        return release

    async def get(self, ref: str, *, with_outbox: bool = True) -> Release:
        """One round trip, every clause index-served. See ``storage.codec.first_exact``."""
        ref = str(ref).strip()
        doc = await self._collection.find_one(
            _named(ref),
            None if with_outbox else {"outbox": 0},
            sort=first_exact("release_id"),
        )
        return _found(ref, doc)

    async def get_with_catalog(
        self,
        ref: str,
        *,
        squads: ports.SquadRepository,
        applications: ports.ApplicationRepository,
    ) -> ReleaseWithCatalog:
        """One round trip: the release as ``get`` finds it — a leading ``$match``, ``$sort``
        and ``$limit``, which the index serves as it serves ``get`` — and the union
        (``$unionWith``) of the squads and, within theirs, of the applications, each tagged
        with its part and sorted by its key here (``KeyedRepository.all_with``). Catalog
        repositories of another kind are read apart."""
        if not isinstance(squads, KeyedRepository) or not isinstance(applications, KeyedRepository):
            return ReleaseWithCatalog(await self.get(ref), *await squads.all_with(applications))
        ref = str(ref).strip()
        first: list[dict[str, Any]] = [
            {"$match": _named(ref)},
            {"$sort": dict(first_exact("release_id"))},
            {"$limit": 1},
        ]
        tagged = [{"$set": {_APPLICATION: 1}}]
        catalog = [{"$unionWith": {"coll": applications.collection_name, "pipeline": tagged}}]
        found, listed = await union_of(self._collection, first, squads.collection_name, catalog)
        release = _found(ref, found[0] if found else None)
        parts: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], [])
        for doc in listed:
            parts[doc.pop(_APPLICATION, 0)].append(doc)
        return ReleaseWithCatalog(
            release, squads.in_key_order(parts[0]), applications.in_key_order(parts[1])
        )

    async def recent_ids(self, *, squads: Sequence[str] | None, limit: int) -> list[str]:
        query = _query(self._listed(squads))
        cursor = self._collection.find(query, {"release_id": 1}).sort(NEWEST_FIRST).limit(limit)
        return [str(d["release_id"]) for d in await cursor.to_list(length=None)]

    async def save(self, release: Release, *, added: Sequence[TimelineEvent] = ()) -> Release:
        """Every field set, but the outbox only pushed to: a reaction may have cleared
        entries since this release was read, and writing them back would bring them back."""
        saved = release.model_copy(update={"version": release.version + 1})
        where = {"_id": ObjectId(release.id), "version": release.version}
        new = {entry.id for entry in added}
        adding = [entry for entry in release.outbox if entry.id in new]
        document = to_document(saved.model_copy(update={"outbox": adding}))  # the rest: unread
        del document["_id"]
        pushed = document.pop("outbox")
        update: dict[str, Any] = {"$set": document}
        if pushed:
            update["$push"] = {"outbox": {"$each": pushed}}
        try:
            result = await self._collection.update_one(where, update)
        except DuplicateKeyError:
            # Stored before ids were folded, its id differs only in case from another
            # release's: it keeps no folded id (storage.indexes.backfill_folded).
            document.pop(FOLDED_ID)
            result = await self._collection.update_one(where, update)
        if result.matched_count == 0:
            raise StaleVersion(release.release_id)
        return saved

    async def with_entries(self, release_oid: str, entry_ids: Sequence[str]) -> Release:
        only = {
            "$filter": {"input": "$outbox", "as": "e", "cond": {"$in": ["$$e.id", list(entry_ids)]}}
        }
        cursor = self._collection.aggregate(
            [{"$match": {"_id": ObjectId(release_oid)}}, {"$addFields": {"outbox": only}}]
        )
        found = await cursor.to_list(length=1)
        return _found(release_oid, found[0] if found else None)

    async def clear_outbox(self, release_oid: str, event_ids: Sequence[str]) -> None:
        # Not a version change: a writer that read the entries before does not write them
        # back (``save`` only adds to the outbox), so they stay cleared.
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
        clauses = self._listed(squads)
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
        return await self._find([*self._listed(squads), PENDING], 0)

    async def with_expired_approvals(self, *, now: datetime) -> list[Release]:
        due = {"products.quality_gates.milestones.approval.expires_at": {"$lte": now}}
        return await self._find([*self._listed(None), PENDING, due], 0)

    async def home(self, *, squads: Sequence[str] | None, limit: int) -> HomeReleases:
        """One round trip: the releases with a pending approval, whole, and the union
        (``$unionWith``) of the first ``limit`` cards, each part served by its index.
        MongoDB does not promise the order of a union's output: both parts are sorted
        here (a page and the pending releases, a few dozen documents)."""
        visible = self._listed(squads)
        newest = dict(NEWEST_FIRST)
        page: list[dict[str, Any]] = [{"$match": _query(visible)}, {"$sort": newest}]
        if limit:
            page.append({"$limit": limit})
        page.append({"$project": CARD_PROJECTION})
        pending_match = [{"$match": _query([*visible, PENDING])}]
        pending, first = await union_of(
            self._collection, pending_match, self._collection.name, page
        )
        for part in (pending, first):
            part.sort(key=lambda d: (d["release_date"], d["_id"]), reverse=True)
        return HomeReleases(
            pending=await from_documents(Release, pending), page=await self._cards_of(first)
        )

    async def dated_between(
        self, *, start: date, end: date, squads: Sequence[str] | None
    ) -> list[ReleaseCard]:
        clauses = self._listed(squads)
        clauses.append({"release_date": {"$gte": day_start(start), "$lte": day_start(end)}})
        return await self._cards(clauses, 0)

    async def _cards(self, clauses: list[dict[str, Any]], limit: int) -> list[ReleaseCard]:
        cursor = self._collection.find(_query(clauses), CARD_PROJECTION).sort(NEWEST_FIRST)
        if limit:
            cursor = cursor.limit(limit)
        return await self._cards_of(await cursor.to_list(length=None))

    async def _cards_of(self, docs: list[dict[str, Any]]) -> list[ReleaseCard]:
        """The cards of documents read with ``CARD_PROJECTION``; a round trip only for
        releases stored by an older version (without a current summary until start-up
        rebuilds it), read whole and summarized here."""
        cards = [card_from_document(d) for d in docs]
        stale = [d["_id"] for d, card in zip(docs, cards, strict=True) if card is None]
        if stale:
            whole = await self._collection.find({"_id": {"$in": stale}}).to_list(length=None)
            rebuilt = {d["_id"]: card_of(from_document(Release, d)) for d in whole}
            cards = [c or rebuilt.get(d["_id"]) for d, c in zip(docs, cards, strict=True)]
        return [c for c in cards if c is not None]

    async def _find(self, clauses: list[dict[str, Any]], limit: int) -> list[Release]:
        cursor = self._collection.find(_query(clauses)).sort(NEWEST_FIRST)
        if limit:
            cursor = cursor.limit(limit)
        return await from_documents(Release, await cursor.to_list(length=None))

    async def audit_heads(
        self, *, squads: Sequence[str] | None, after: str | None, limit: int
    ) -> list[AuditHead]:
        clauses = self._visible(squads)
        if after is not None:
            clauses.append({"_id": {"$gt": ObjectId(after)}})
        fields = {"release_id": 1, "audit_seq": 1, "audit_head": 1, "outbox": 1}
        cursor = self._collection.find(_query(clauses), fields).sort("_id", 1).limit(limit)
        heads = []
        for doc in await cursor.to_list(length=None):
            pending = [from_document(TimelineEvent, e) for e in doc.get("outbox") or []]
            heads.append(
                AuditHead(
                    str(doc["_id"]),
                    doc["release_id"],
                    doc.get("audit_seq", 0),
                    doc.get("audit_head", ""),
                    pending,
                )
            )
        return heads

    @staticmethod
    def _visible(squads: Sequence[str] | None) -> list[dict[str, Any]]:
        return [] if squads is None else [{"squad_ids": {"$in": list(squads)}}]

    @classmethod
    def _listed(cls, squads: Sequence[str] | None) -> list[dict[str, Any]]:
        """What a list shows: the releases in these squads that are not archived."""
        return [*cls._visible(squads), LISTED]


def _named(ref: str) -> dict[str, Any]:
    """The release ``ref`` (stripped) names: its release_id as typed or folded, or its
    ``_id``; every clause index-served."""
    clauses: list[dict[str, Any]] = [{"release_id": ref}, {FOLDED_ID: folded(ref)}]
    if is_object_id(ref):
        clauses.insert(0, {"_id": ObjectId(ref)})
    return {"$or": clauses}


def _found(ref: str, doc: dict[str, Any] | None) -> Release:
    if doc is None:
        raise NotFound(
            f"No release '{ref}'.", kind=Kind.RELEASE, fields={"release_id": "Unknown release"}
        )
    return from_document(Release, doc)


def _query(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    return {"$and": clauses} if clauses else {}
