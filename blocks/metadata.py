"""Typed private_metadata for modals: a small pydantic model, checked against Slack's limit."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from core.errors import ValidationFailed

METADATA_LIMIT = 3000
M = TypeVar("M", bound="Metadata")


class Metadata(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def encode(self) -> str:
        text = self.model_dump_json(exclude_none=True)
        if len(text) > METADATA_LIMIT:
            raise ValueError(
                f"private_metadata is {len(text)} characters; Slack allows {METADATA_LIMIT}"
            )
        return text

    @classmethod
    def decode(cls: type[M], text: str | None) -> M:
        try:
            return cls.model_validate_json(text or "{}")
        except ValidationError:
            raise ValidationFailed("This form is out of date; open it again.") from None
