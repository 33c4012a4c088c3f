"""What signing in to the portal API produces: session tokens (JWT) and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from core.models.common import DomainModel, Entity, UtcDatetime
from core.rules.principal import Scope


class TokenPair(BaseModel):
    """A person's session: a short-lived access JWT and a longer-lived refresh JWT."""

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")


class ApiToken(Entity):
    """A machine's credential, as its owner sees it: never its secret, nor the secret's hash."""

    user_id: str
    name: str
    scopes: list[Scope]
    created_at: UtcDatetime
    expires_at: UtcDatetime
    revoked_at: UtcDatetime | None = None
    last_used_at: UtcDatetime | None = None

    def usable_at(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


class StoredApiToken(ApiToken):
    """An API token as stored: with the SHA-256 (hex) of its secret, which is never stored.

    The secret is random (``secrets.token_urlsafe``, 256 bits), so a fast hash suffices: no
    dictionary can guess it, unlike a password."""

    secret_sha256: str = Field(repr=False)

    def public(self) -> ApiToken:
        return ApiToken.model_validate(self.model_dump(exclude={"secret_sha256"}))


class LoginAttempts(DomainModel):
    """Sign-in attempts counted for one (username, client) until ``expires_at``: each one
    is counted before its password is checked, and a successful one clears the count."""

    key: str
    count: int
    expires_at: UtcDatetime
