"""Once-only claims and approval DM records, over MongoDB (mongomock, or MONGO_TEST_URI)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core.models.notification import ApprovalMessage, approval_key
from core.services.container import Repositories
from storage.engine import Database
from storage.instrumented import RoundTrips
from storage.wiring import open_repositories
from tests.support import T0

LEASE = timedelta(minutes=5)


@pytest.fixture
async def repos(db: Database) -> Repositories:
    return await open_repositories(db)


async def test_the_first_claim_wins_and_a_second_is_refused(repos: Repositories) -> None:
    assert await repos.claims.claim("event:Ev1", now=T0, ttl=LEASE) is True
    assert await repos.claims.claim("event:Ev1", now=T0 + timedelta(seconds=1), ttl=LEASE) is False


async def test_claims_on_different_keys_do_not_touch(repos: Repositories) -> None:
    assert await repos.claims.claim("event:Ev1", now=T0, ttl=LEASE)
    assert await repos.claims.claim("event:Ev2", now=T0, ttl=LEASE)
    assert await repos.claims.claim("digest:C1:2026-12-01", now=T0, ttl=LEASE)


async def test_an_expired_lease_is_taken_over_once(repos: Repositories) -> None:
    await repos.claims.claim("digest:C1", now=T0, ttl=LEASE)

    still_held = await repos.claims.claim(
        "digest:C1", now=T0 + LEASE - timedelta(seconds=1), ttl=LEASE
    )
    taken = await repos.claims.claim("digest:C1", now=T0 + LEASE, ttl=LEASE)
    after_takeover = await repos.claims.claim("digest:C1", now=T0 + LEASE * 1.5, ttl=LEASE)

    assert (still_held, taken, after_takeover) == (False, True, False)


async def test_a_completed_claim_is_never_taken_over(repos: Repositories) -> None:
    await repos.claims.claim("digest:C1", now=T0, ttl=LEASE)
    await repos.claims.complete("digest:C1", now=T0 + timedelta(seconds=3))

    assert await repos.claims.claim("digest:C1", now=T0 + timedelta(days=2), ttl=LEASE) is False


async def test_a_released_claim_can_be_claimed_at_once(repos: Repositories) -> None:
    await repos.claims.claim("digest:C1", now=T0, ttl=LEASE)
    await repos.claims.release("digest:C1")

    assert await repos.claims.claim("digest:C1", now=T0 + timedelta(seconds=1), ttl=LEASE) is True


async def test_concurrent_claims_have_exactly_one_winner(db: Database) -> None:
    raced = await open_repositories(RoundTrips(yield_each_call=True).wrap(db))

    results = await asyncio.gather(
        *(raced.claims.claim("event:EvRACE", now=T0, ttl=LEASE) for _ in range(10))
    )

    assert results.count(True) == 1


async def test_claims_survive_in_the_database_for_another_replica(db: Database) -> None:
    one = await open_repositories(db)
    two = await open_repositories(db)  # a second process over the same database

    assert await one.claims.claim("event:Ev1", now=T0, ttl=LEASE) is True
    assert await two.claims.claim("event:Ev1", now=T0, ttl=LEASE) is False


def message(key: str, user_id: str, channel: str, ts: str) -> ApprovalMessage:
    return ApprovalMessage(approval_key=key, user_id=user_id, channel=channel, ts=ts, sent_at=T0)


async def test_approval_messages_are_found_by_their_approval(repos: Repositories) -> None:
    key = approval_key("65a000000000000000000001", "payments-api", "Security Scan", "prod-signoff")
    other = approval_key("65a000000000000000000001", "payments-api", "Security Scan", "uat")
    sent = [message(key, "u1", "DU1", "1.1"), message(key, "u2", "DU2", "1.2")]
    for record in [*sent, message(other, "u1", "DU1", "1.3")]:
        await repos.approval_messages.record(record)

    found = await repos.approval_messages.for_approval(key)

    assert sorted(found, key=lambda m: m.ts) == sent
    assert found[0].sent_at == T0 and found[0].sent_at.tzinfo is not None
    assert await repos.approval_messages.for_approval("nothing|like|this|key") == []


async def test_approval_keys_name_the_gate_regardless_of_case(repos: Repositories) -> None:
    upper = approval_key("65a000000000000000000001", "p", "Security Scan", "m")
    lower = approval_key("65a000000000000000000001", "p", "security scan", "m")
    await repos.approval_messages.record(message(upper, "u1", "DU1", "1.1"))

    assert [m.ts for m in await repos.approval_messages.for_approval(lower)] == ["1.1"]
