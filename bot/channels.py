"""Can the bot post in a conversation? Asked before a channel is subscribed to the digest,
so nobody is told "done" for a channel whose digest would never arrive.

``conversations.info`` says whether the bot is a member (scopes ``channels:read`` for
public channels, ``groups:read`` for private ones; a private channel the bot is not in
reads as ``channel_not_found``). Direct messages are known by their id (``D…``).
"""

from __future__ import annotations

import asyncio
import logging
from enum import StrEnum

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from blocks import digest_delivery as why
from bot.slack_client import error_code

log = logging.getLogger(__name__)
INFO_SECONDS = 5.0


class Reach(StrEnum):
    MEMBER = "member"
    NOT_IN_CHANNEL = why.NOT_IN_CHANNEL
    CHANNEL_NOT_FOUND = why.CHANNEL_NOT_FOUND
    IS_ARCHIVED = why.IS_ARCHIVED
    DIRECT_MESSAGE = why.DIRECT_MESSAGE
    UNKNOWN = "unknown"  # Slack did not say (a missing scope, an outage): not refused


async def channel_reach(client: AsyncWebClient, channel_id: str) -> Reach:
    if channel_id.startswith("D"):
        return Reach.DIRECT_MESSAGE
    try:
        info = await asyncio.wait_for(client.conversations_info(channel=channel_id), INFO_SECONDS)
    except SlackApiError as error:
        code = error_code(error)
        if code == "channel_not_found":
            return Reach.CHANNEL_NOT_FOUND
        log.warning("conversations.info for %s failed: %s", channel_id, code)
        return Reach.UNKNOWN
    except (TimeoutError, aiohttp.ClientError) as error:
        log.warning("conversations.info for %s did not answer: %r", channel_id, error)
        return Reach.UNKNOWN
    channel = info.get("channel")
    if not isinstance(channel, dict):
        return Reach.UNKNOWN
    if channel.get("is_archived"):
        return Reach.IS_ARCHIVED
    if channel.get("is_member") is False:
        return Reach.NOT_IN_CHANNEL
    return Reach.MEMBER
