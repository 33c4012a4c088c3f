"""Collections addressed by a unique human key: roles and the catalog."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from pymongo.errors import DuplicateKeyError

from core import ports
from core.errors import Kind, NotFound
from storage.codec import (
    first_exact,
    folded,
    folded_field,
    from_document,
    object_id,
    to_document,
)
from storage.engine import Collection, union_of
from storage.errors import duplicate

M = TypeVar("M", bound=BaseModel)
N = TypeVar("N")


class KeyedRepository(Generic[M]):
    """``ignore_case``: ``get`` also finds the key case-folded (the model must be one of
    ``storage.codec.FOLDED_KEYS``, so its documents carry ``<key>_folded``)."""

    def __init__(
        self,
        collection: Collection,
        model: type[M],
        key: str,
        what: str,
        kind: Kind,
        *,
        ignore_case: bool = False,
    ) -> None:
        self._collection = collection
        self._model = model
        self._key = key
        self._what = what
        self._kind = kind
        self._ignore_case = ignore_case

    async def add(self, item: M) -> M:
        try:
            await self._collection.insert_one(to_document(item))
        except DuplicateKeyError as error:
            raise duplicate(error, self._what) from None
        return item

    async def get(self, key: str) -> M:
        key = str(key)
        doc = await self._find(key)
        if doc is None:
            raise NotFound(
                f"No {self._what} '{key.strip()}'.", kind=self._kind, fields={self._key: "Unknown"}
            )
        return from_document(self._model, doc)

    async def all(self) -> list[M]:
        docs = await self._collection.find({}).sort(self._key, 1).to_list(length=None)
        return [from_document(self._model, d) for d in docs]

    async def all_with(self, other: ports.KeyedRepository[N]) -> tuple[list[M], list[N]]:
        """One round trip: this collection's documents and the union (``$unionWith``) of
        ``other``'s, each sorted by its key (here: MongoDB does not promise the order of a
        union's output). Another kind of repository is read apart."""
        if not isinstance(other, KeyedRepository):
            return await self.all(), await other.all()
        mine, others = await union_of(self._collection, [], other.collection_name, [])
        theirs: list[N] = other.in_key_order(others)
        return self.in_key_order(mine), theirs

    @property
    def collection_name(self) -> str:
        """For a read of several collections at once (``$unionWith``)."""
        return self._collection.name

    def in_key_order(self, docs: list[dict[str, Any]]) -> list[M]:
        """This collection's documents as ``all`` returns them: sorted by key, as MongoDB
        compares strings (by code point)."""
        docs.sort(key=lambda d: str(d[self._key]))
        return [from_document(self._model, d) for d in docs]

    async def get_many(self, ids: Sequence[str]) -> list[M]:
        oids = [object_id(i, self._what, self._kind) for i in ids]
        docs = await self._collection.find({"_id": {"$in": oids}}).to_list(length=None)
        return [from_document(self._model, d) for d in docs]

    async def _find(self, key: str) -> dict[str, Any] | None:
        if not self._ignore_case:
            return await self._collection.find_one({self._key: key})
        # One round trip, both clauses index-served. See ``storage.codec.first_exact``.
        query = {"$or": [{self._key: key}, {folded_field(self._key): folded(key)}]}
        return await self._collection.find_one(query, sort=first_exact(self._key))
