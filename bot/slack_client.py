"""The Web API client: base URL from settings, retries from slack_sdk's handlers."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings

log = logging.getLogger(__name__)


# Slack errors that no retry will fix: a delivery that meets one is given up, not retried.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "account_inactive",
        "user_not_found",
        "cannot_dm_bot",
        "user_disabled",
        "restricted_action",
        "msg_too_long",
        "invalid_blocks",
    }
)


def error_code(error: SlackApiError) -> str | None:
    data = error.response.data
    code = data.get("error") if isinstance(data, dict) else None
    return str(code) if code else None


def is_permanent(error: SlackApiError) -> bool:
    return error_code(error) in PERMANENT_ERRORS


def _token(settings: Settings) -> str | None:
    return settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None


class Pace:
    """A waiting rate limiter (generic cell rate algorithm): callers wait for their slot at
    ``rate`` a second instead of being refused, so a fan-out never provokes 429s whose
    Retry-After sleeps (plus slack_sdk's random jitter) would leave every sender idle."""

    def __init__(self, rate: float) -> None:
        self._interval = 1 / rate
        self._next = 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        start = max(now, self._next)
        self._next = start + self._interval
        if start > now:
            await asyncio.sleep(start - now)


class PacedWebClient(AsyncWebClient):
    """AsyncWebClient whose posting methods go through a ``Pace`` (SLACK_POST_RATE).

    slack_sdk has no hook for this; it overrides the one method every call goes through.
    """

    PACED = frozenset({"chat.postMessage", "chat.update"})

    def __init__(self, *, post_rate: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pace = Pace(post_rate)

    async def _request(
        self, *, http_verb: str, api_url: str, req_args: dict[str, Any]
    ) -> dict[str, Any]:
        if method_of(api_url) in self.PACED:
            await self._pace.wait()
        answer: dict[str, Any] = await super()._request(
            http_verb=http_verb, api_url=api_url, req_args=req_args
        )
        return answer


# Calls that post something new: sent twice, they post twice.
POSTING_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral"})


def method_of(url: str) -> str:
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


class ConnectionRetry(AsyncConnectionErrorRetryHandler):
    """slack_sdk's retry of dropped connections, except a post whose request may have
    reached Slack: a connection closed or reset after sending (Slack may have posted it) is
    not sent again here; the delivery's own retry looks for the message first (bot.delivery).
    A connection never made (``ClientConnectorError``) sent nothing and is retried. A timeout
    is retried by neither (slack_sdk raises it as a plain ``TimeoutError``)."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        posting = method_of(request.url) in POSTING_METHODS
        if posting and not isinstance(error, aiohttp.ClientConnectorError):
            return False
        return await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        )


def build_client(settings: Settings) -> AsyncWebClient:
    """429s are retried after Retry-After; 5xx a few times, dropped connections too (posts
    only when nothing was sent: ``ConnectionRetry``)."""
    options: dict[str, Any] = {
        "token": _token(settings),
        "base_url": settings.slack_api_url,
        "timeout": settings.slack_timeout_seconds,
        "retry_handlers": [
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
            ConnectionRetry(max_retry_count=2),
        ],
    }
    if settings.slack_post_rate > 0:
        return PacedWebClient(post_rate=settings.slack_post_rate, **options)
    return AsyncWebClient(**options)


async def slack_profile(
    client: AsyncWebClient, user_id: str, *, seconds: float
) -> dict[str, Any] | None:
    """``users.info``'s user within ``seconds``: {} when Slack says there is no such user,
    None when it did not answer (rate limit, server error, timeout), so a caller never
    remembers a missing answer as a fact."""
    try:
        response = await asyncio.wait_for(client.users_info(user=user_id), seconds)
    except SlackApiError as error:
        reason = error_code(error)
        log.warning("users.info failed for %s: %s", user_id, reason or error.response.status_code)
        return {} if reason == "user_not_found" else None
    except (TimeoutError, aiohttp.ClientError) as error:
        log.warning("users.info did not answer for %s: %r", user_id, error)
        return None
    user = response.get("user")
    return user if isinstance(user, dict) else {}
