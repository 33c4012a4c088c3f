"""Attachments, unique by sha256."""

from __future__ import annotations

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from core.errors import Duplicate, Kind, NotFound
from core.models.attachment import Attachment, AttachmentTarget
from storage.codec import from_document, object_id, to_document
from storage.engine import Collection


class AttachmentRepository:
    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    async def add(self, attachment: Attachment) -> Attachment:
        try:
            await self._collection.insert_one(to_document(attachment))
        except DuplicateKeyError:
            raise Duplicate(
                f"A file with sha256 {attachment.sha256[:12]}… is already registered; "
                "link the existing attachment instead.",
                fields={"sha256": "Already registered"},
            ) from None
        return attachment

    async def get(self, attachment_id: str) -> Attachment:
        doc = await self._collection.find_one(
            {"_id": object_id(attachment_id, "attachment", Kind.ATTACHMENT)}
        )
        if doc is None:
            raise NotFound(f"No attachment with id '{attachment_id}'.", kind=Kind.ATTACHMENT)
        return from_document(Attachment, doc)

    async def find_by_sha256(self, sha256: str) -> Attachment | None:
        doc = await self._collection.find_one({"sha256": str(sha256).lower()})
        return None if doc is None else from_document(Attachment, doc)

    async def add_link(self, attachment_id: str, target: AttachmentTarget) -> Attachment:
        doc = await self._collection.find_one_and_update(
            {"_id": object_id(attachment_id, "attachment", Kind.ATTACHMENT)},
            {"$addToSet": {"links": target.model_dump()}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            raise NotFound(f"No attachment with id '{attachment_id}'.", kind=Kind.ATTACHMENT)
        return from_document(Attachment, doc)
