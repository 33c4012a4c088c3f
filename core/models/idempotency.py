"""One use of an Idempotency-Key: claimed before the change it guards, its answer kept."""

from __future__ import annotations

from pydantic import Field

from core.models.common import DomainModel, UtcDatetime


class StoredAnswer(DomainModel):
    """An answer as it was sent: replayed as is to the same request made again."""

    status: int = Field(ge=100, le=599)
    body: str  # JSON text, kept verbatim


class IdempotentRequest(DomainModel):
    """``key`` is scoped to the user (``<user_id>:<Idempotency-Key>``); ``fingerprint`` is
    the SHA-256 of the request it was first used for; ``answer`` is None while that request
    is in flight."""

    key: str
    fingerprint: str
    claimed_at: UtcDatetime
    answer: StoredAnswer | None = None
