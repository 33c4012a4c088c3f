"""One Slack message per delivery key, even when Slack's answer is lost.

Every delivery (a digest, a reminder, an approval request DM…) is claimed under its key, and
its message carries the key in Slack message metadata. A post whose answer never came (a
timeout, a dropped connection) or was a failure of Slack's own (a 5xx, ``internal_error``,
``fatal_error``) may have been posted all the same, so the claim is let go *unsure*
(``release(maybe_done=True)``); the next attempt, told so by ``take`` (as when it takes over
a claim whose lease ran out), first looks for the key in the conversation's recent history
(at most ``HISTORY_PAGES`` pages) and adopts the message it finds instead of posting again.
First attempts pay no history call. The client never sends such a post again itself
(``bot.slack_client.may_have_posted``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from blocks.message import Message
from bot.slack_client import error_code, is_permanent, maybe_done
from core.ports import ClaimRepository

log = logging.getLogger(__name__)

EVENT_TYPE = "releasebot_delivery"
# Looked back from the first attempt, for the clocks of Slack and the database to differ.
LOOK_BACK_MARGIN = timedelta(minutes=5)
# The messages looked through, a page at a time (Slack advises at most 200 a page): a
# conversation rarely gets more between two attempts.
HISTORY_LIMIT = 200
HISTORY_PAGES = 5
# History the bot may not read (a workspace that has not granted the *:history scopes yet,
# a channel it left): it posts, as before those scopes, rather than never deliver.
UNREADABLE = frozenset({"missing_scope", "not_in_channel", "channel_not_found", "not_allowed"})


def delivery_metadata(key: str) -> dict[str, Any]:
    """Slack message metadata naming the delivery (https://docs.slack.dev/messaging/message-metadata)."""
    return {"event_type": EVENT_TYPE, "event_payload": {"key": key}}


def delivery_key(message: dict[str, Any]) -> str | None:
    """The delivery key a message from history carries, if any."""
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != EVENT_TYPE:
        return None
    payload = metadata.get("event_payload")
    key = payload.get("key") if isinstance(payload, dict) else None
    return str(key) if key is not None else None


class Outcome(StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"  # another attempt holds it, or it was done already
    FAILED = "failed"  # to be tried again
    UNDELIVERABLE = "undeliverable"  # refused for good: not tried again
    NOT_NOW = "not_now"  # nothing to send yet (the recipient is not in Slack): let go
    STOPPED = "stopped"  # not started: the process is stopping (left for the next replica)


class Undeliverable(Exception):
    """A delivery no retry can make (e.g. the person has no Slack account the bot may use)."""


def permanent(error: BaseException) -> bool:
    return isinstance(error, Undeliverable) or (
        isinstance(error, SlackApiError) and is_permanent(error)
    )


def outcome_unknown(error: BaseException) -> bool:
    """Whether a failed send may have been done all the same: anything but Slack's answer
    that it did nothing (an error it named as such, or a rate limit)."""
    if isinstance(error, SlackApiError):
        return maybe_done(error)
    return True


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str


class Poster:
    """Posts the message of one delivery; on a retry of an unsure attempt, looks first."""

    def __init__(self, client: AsyncWebClient, key: str, earlier: datetime | None) -> None:
        self.client = client
        self.key = key
        self.earlier = earlier

    async def post(self, channel: str, message: Message) -> Posted:
        """Post to ``channel`` (a user id: the app's DM with them), or adopt the copy an
        earlier attempt posted there."""
        if self.earlier is not None:
            found = await self.find(channel)
            if found is not None:
                log.info("delivery %s was posted by an earlier attempt: adopted", self.key)
                return found
        answer = await self.client.chat_postMessage(
            channel=channel, metadata=delivery_metadata(self.key), **message.to_dict()
        )
        return Posted(str(answer["channel"]), str(answer["ts"]))

    async def find(self, channel: str) -> Posted | None:
        """This delivery's message in ``channel`` since the earlier attempt, if Slack has it."""
        assert self.earlier is not None
        conversation = channel
        if channel.startswith(("U", "W")):  # history wants the DM's own id
            opened = await self.client.conversations_open(users=channel)
            conversation = str(opened["channel"]["id"])
        oldest = (self.earlier - LOOK_BACK_MARGIN).timestamp()
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            try:
                history = await self.client.conversations_history(
                    channel=conversation,
                    oldest=f"{oldest:.6f}",
                    limit=HISTORY_LIMIT,
                    include_all_metadata=True,
                    cursor=cursor,
                )
            except SlackApiError as error:
                if error_code(error) not in UNREADABLE:
                    raise
                log.warning(
                    "cannot read %s to look for delivery %s (%s): posting it",
                    conversation,
                    self.key,
                    error_code(error),
                )
                return None
            for message in history.get("messages") or []:
                if delivery_key(message) == self.key:
                    return Posted(conversation, str(message["ts"]))
            cursor = (history.get("response_metadata") or {}).get("next_cursor")
            if not history.get("has_more") or not cursor:
                return None
        log.warning(
            "delivery %s not found in the last %d messages of %s: posting it",
            self.key,
            HISTORY_PAGES * HISTORY_LIMIT,
            conversation,
        )
        return None


Send = Callable[[Poster], Awaitable[bool]]


async def deliver_once(
    claims: ClaimRepository, client: AsyncWebClient, key: str, send: Send, *, lease: timedelta
) -> Outcome:
    """Claim ``key``, run ``send`` (True: delivered; False: nothing to send for now), and
    settle the claim: completed when delivered or refused for good, let go when the send
    failed (unsure, unless Slack said it did nothing) or was cut off (the process stopping).
    """
    owner = uuid.uuid4().hex
    taken = await claims.take(key, ttl=lease, owner=owner)
    if taken is None:
        return Outcome.SKIPPED
    unsure = taken.earlier is not None  # an earlier attempt may have sent it: keep that
    settle = _Settle(claims, key, owner)
    try:
        delivered = await send(Poster(client, key, taken.earlier))
    except BaseException as error:
        if permanent(error):
            log.warning("delivery %s cannot be delivered: %s", key, error)
            await settle.complete()
            return Outcome.UNDELIVERABLE
        await settle.release(maybe_done=unsure or outcome_unknown(error))
        if not isinstance(error, Exception):
            raise
        expected = isinstance(error, SlackApiError | TimeoutError | aiohttp.ClientError)
        log.warning("delivery %s failed; it will be retried: %r", key, error, exc_info=not expected)
        return Outcome.FAILED
    if not delivered:
        await settle.release(maybe_done=unsure)
        return Outcome.NOT_NOW
    if await settle.complete() is False:
        log.warning("delivery %s outlived its lease; another replica took it over", key)
    return Outcome.SENT


@dataclass(frozen=True)
class _Settle:
    """Settling a claim after the send, whatever storage does: a claim storage failed to
    settle is logged, not raised (one delivery must not abort the others of a tick). It
    expires with its lease; the next attempt takes it over as unsure and looks for the
    message before sending."""

    claims: ClaimRepository
    key: str
    owner: str

    async def complete(self) -> bool | None:
        """Whether the claim was still ours; None when storage failed."""
        try:
            return await self.claims.complete(self.key, owner=self.owner)
        except Exception as error:
            self._failed("marked done", error)
            return None

    async def release(self, *, maybe_done: bool) -> None:
        try:
            await self.claims.release(self.key, owner=self.owner, maybe_done=maybe_done)
        except Exception as error:
            self._failed("let go", error)

    def _failed(self, what: str, error: Exception) -> None:
        log.warning(
            "delivery %s not %s (%r): its claim expires with its lease, and the next "
            "attempt looks for the message before sending",
            self.key,
            what,
            error,
        )
