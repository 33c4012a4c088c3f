"""The Web API client: base URL from settings, retries from slack_sdk's handlers (never
re-sending a post that may have been posted)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
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


# Slack's own failures: "it's possible some aspect of the operation succeeded".
MAYBE_DONE_ERRORS = frozenset({"internal_error", "fatal_error"})
# Failures another try may get past, beside Slack's own (``maybe_done``): its being busy or cut off.
TRANSIENT_ERRORS = frozenset({"service_unavailable", "request_timeout", "ratelimited"})


def error_code(error: SlackApiError) -> str | None:
    data = error.response.data
    code = data.get("error") if isinstance(data, dict) else None
    return str(code) if code else None


def is_permanent(error: SlackApiError) -> bool:
    return error_code(error) in PERMANENT_ERRORS


def maybe_done(error: SlackApiError) -> bool:
    """Whether Slack may have done what it answered with this error: a 5xx, or an error
    it documents as possibly partly done. Any other error it names did nothing."""
    return int(error.response.status_code) >= 500 or error_code(error) in MAYBE_DONE_ERRORS


def is_transient(error: BaseException) -> bool:
    """Whether trying again may succeed: Slack failed or was busy, or did not answer;
    not a refusal (a bad argument, a closed view, a missing scope)."""
    if isinstance(error, SlackApiError):
        status = int(error.response.status_code)
        return maybe_done(error) or status == 429 or error_code(error) in TRANSIENT_ERRORS
    return isinstance(error, TimeoutError | aiohttp.ClientError)


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


def may_have_posted(request: HttpRequest, error: Exception | None) -> bool:
    """Whether a failed request may have posted: a post, unless its connection was never
    made (``ClientConnectorError``). A 5xx answer, or a connection closed or reset after
    sending, may come after Slack posted it."""
    posting = method_of(request.url) in POSTING_METHODS
    return posting and not isinstance(error, aiohttp.ClientConnectorError)


class _NoRepost(AsyncRetryHandler):
    """A slack_sdk retry handler that never sends again a post that may have been posted:
    the delivery's own retry looks for the message first (bot.delivery)."""

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if may_have_posted(request, error):
            return False
        return await super().can_retry_async(
            state=state, request=request, response=response, error=error
        )


class ConnectionRetry(_NoRepost, AsyncConnectionErrorRetryHandler):
    """slack_sdk's retry of dropped connections, not for a post that may have reached
    Slack. A timeout is retried by neither (slack_sdk raises it as a plain ``TimeoutError``)."""


class ServerErrorRetry(_NoRepost, AsyncServerErrorRetryHandler):
    """slack_sdk's retry of 500s and 503s, not for posts: Slack may have posted already."""


def build_client(settings: Settings) -> AsyncWebClient:
    """429s are retried after Retry-After (Slack did nothing); 5xx and dropped connections
    a few times, except posts that may have been posted (``may_have_posted``)."""
    options: dict[str, Any] = {
        "token": _token(settings),
        "base_url": settings.slack_api_url,
        "timeout": settings.slack_timeout_seconds,
        "retry_handlers": [
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetry(max_retry_count=2),
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
