"""Collections addressed by a unique human key: roles and the catalog."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from pydantic import BaseModel
from pymongo.errors import DuplicateKeyError

from core.errors import NotFound
from storage.codec import from_document, object_id, to_document
from storage.engine import Collection
from storage.errors import duplicate

M = TypeVar("M", bound=BaseModel)


class KeyedRepository(Generic[M]):
    def __init__(self, collection: Collection, model: type[M], key: str, what: str) -> None:
        self._collection = collection
        self._model = model
        self._key = key
        self._what = what

    async def add(self, item: M) -> M:
        try:
            await self._collection.insert_one(to_document(item))
        except DuplicateKeyError as error:
            raise duplicate(error, self._what) from None
        return item

    async def get(self, key: str) -> M:
        doc = await self._collection.find_one({self._key: str(key)})
        if doc is None:
            raise NotFound(
                f"No {self._what} '{key}'. List them to see the ones that exist.",
                fields={self._key: "Unknown"},
            )
        return from_document(self._model, doc)

    async def all(self) -> list[M]:
        docs = await self._collection.find({}).sort(self._key, 1).to_list(length=None)
        return [from_document(self._model, d) for d in docs]

    async def get_many(self, ids: Sequence[str]) -> list[M]:
        oids = [object_id(i, self._what) for i in ids]
        docs = await self._collection.find({"_id": {"$in": oids}}).to_list(length=None)
        return [from_document(self._model, d) for d in docs]
