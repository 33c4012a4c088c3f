"""Signing in, who am I, and API tokens: thin over the core's AuthService."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from bot.api.routing import Call, Route
from core.models.auth import ApiToken, TokenPair
from core.models.rbac import Permission, UserStatus
from core.rules.principal import Scope
from core.services.auth import TOKEN_DAYS_DEFAULT, TOKEN_DAYS_MAX, AuthService, TokenRequest
from core.services.container import Services

AUTH_TAG = "auth"
TOKENS_TAG = "tokens"


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=200)
    password: str = Field(max_length=1000)


class RefreshBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(max_length=4000, description="From the sign-in answer")


class TokenCreateBody(TokenRequest):
    """The core's own token request (name 1–80 characters, known scopes), with a default
    lifetime."""

    expires_in_days: int = Field(TOKEN_DAYS_DEFAULT, ge=1, le=TOKEN_DAYS_MAX, strict=True)


class TokenCreated(ApiToken):
    token: str = Field(description="The secret to send as Bearer; shown this once, never again")


class TokenList(BaseModel):
    items: list[ApiToken] = Field(description="Your tokens, newest first, revoked ones too")


class UserView(BaseModel):
    id: str
    username: str
    full_name: str
    email: str
    status: UserStatus
    time_zone: str | None
    assigned_squad_ids: list[str]


class MeView(BaseModel):
    user: UserView
    roles: list[str]
    permissions: list[Permission]
    via: Literal["session", "api_token"] = Field(
        description="A person's session (every scope), or an API token (its scopes)"
    )
    token_id: str | None
    scopes: list[Scope]


def client_of(request: web.Request) -> str:
    """Who is signing in, for the limit on failed attempts: the peer's address."""
    return request.remote or "unknown"


def auth_routes(services: Services) -> list[Route]:
    auth: AuthService = services.auth

    async def login(call: Call) -> TokenPair:
        body = call.body(LoginBody)
        return await auth.login(body.username, body.password, client_of(call.request))

    async def refresh(call: Call) -> TokenPair:
        return await auth.refresh(call.body(RefreshBody).refresh_token)

    async def me(call: Call) -> MeView:
        principal = call.caller
        actor = principal.actor
        user = actor.user
        return MeView(
            user=UserView(
                id=user.id,
                username=user.username,
                full_name=user.full_name,
                email=user.email,
                status=user.status,
                time_zone=user.time_zone,
                assigned_squad_ids=list(user.assigned_squad_ids),
            ),
            roles=actor.role_names,
            permissions=sorted(actor.permissions),
            via="session" if principal.is_person else "api_token",
            token_id=principal.token_id,
            scopes=[s for s in Scope if s in principal.scopes],
        )

    async def create_token(call: Call) -> TokenCreated:
        body = call.body(TokenCreateBody)
        token, secret = await auth.create_token(
            call.caller, body.name, body.scopes, body.expires_in_days
        )
        return TokenCreated(**token.model_dump(), token=secret)

    async def list_tokens(call: Call) -> TokenList:
        return TokenList(items=await auth.list_tokens(call.caller))

    async def revoke_token(call: Call) -> ApiToken:
        return await auth.revoke_token(call.caller, call.params["id"])

    return [
        Route(
            "POST",
            "/api/v1/auth/login",
            login,
            "Sign in with a username and password",
            AUTH_TAG,
            public=True,
            body=LoginBody,
            response=TokenPair,
            description="Send the access_token as Authorization: Bearer <token>. Repeated "
            "failures for a username from one client are refused for a while (429, "
            "Retry-After).",
        ),
        Route(
            "POST",
            "/api/v1/auth/refresh",
            refresh,
            "A new session from a refresh token",
            AUTH_TAG,
            public=True,
            body=RefreshBody,
            response=TokenPair,
        ),
        Route(
            "GET",
            "/api/v1/me",
            me,
            "Who you are: user, roles, permissions and scopes",
            AUTH_TAG,
            response=MeView,
        ),
        Route(
            "POST",
            "/api/v1/tokens",
            create_token,
            "Make an API token for a machine (CI, a pipeline)",
            TOKENS_TAG,
            body=TokenCreateBody,
            response=TokenCreated,
            status=201,
            description="Only a signed-in person can; the token acts as you, limited to its "
            "scopes, and its secret is shown only in this answer.",
        ),
        Route(
            "GET", "/api/v1/tokens", list_tokens, "Your API tokens", TOKENS_TAG, response=TokenList
        ),
        Route(
            "DELETE",
            "/api/v1/tokens/{id}",
            revoke_token,
            "Revoke an API token",
            TOKENS_TAG,
            response=ApiToken,
            params={"id": "The token's id (from GET /api/v1/tokens)"},
            description="Your own, or anyone's for an admin who manages roles.",
        ),
    ]
