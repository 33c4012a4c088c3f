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
