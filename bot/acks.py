"""Acks: those a middleware answers itself, without running a listener (always a 200, so
Slack does not retry a request that was answered on purpose), and the ack listeners call."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.response import BoltResponse

from bot.after_ack import ACK_PRIORITY_SECONDS, pending_acks
from storage.embedded_thread import deferrable

# What follows an ack waits for other acks no later than this after its request arrived,
# leaving half of a trigger_id's 3 s to open a modal with it.
TRIGGER_HEADROOM = 1.5


def json_ack(payload: dict[str, Any]) -> BoltResponse:
    return BoltResponse(
        status=200, body=json.dumps(payload), headers={"content-type": "application/json"}
    )


def ephemeral_ack(text: str) -> BoltResponse:
    """A slash command's ack that the person sees, and only they."""
    return json_ack({"response_type": "ephemeral", "text": text})


def empty_ack() -> BoltResponse:
    return BoltResponse(status=200, body="")


def acked_blind(body: dict[str, Any]) -> bool:
    """Slash commands and button clicks: their ack is an empty 200 whoever sent them (the
    answer follows by response_url, in a modal or by DM). A form submission's ack is not:
    it carries the form's errors."""
    return bool(body.get("command")) or body.get("type") == "block_actions"


def ack_first_middleware() -> Callable[..., Awaitable[BoltResponse | None]]:
    """Bolt middleware: ack what is ``acked_blind`` before anything reads storage (who the
    person is included), so Slack's 3 s never wait for the database or for other work."""

    async def middleware(
        ack: AsyncAck, body: dict[str, Any], next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        if acked_blind(body):
            await ack()
        return await next()

    return middleware


class PromptAck(AsyncAck):
    """Bolt's ``ack()`` that hands its answer to the HTTP handler the moment a listener
    calls it (``given``), instead of when Bolt next looks (it polls every 10 ms). What the
    listener does after acking (storing a decision, confirming a form) goes on after the
    answer was sent, and once other requests' acks are (``PendingAcks``), but no later than
    ``TRIGGER_HEADROOM`` after the request arrived: that work may open a modal with the
    request's trigger_id, which Slack honours for 3 s. A shutdown waits for that work."""

    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.response = None  # as AsyncAck's own (untyped) __init__ does
        self.given: asyncio.Future[BoltResponse | None] = loop.create_future()
        self._arrived = loop.time()

    async def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        response = await super().__call__(*args, **kwargs)
        # Bolt's task for the listener (or for the dispatch, when a middleware acks first)
        # goes on after the ack and nobody awaits it: a shutdown does (``AfterAck.drain``).
        task = asyncio.current_task()
        if task is not None:
            pending_acks().going_on(task)
        if not self.given.done():
            self.given.set_result(response)
            deferrable.set(True)  # what this task does from now on can wait for other acks
            await asyncio.sleep(0)  # the handler sends the answer before the listener goes on
            waited = asyncio.get_running_loop().time() - self._arrived
            patience = min(ACK_PRIORITY_SECONDS, TRIGGER_HEADROOM - waited)
            if patience > 0:
                await pending_acks().turn(patience)
        return response
