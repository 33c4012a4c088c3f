"""Requests made at most once per Idempotency-Key: a CI job retrying a request whose answer it
did not get (a timeout, a dropped connection) gets the first answer again instead of making
the change twice.

A key is scoped to the user. It is claimed before the change is made (one atomic insert,
shared by every replica), so two requests with it at once cannot both make it; the second
waits for the first's answer. Used for another request (another body or path), it is
refused. A request that fails lets go of its key, so it can be retried as it was."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from core.clock import Clock
from core.errors import Conflict
from core.models.idempotency import IdempotentRequest, StoredAnswer
from core.ports import IdempotencyRepository

# A claim not finished after this long is taken to be dead (its process stopped mid-request).
LEASE = timedelta(seconds=60)
# How long a request waits for the answer of the same request in flight, polling.
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.05
HEADER = "Idempotency-Key"


def fingerprint(**request: object) -> str:
    """The SHA-256 of a request's parts (JSON-able), independent of their order."""
    text = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class IdempotencyService:
    def __init__(self, keys: IdempotencyRepository, clock: Clock) -> None:
        self._keys = keys
        self._clock = clock

    async def once(
        self,
        user_id: str,
        key: str,
        request_fingerprint: str,
        work: Callable[[], Awaitable[StoredAnswer]],
    ) -> tuple[StoredAnswer, bool]:
        """``work``'s answer, made now or (True) replayed from the first request with this
        key. CONFLICT for a key used for another request, or still in flight after
        ``WAIT_SECONDS``."""
        scoped = f"{user_id}:{key}"
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            now = self._clock()
            request = IdempotentRequest(key=scoped, fingerprint=request_fingerprint, claimed_at=now)
            held = await self._keys.claim(request, stale_before=now - LEASE)
            if held is None:
                return await _run(self._keys, request, work), False
            if held.fingerprint != request_fingerprint:
                raise Conflict(
                    f"The {HEADER} '{key}' was already used for another request (another body "
                    "or path). Use a new key for a new request; send a key again only to retry "
                    "the very same request.",
                    fields={HEADER: "used for another request"},
                )
            if held.answer is not None:
                return held.answer, True
            if time.monotonic() >= deadline:
                raise Conflict(
                    f"A request with the {HEADER} '{key}' is still being processed; "
                    "send it again in a few seconds to get its answer.",
                    fields={HEADER: "in use by a request in flight"},
                )
            await asyncio.sleep(POLL_SECONDS)


async def _run(
    keys: IdempotencyRepository,
    request: IdempotentRequest,
    work: Callable[[], Awaitable[StoredAnswer]],
) -> StoredAnswer:
    try:
        answer = await work()
    except BaseException:
        await asyncio.shield(keys.release(request.key, claimed_at=request.claimed_at))
        raise
    await keys.finish(request.key, claimed_at=request.claimed_at, answer=answer)
    return answer
