"""A webhook receiver over real HTTP, as a pipeline runs one: it records every POST and
checks its signature on its own (HMAC-SHA256 of "v0:{timestamp}:{body}", as Slack's), with
the secret shown when the hook was made. Used by the webhook tests; checked here first."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections import deque
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.devtools.harness import listen
from bot.webhook_sender import WebhookSender

SIGNATURE = "X-Releasebot-Signature"
TIMESTAMP = "X-Releasebot-Request-Timestamp"


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data

    def signed_with(self, secret: str) -> bool:
        """Whether the signature is the HMAC of this timestamp and body with ``secret``."""
        timestamp = self.headers.get(TIMESTAMP, "")
        base = b"v0:" + timestamp.encode() + b":" + self.body
        expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
        return timestamp.isdigit() and hmac.compare_digest(
            expected, self.headers.get(SIGNATURE, "")
        )


@dataclass
class Receiver:
    """Answers each POST with the next of ``answers`` (then 200); ``delay`` seconds first."""

    answers: deque[int] = field(default_factory=deque)
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append(Received(dict(request.headers), body))
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.answers.popleft() if self.answers else 200
        return web.Response(status=status, text="ok" if status < 300 else "down")


@asynccontextmanager
async def receiving(answers: Iterable[int] = (), *, delay: float = 0.0) -> AsyncIterator[Receiver]:
    receiver = Receiver(deque(answers), delay)
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner, base = await listen(app)
    receiver.url = f"{base}/hook"
    try:
        yield receiver
    finally:
        await runner.cleanup()


def sign(secret: str, timestamp: str, body: bytes) -> dict[str, str]:
    base = b"v0:" + timestamp.encode() + b":" + body
    return {
        TIMESTAMP: timestamp,
        SIGNATURE: "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest(),
    }


async def test_the_receiver_tells_a_right_signature_from_a_wrong_one() -> None:
    body = b'{"id":"1"}'
    async with receiving([503]) as receiver:
        sender = WebhookSender(timeout=5, allow_private=True)  # the receiver is on 127.0.0.1
        first = await sender.post(receiver.url, body, sign("s3cret", "1700000000", body))
        second = await sender.post(receiver.url, body, sign("other", "1700000000", body))

    assert (first.status_code, first.ok, first.error) == (
        503,
        False,
        "the receiver answered HTTP 503",
    )
    assert (second.status_code, second.ok, second.error) == (200, True, None)
    assert [r.signed_with("s3cret") for r in receiver.received] == [True, False]


async def test_a_receiver_that_is_not_there_is_an_outcome_in_words() -> None:
    async with receiving() as receiver:
        url = receiver.url
    # The port is closed now: nothing listens.
    result = await WebhookSender(timeout=2, allow_private=True).post(url, b"{}", {})

    assert result.status_code is None and not result.ok
    assert result.error is not None and result.error.startswith("could not reach the receiver")
