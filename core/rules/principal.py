"""Who calls the portal API, and what that call may do.

A person signed in with a password (a JWT) acts with every scope; a machine's API token acts
as the user who made it, limited to the token's scopes. Scopes only narrow: the core services
still check the user's own permission flags (``Actor.require``) on every change."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.errors import PermissionDenied
from core.rules.permissions import Actor


class Scope(StrEnum):
    RELEASES_READ = "releases:read"
    RELEASES_WRITE = "releases:write"
    GATES_WRITE = "gates:write"
    APPROVALS_READ = "approvals:read"
    APPROVALS_WRITE = "approvals:write"
    WEBHOOKS_WRITE = "webhooks:write"
    ADMIN = "admin"  # catalog and roles, for an admin's own automation


ALL_SCOPES = frozenset(Scope)


@dataclass(frozen=True)
class Principal:
    """The caller: ``actor`` as loaded for this request, ``token_id`` None for a person."""

    actor: Actor
    scopes: frozenset[Scope] = ALL_SCOPES
    token_id: str | None = None

    @property
    def is_person(self) -> bool:
        return self.token_id is None

    def require_scope(self, scope: Scope) -> None:
        """Refuse a token that was not given ``scope`` (a person has every scope)."""
        if scope not in self.scopes:
            raise PermissionDenied(
                f"This API token lacks the '{scope.value}' scope. "
                f'Make a token with it (POST /api/v1/tokens with "scopes": ["{scope.value}"]).'
            )

    def require_person(self, action: str) -> None:
        """Refuse machines what only a signed-in person may do (make more tokens, say)."""
        if not self.is_person:
            raise PermissionDenied(
                f"An API token cannot {action}; sign in with a password (POST /api/v1/auth/login)."
            )
