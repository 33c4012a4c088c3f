"""Who calls the portal API: people sign in with a password (JWT sessions), machines send an
API token that acts as the person who made it, limited to its scopes.

Every request loads its user again (``IdentityService.actor_by_id``), so a disabled user's
sessions and tokens stop at once, and a revoked role counts at the next request.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

import jwt
from pydantic import Field, ValidationError, field_validator

from core.clock import Clock
from core.errors import (
    NotAuthenticated,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from core.models.auth import ApiToken, StoredApiToken, TokenPair
from core.models.common import KEY_MAX, DomainModel, is_object_id, new_id
from core.models.rbac import Permission, User, UserStatus
from core.passwords import verify_password
from core.ports import ApiTokenRepository, LoginAttemptRepository, UserRepository
from core.rules.permissions import Actor
from core.rules.principal import ALL_SCOPES, Principal, Scope
from core.services.identity import IdentityService

log = logging.getLogger(__name__)

ALGORITHM = "HS256"
MIN_SECRET_LENGTH = 32  # HS256 wants a key of at least 256 bits (RFC 7518 §3.2)
TOKEN_PREFIX = "rbt_"
TOKEN_NAME_MAX = 80
TOKEN_DAYS_MAX = 365
TOKEN_DAYS_DEFAULT = 90
# A token's last use is written at most this often (a CI job may call many times a minute).
LAST_USED_EVERY = timedelta(minutes=1)
# Failed sign-ins allowed per (username, client) within the window, before a wait.
LOGIN_FAILURES_ALLOWED = 5
LOGIN_WINDOW = timedelta(minutes=15)
# What a caller is told to send, whenever what it sent does not do.
HOW_TO_AUTHENTICATE = (
    "Send Authorization: Bearer <token>; get one from POST /api/v1/auth/login "
    "(or make an API token with POST /api/v1/tokens)."
)
WRONG_LOGIN = "Wrong username or password."
BCRYPT_MAX_BYTES = 72
# Checked when the username is unknown (or has no password), so that answering takes as long
# as for a known one: the bcrypt hash of a random password nobody knows, at the same cost.
_DUMMY_HASH = "$2b$12$sNPuGwHarClczy/4MVA51uE6NtF/3yvVLc2wVeDDRoomcL3YH7pzO"

TokenType = Literal["access", "refresh"]


@dataclass(frozen=True)
class AuthSettings:
    """How sessions are signed and how long they last. ``secret``: JWT_SECRET."""

    secret: str = field(repr=False)
    access_ttl: timedelta = timedelta(minutes=15)
    refresh_ttl: timedelta = timedelta(days=7)
    issuer: str = "releasebot"

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"the JWT secret must be at least {MIN_SECRET_LENGTH} characters")

    @classmethod
    def random(cls) -> AuthSettings:
        """A secret made for this process only: sessions end when it stops (dev and tests)."""
        return cls(secret=secrets.token_urlsafe(48))


class TokenRequest(DomainModel):
    """What makes an API token: checked before anything is stored."""

    name: str = Field(min_length=1, max_length=TOKEN_NAME_MAX)
    scopes: list[Scope] = Field(min_length=1)
    expires_in_days: int = Field(ge=1, le=TOKEN_DAYS_MAX, strict=True)

    @field_validator("name", mode="before")
    @classmethod
    def _trimmed(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @field_validator("scopes", mode="before")
    @classmethod
    def _known_scopes(cls, value: object) -> object:
        if isinstance(value, str) or not isinstance(value, Sequence):
            return value  # pydantic says what it wanted
        known = {s.value for s in Scope}
        unknown = [str(v) for v in value if str(v) not in known]
        if unknown:
            listed = ", ".join(f"'{s}'" for s in unknown)
            raise ValueError(
                f"Unknown scope {listed}; choose from {', '.join(s.value for s in Scope)}"
            )
        return sorted({str(v) for v in value}, key=[s.value for s in Scope].index)


class AuthService:
    def __init__(
        self,
        tokens: ApiTokenRepository,
        attempts: LoginAttemptRepository,
        users: UserRepository,
        identity: IdentityService,
        clock: Clock,
        settings: AuthSettings,
    ) -> None:
        self._tokens = tokens
        self._attempts = attempts
        self._users = users
        self._identity = identity
        self._clock = clock
        self._settings = settings

    # --- people: sign in, refresh ------------------------------------------------------------

    async def login(self, username: str, password: str, client: str) -> TokenPair:
        """A session for the person whose password this is.

        An unknown username and a wrong password are refused alike, in about the same time
        (a password is always checked, against a dummy hash when there is no user). Failed
        attempts are limited per username and ``client`` (the caller's address, say): each
        is counted before its password is checked, so concurrent guesses count too; beyond
        the limit even the right password waits."""
        name = username.strip()
        # Bounded: both come from the caller. No username is longer than KEY_MAX.
        key = f"{name[: KEY_MAX + 1].casefold()}\n{client[:200]}"
        counted = await self._attempts.count(key, now=self._clock(), window=LOGIN_WINDOW)
        if counted.count > LOGIN_FAILURES_ALLOWED:
            wait = max(1, math.ceil((counted.expires_at - self._clock()).total_seconds()))
            raise RateLimited(
                f"Too many failed sign-ins for '{name[:KEY_MAX]}'; try again in "
                f"{_duration(wait)}, or ask an admin to set a new password.",
                retry_after=wait,
            )
        user = await self._user_named(name)
        stored_hash = user.password_hash if user is not None else None
        # bcrypt refuses more than 72 bytes; no password set here is longer (UserDraft).
        too_long = len(password.encode()) > BCRYPT_MAX_BYTES
        checked = "" if too_long else password
        matches = await asyncio.to_thread(verify_password, checked, stored_hash or _DUMMY_HASH)
        if user is None or stored_hash is None or too_long or not matches:
            raise NotAuthenticated(WRONG_LOGIN)
        await self._attempts.clear(key)
        if user.status is not UserStatus.ACTIVE:
            raise NotAuthenticated(_inactive(user.username, user.status))
        return self._pair(user.id)

    async def refresh(self, refresh_token: str) -> TokenPair:
        """A new session from a refresh token, for a user still active."""
        claims = self._decode(refresh_token, "refresh")
        actor = await self._active_actor(str(claims["sub"]))
        return self._pair(actor.user_id)

    # --- every request -----------------------------------------------------------------------

    async def authenticate(self, authorization_header: str | None) -> Principal:
        """The caller of a request, from its Authorization header: a person (JWT) with every
        scope, or an API token's user with the token's scopes."""
        credentials = _bearer(authorization_header)
        if credentials.startswith(TOKEN_PREFIX):
            return await self._token_principal(credentials)
        claims = self._decode(credentials, "access")
        return Principal(await self._active_actor(str(claims["sub"])), ALL_SCOPES)

    # --- machines: API tokens ----------------------------------------------------------------

    async def create_token(
        self,
        principal: Principal,
        name: str,
        scopes: Sequence[str],
        expires_in_days: int = TOKEN_DAYS_DEFAULT,
    ) -> tuple[ApiToken, str]:
        """An API token acting as ``principal``'s user with ``scopes``, and its secret: shown
        this once, only its hash is kept."""
        principal.require_person("make API tokens")
        principal.actor.require_active()
        try:
            request = TokenRequest.model_validate(
                {"name": name, "scopes": list(scopes), "expires_in_days": expires_in_days}
            )
        except ValidationError as error:
            raise ValidationFailed.from_pydantic(error) from None
        now = self._clock()
        token_id = new_id()
        secret = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
        stored = await self._tokens.add(
            StoredApiToken(
                id=token_id,
                user_id=principal.actor.user_id,
                name=request.name,
                scopes=request.scopes,
                created_at=now,
                expires_at=now + timedelta(days=request.expires_in_days),
                secret_sha256=_sha256(secret),
            )
        )
        log.info("API token %s made by user %s", stored.id, stored.user_id)
        return stored.public(), secret

    async def list_tokens(self, principal: Principal) -> list[ApiToken]:
        """The caller's own tokens, newest first (revoked and expired ones too)."""
        principal.actor.require_active()
        return await self._tokens.for_user(principal.actor.user_id)

    async def revoke_token(self, principal: Principal, token_id: str) -> ApiToken:
        """Revoke one of the caller's tokens, or, for an admin who manages users, anyone's.
        Another person's token reads as unknown to everyone else (its existence is theirs)."""
        principal.require_person("revoke API tokens")
        principal.actor.require_active()
        unknown = NotFound(
            f"No API token '{token_id}' of yours (your token list shows each one's id).",
            fields={"token_id": "Unknown token"},
        )
        try:
            token = await self._tokens.get(token_id) if is_object_id(token_id) else None
        except NotFound:
            token = None
        if token is None:
            raise unknown
        mine = token.user_id == principal.actor.user_id
        if not mine and not principal.actor.has(Permission.CAN_MANAGE_ROLES):
            raise unknown
        revoked = await self._tokens.revoke(token.id, at=self._clock())
        log.info("API token %s revoked by user %s", token.id, principal.actor.user_id)
        return revoked

    # --- inside -------------------------------------------------------------------------------

    def _pair(self, user_id: str) -> TokenPair:
        settings = self._settings
        return TokenPair(
            access_token=self._encode(user_id, "access", settings.access_ttl),
            refresh_token=self._encode(user_id, "refresh", settings.refresh_ttl),
            expires_in=int(settings.access_ttl.total_seconds()),
        )

    def _encode(self, user_id: str, kind: TokenType, ttl: timedelta) -> str:
        now = self._clock()
        claims = {
            "sub": user_id,
            "typ": kind,
            "iat": now,
            "exp": now + ttl,
            "iss": self._settings.issuer,
            "jti": secrets.token_urlsafe(16),
        }
        return jwt.encode(claims, self._settings.secret, algorithm=ALGORITHM)

    def _decode(self, token: str, kind: TokenType) -> dict[str, Any]:
        """The claims of a JWT of this kind, signed by us and not expired by our clock (PyJWT
        would judge expiry by the wall clock, so it is judged here)."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._settings.secret,
                algorithms=[ALGORITHM],
                issuer=self._settings.issuer,
                options={
                    "require": ["sub", "typ", "iat", "exp", "iss", "jti"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.InvalidTokenError:
            what = "session" if kind == "access" else "refresh"
            raise NotAuthenticated(
                f"The {what} token is not valid (damaged, or signed by another server). "
                + HOW_TO_AUTHENTICATE
            ) from None
        if claims["typ"] != kind:
            raise NotAuthenticated(
                "That is a refresh token: send it to POST /api/v1/auth/refresh for a new "
                "access token, and send the access token as Authorization: Bearer <token>."
                if kind == "access"
                else "That is an access token: send the refresh_token from the sign-in "
                "answer, or sign in again with POST /api/v1/auth/login."
            )
        exp = claims["exp"]
        if not isinstance(exp, int | float) or self._clock().timestamp() >= exp:
            raise NotAuthenticated(
                "Your session expired; get a new one with POST /api/v1/auth/refresh, or sign "
                "in again with POST /api/v1/auth/login."
                if kind == "access"
                else "The refresh token expired; sign in again with POST /api/v1/auth/login."
            )
        return claims

    async def _token_principal(self, secret: str) -> Principal:
        token_id, _, rest = secret.removeprefix(TOKEN_PREFIX).partition("_")
        garbled = NotAuthenticated(
            "That API token is not one this server made (or was cut short). " + HOW_TO_AUTHENTICATE
        )
        if not is_object_id(token_id) or not rest:
            raise garbled
        try:
            token = await self._tokens.get(token_id)
        except NotFound:
            raise garbled from None
        if not hmac.compare_digest(token.secret_sha256, _sha256(secret)):
            raise garbled
        now = self._clock()
        if token.revoked_at is not None:
            raise NotAuthenticated(
                f"The API token '{token.name}' was revoked on {token.revoked_at:%Y-%m-%d}; "
                "make a new one with POST /api/v1/tokens."
            )
        if now >= token.expires_at:
            raise NotAuthenticated(
                f"The API token '{token.name}' expired on {token.expires_at:%Y-%m-%d}; "
                "make a new one with POST /api/v1/tokens."
            )
        actor = await self._active_actor(token.user_id)
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
            await self._tokens.touch(token.id, at=now)
        return Principal(actor, frozenset(token.scopes), token_id=token.id)

    async def _user_named(self, name: str) -> User | None:
        if not name or len(name) > KEY_MAX:
            return None
        try:
            return await self._users.get_by_username(name)
        except NotFound:
            return None

    async def _active_actor(self, user_id: str) -> Actor:
        """The user as stored now; one no longer active (or gone) is refused."""
        try:
            actor = await self._identity.actor_by_id(user_id)
        except NotFound:
            raise NotAuthenticated(
                "The account these credentials belong to no longer exists. " + HOW_TO_AUTHENTICATE
            ) from None
        if not actor.is_active:
            raise NotAuthenticated(_inactive(actor.user.username, actor.user.status))
        return actor


def _bearer(header: str | None) -> str:
    scheme, _, credentials = (header or "").strip().partition(" ")
    if not scheme:
        raise NotAuthenticated("This needs you signed in. " + HOW_TO_AUTHENTICATE)
    if scheme.lower() != "bearer" or not credentials.strip():
        raise NotAuthenticated(
            f"The Authorization header must be 'Bearer <token>' (it began '{scheme[:10]}'). "
            + HOW_TO_AUTHENTICATE
        )
    return credentials.strip()


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _inactive(username: str, status: UserStatus) -> str:
    return f"The account '{username}' is {status.value.lower()}; ask an admin to activate it."


def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' * (seconds != 1)}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' * (minutes != 1)}"
