"""Slack re-sends an event (``X-Slack-Retry-Num``) when it did not get a 200 in time;
each ``event_id`` must still be handled once, whichever replica receives which copy.

The middleware claims ``event:{event_id}`` in MongoDB (a unique key, so the claim holds
across replicas) and answers a copy that lost the claim with a bare 200, without running
any listener. It runs after the identity middleware: if a first delivery fails before it
claims (a 5xx Slack will retry), the retry is still handled.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.acks import empty_ack
from core.clock import Clock
from core.ports import ClaimRepository

log = logging.getLogger(__name__)

# Slack retries three times within about five minutes; an hour covers them with room.
EVENT_CLAIM_TTL = timedelta(hours=1)
RETRY_HEADER = "x-slack-retry-num"


def event_claim_key(body: dict[str, Any]) -> str | None:
    """The claim key of an Events API delivery, or None for anything else."""
    event_id = body.get("event_id") if body.get("type") == "event_callback" else None
    return f"event:{event_id}" if event_id else None


def dedupe_middleware(
    claims: ClaimRepository, clock: Clock
) -> Callable[..., Awaitable[BoltResponse | None]]:
    """Bolt middleware: the first delivery of an event runs; later copies are acked only."""

    async def middleware(
        body: dict[str, Any],
        request: AsyncBoltRequest,
        next: Callable[[], Awaitable[BoltResponse | None]],
    ) -> BoltResponse | None:
        key = event_claim_key(body)
        if key is None:
            return await next()
        try:
            first = await claims.claim(key, now=clock(), ttl=EVENT_CLAIM_TTL)
        except Exception:
            # Handling an event twice beats dropping it; listeners fail on their own if the
            # database is really gone.
            log.warning("could not claim %s; handling it anyway", key, exc_info=True)
            return await next()
        if not first:
            retry = (request.headers.get(RETRY_HEADER) or ["0"])[0]
            log.info("%s already handled; copy (retry %s) acknowledged only", key, retry)
            return empty_ack()
        return await next()

    return middleware
