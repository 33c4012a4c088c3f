"""Attachments: files registered once (unique sha256) and linked to release targets."""

from __future__ import annotations

from pydantic import Field, field_validator

from core.models.common import DomainModel, Entity, Key, MimeType, Name, Url, UtcDatetime


class AttachmentTarget(DomainModel):
    """Where an attachment is linked: the release itself or one of its children."""

    release_id: Key
    application_id: Key | None = None
    product_id: Key | None = None
    runbook_id: str | None = None
    runbook_task_name: Name | None = None
    gate_name: Name | None = None
    milestone_key: Key | None = None
    ctask_id: Key | None = None


class AttachmentDraft(DomainModel):
    file_name: Name
    file_type: MimeType = "application/octet-stream"
    file_size: int = Field(ge=0, le=5 * 1024**3)
    file_url: Url
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    tags: list[Key] = Field(default_factory=list, max_length=20)

    @field_validator("sha256")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class Attachment(Entity, AttachmentDraft):
    uploaded_by: str
    uploaded_at: UtcDatetime
    links: list[AttachmentTarget] = Field(default_factory=list)
