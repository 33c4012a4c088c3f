"""Fixtures: a fresh database per test (mongomock, or real MongoDB with MONGO_TEST_URI)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest

from core.rules.approvals import ApprovalPolicy
from core.services.container import build_services
from storage.engine import Database, connect
from storage.wiring import open_repositories
from tests.fakes import FakeDatabase
from tests.support import FrozenClock, World


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    uri = os.environ.get("MONGO_TEST_URI") or "mongomock://"
    name = f"releasebot_test_{uuid.uuid4().hex[:12]}"
    client, database = connect(uri, name)
    try:
        yield database
    finally:
        await client.drop_database(name)
        client.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def policy() -> ApprovalPolicy:
    return ApprovalPolicy()


@pytest.fixture
async def world(db: Database, clock: FrozenClock, policy: ApprovalPolicy) -> World:
    repos = await open_repositories(db)
    return World(
        db=db, repos=repos, services=build_services(repos, clock=clock, policy=policy), clock=clock
    )


@pytest.fixture
async def racing_world(db: Database, clock: FrozenClock, policy: ApprovalPolicy) -> World:
    """Like ``world``, but every database call yields as a network call would, so
    concurrent operations interleave even on the embedded engine."""
    from storage.instrumented import RoundTrips

    raced = RoundTrips(yield_each_call=True).wrap(db)
    repos = await open_repositories(raced)
    return World(
        db=db, repos=repos, services=build_services(repos, clock=clock, policy=policy), clock=clock
    )


# --- the same tests on the in-memory fakes and on the storage adapters ---------------------


@pytest.fixture
def fake_world(clock: FrozenClock, policy: ApprovalPolicy) -> World:
    """Services over the in-memory fake repositories (tests/fakes.py): no database at all."""
    fakes = FakeDatabase()
    repos = fakes.repositories()
    return World(
        db=None,
        repos=repos,
        services=build_services(repos, clock=clock, policy=policy),
        clock=clock,
        fakes=fakes,
    )


@pytest.fixture
async def storage_world(db: Database, clock: FrozenClock, policy: ApprovalPolicy) -> World:
    """Services over the storage adapters, as ``world``; for a test that needs the database
    in a module whose ``world`` is ``any_world``."""
    repos = await open_repositories(db)
    return World(
        db=db, repos=repos, services=build_services(repos, clock=clock, policy=policy), clock=clock
    )


@pytest.fixture(params=["fake", "mongo"])
def any_world(request: pytest.FixtureRequest) -> World:
    """Each test twice: on the fakes, and on the storage adapters (mongomock, or MongoDB with
    MONGO_TEST_URI), so the fakes are held to what the adapters do. A module opts in with
    ``@pytest.fixture def world(any_world: World) -> World: return any_world``."""
    name = "fake_world" if request.param == "fake" else "storage_world"
    world: World = request.getfixturevalue(name)
    return world
