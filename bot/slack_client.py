"""The Web API client: base URL from settings, retries from slack_sdk's handlers."""

from __future__ import annotations

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings


def _token(settings: Settings) -> str | None:
    return settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None


def build_client(settings: Settings) -> AsyncWebClient:
    """429s are retried after Retry-After; 5xx and dropped connections a few times."""
    token = _token(settings)
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )
