"""The HTTP side of outbound webhooks: one POST with a timeout, its outcome in words.

What is sent, when, signed how and retried how is the core's (``core/services/webhooks.py``);
this only carries a body to a URL and says what came back, never raising for a receiver's
failure (a refused connection, a timeout, a bad certificate are outcomes to log).
"""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp

from core.services.webhooks import PostResult

TIMEOUT_SECONDS = 10.0


class WebhookSender:
    def __init__(self, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> PostResult:
        try:
            # A session per POST: hooks are few and called seldom, and nothing to close later.
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as session,
                session.post(
                    url, data=body, headers=dict(headers), allow_redirects=False
                ) as answer,
            ):
                await answer.read()  # the connection is reused only once the body is read
                status = answer.status
        except TimeoutError:
            return PostResult(None, f"no answer within {self._timeout.total:g} s")
        except aiohttp.ClientError as error:
            return PostResult(
                None, f"could not reach the receiver: {error or type(error).__name__}"
            )
        if 200 <= status < 300:
            return PostResult(status)
        return PostResult(status, f"the receiver answered HTTP {status}")
