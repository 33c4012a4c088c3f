"""Idempotency-Keys over MongoDB (mongomock, or MONGO_TEST_URI): one claim per key, a dead
claim taken over once, answers kept only for the claim that made them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core.models.idempotency import IdempotentRequest, StoredAnswer
from core.ports import IdempotencyRepository
from storage.engine import Database
from storage.wiring import open_repositories
from tests.support import T0

LEASE = timedelta(seconds=60)
ANSWER = StoredAnswer(status=200, body='{"ok": true}')


def request(at: timedelta = timedelta(0), fingerprint: str = "f1") -> IdempotentRequest:
    return IdempotentRequest(key="u1:k1", fingerprint=fingerprint, claimed_at=T0 + at)


@pytest.fixture
async def keys(db: Database) -> IdempotencyRepository:
    found = (await open_repositories(db)).idempotency_keys
    assert found is not None
    return found


async def test_the_first_claim_wins_and_the_next_sees_it(keys: IdempotencyRepository) -> None:
    assert await keys.claim(request(), stale_before=T0 - LEASE) is None

    held = await keys.claim(request(timedelta(seconds=1), "f2"), stale_before=T0 - LEASE)

    assert held is not None and held.answer is None
    assert (held.fingerprint, held.claimed_at) == ("f1", T0)


async def test_claims_at_once_one_wins(keys: IdempotencyRepository) -> None:
    found = await asyncio.gather(*(keys.claim(request(), stale_before=T0) for _ in range(8)))
    assert sum(f is None for f in found) == 1


async def test_a_dead_claim_is_taken_over_once_and_its_late_answer_is_ignored(
    keys: IdempotencyRepository,
) -> None:
    await keys.claim(request(), stale_before=T0 - LEASE)
    later = T0 + LEASE + timedelta(seconds=1)

    takers = await asyncio.gather(
        *(keys.claim(request(LEASE + timedelta(seconds=1)), stale_before=later - LEASE)
          for _ in range(4))
    )  # fmt: skip
    assert sum(t is None for t in takers) == 1
    await keys.finish("u1:k1", claimed_at=T0, answer=StoredAnswer(status=500, body="{}"))
    await keys.finish("u1:k1", claimed_at=later, answer=ANSWER)

    held = await keys.claim(request(LEASE * 3), stale_before=T0 + LEASE * 2)
    assert held is not None and held.answer == ANSWER  # a finished claim is never taken over


async def test_a_released_claim_frees_the_key_but_a_finished_one_stays(
    keys: IdempotencyRepository, db: Database
) -> None:
    await keys.claim(request(), stale_before=T0 - LEASE)
    await keys.release("u1:k1", claimed_at=T0)
    assert await keys.claim(request(timedelta(seconds=1)), stale_before=T0 - LEASE) is None

    await keys.finish("u1:k1", claimed_at=T0 + timedelta(seconds=1), answer=ANSWER)
    await keys.release("u1:k1", claimed_at=T0 + timedelta(seconds=1))
    assert await db["idempotency_keys"].count_documents({}) == 1


async def test_keys_are_forgotten_by_a_ttl_index(keys: IdempotencyRepository, db: Database) -> None:
    indexes = await db["idempotency_keys"].index_information()
    assert indexes["purge_keys"]["expireAfterSeconds"] == 0
    assert list(indexes["purge_keys"]["key"]) == [("purge_after", 1)]
