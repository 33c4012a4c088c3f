"""Test helpers: a controllable clock, actor factories and a storage snapshot."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from core.models.catalog import ApplicationDraft, Product
from core.models.rbac import Permission, Role, User
from core.models.release import Environment, Release, ReleaseDraft
from core.rules.permissions import Actor
from core.services.container import Repositories, Services
from core.services.gates import GateDraft, MilestoneDraft
from storage.engine import Database
from tests.fakes import FakeDatabase

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
COLLECTIONS = (
    "roles",
    "users",
    "applications",
    "squads",
    "jiraboards",
    "releases",
    "attachments",
    "events",
    "api_tokens",
    "login_attempts",
    "idempotency_keys",
    "webhooks",
    "webhook_deliveries",
    "invitations",
    "freezes",
)


@dataclass
class FrozenClock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class World:
    """Services over one database, and factories for the people who act on them.

    ``db`` is the database under the storage adapters; on the in-memory fakes it is None and
    ``fakes`` holds what they store (``snapshot``, ``stored`` and ``edit_stored`` read and
    write either)."""

    db: Database | None
    repos: Repositories
    services: Services
    clock: FrozenClock
    _roles: dict[frozenset[Permission], Role] = field(default_factory=dict)
    fakes: FakeDatabase | None = None

    @property
    def mongo(self) -> Database:
        """The database under the storage adapters (tests that read it directly)."""
        assert self.db is not None, "this test reads MongoDB: use the storage world"
        return self.db

    async def actor(
        self,
        username: str,
        *permissions: Permission,
        squads: Iterable[str] = (),
        status: str = "ACTIVE",
    ) -> Actor:
        """A stored user holding one stored role with exactly these flags."""
        role = await self._role(frozenset(permissions))
        user = User(
            username=username,
            full_name=username.title(),
            email=f"{username}@example.com",
            role_ids=[role.id],
            assigned_squad_ids=list(squads),
            status=status,  # type: ignore[arg-type]
            created_at=self.clock(),
        )
        await self.repos.users.add(user)
        return await self.services.identity.actor_by_id(user.id)

    async def _role(self, permissions: frozenset[Permission]) -> Role:
        if permissions not in self._roles:
            flags = sorted(p.value for p in permissions)
            name = "all-flags" if len(flags) == len(Permission) else "+".join(flags) or "no-flags"
            role = Role.model_validate(
                {
                    "role_name": name,
                    "created_at": self.clock(),
                    **{p.value: True for p in permissions},
                }
            )
            self._roles[permissions] = await self.repos.roles.add(role)
        return self._roles[permissions]

    async def admin(self) -> Actor:
        return await self.actor("root", *Permission)

    async def release(
        self,
        release_id: str = "REL-2026.12",
        *,
        squads: Iterable[str] = ("payments",),
        on: date = date(2026, 12, 10),
        products: Iterable[str] = ("pay-api",),
        gates: Iterable[str] = (),
    ) -> Release:
        """A stored release with catalog products and (optionally) gates, made by an admin."""
        admin = await self.admin_actor()
        products = list(products)
        app_id = "app-" + release_id.lower().replace(".", "-")
        await self.services.catalog.create_application(
            admin,
            ApplicationDraft(
                application_id=app_id,
                application_name=f"App {release_id}",
                products=[Product(product_id=p, product_name=p.title()) for p in products],
            ),
        )
        await self.services.releases.create(
            admin,
            ReleaseDraft(
                release_id=release_id,
                release_name=f"Release {release_id}",
                release_date=on,
                squad_ids=list(squads),
            ),
        )
        for product in products:
            await self.services.releases.add_product(
                admin, release_id, application_id=app_id, product_id=product
            )
            for gate in gates:
                await self.services.gates.add_gate(
                    admin, release_id, product, GateDraft(gate_name=gate)
                )
        return await self.repos.releases.get(release_id)

    async def admin_actor(self) -> Actor:
        user = await self.repos.users.find_by_email("root@example.com")
        if user is None:
            return await self.admin()
        return await self.services.identity.actor_for(user)

    async def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every stored document, to assert that a refused operation changed nothing."""
        return {name: await self.stored(name) for name in COLLECTIONS}

    async def stored(self, collection: str) -> list[dict[str, Any]]:
        """The documents of one collection (on the fakes: their items as dicts)."""
        if self.fakes is not None:
            return self.fakes.documents(collection)
        assert self.db is not None
        return await self.db[collection].find({}).sort("_id", 1).to_list(length=None)

    async def edit_stored(
        self, collection: str, match: dict[str, Any], changes: dict[str, Any]
    ) -> None:
        """Change stored documents behind the services' back, as an old version or an
        operator might have: ``changes`` set on those whose fields equal ``match``."""
        if self.fakes is not None:
            self.fakes.edit(collection, match, changes)
            return
        assert self.db is not None
        await self.db[collection].update_many(match, {"$set": changes})


def milestone(key: str, start_day: int, days: int = 1, **extra: Any) -> MilestoneDraft:
    start = T0 + timedelta(days=start_day)
    return MilestoneDraft.model_validate(
        {
            "milestone_key": key,
            "milestone_name": key.replace("-", " ").title(),
            "environment": Environment.UAT,
            "start_date": start,
            "end_date": start + timedelta(days=days),
            **extra,
        }
    )


def free_port() -> int:
    """A TCP port nothing listens on right now, for a bot started as a subprocess."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
