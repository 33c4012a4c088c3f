"""Digests and reminders, each delivered exactly once across replicas.

Every tick asks the core what is due now, then for each delivery: claim its key in MongoDB
(a second replica skips it; a claim whose sender died is taken over after the lease), send
it, and mark it done only when Slack accepted it. A failed send releases the claim, so the
next tick tries again. APScheduler runs the tick in the bot's event loop.

A channel digest Slack refuses for good (the bot is not in the channel, the channel is gone
or archived) is not retried every day: the subscriber is told once by DM what to do (a
claimed delivery of its own), then the subscription is paused until subscribed again.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from blocks.digest import digest_message
from blocks.digest_delivery import UNREACHABLE, digest_paused_message
from blocks.reminders import escalation_message, reminder_message
from bot.deps import BotDeps
from bot.reach import slack_id_of
from bot.slack_client import error_code, is_permanent
from core.models.notification import ApprovalMessage
from core.models.schedule import DigestKind
from core.rules.permissions import Actor
from core.services.schedule import DigestJob, ReminderJob, ReminderKind

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)
# Claims outlive what they guard: Slack retries come within minutes, a digest's day and
# grace period within two days.
KEEP_UNFINISHED = timedelta(days=1)
KEEP_DONE = timedelta(days=7)


class Outcome(StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"
    UNDELIVERABLE = "undeliverable"


@dataclass
class TickReport:
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    def count(self, outcome: Outcome) -> int:
        return sum(o is outcome for o in self.outcomes.values())


class Unreachable(Exception):
    """The person has no Slack account the bot may use (never found, or unlinked by an admin)."""


def _permanent(error: Exception) -> bool:
    if isinstance(error, Unreachable):
        return True
    return isinstance(error, SlackApiError) and is_permanent(error)


class Deliveries:
    def __init__(
        self,
        deps: BotDeps,
        client: AsyncWebClient,
        *,
        lease: timedelta = LEASE,
        concurrency: int = 8,
    ) -> None:
        self._deps = deps
        self._client = client
        self._lease = lease
        self._limit = asyncio.Semaphore(concurrency)

    async def run_once(self, now: datetime | None = None) -> TickReport:
        """Deliver everything due at ``now`` (default: the clock) that nobody else has claimed."""
        now = now or self._deps.clock()
        services = self._deps.services
        # What a stopped process left in release outboxes is delivered first (claimed, once).
        await services.outbox.dispatch_pending()
        sends: dict[str, Callable[[], Awaitable[None]]] = {}
        for job in await services.digests.due(now):
            sends[job.key] = self._digest_sender(job)
        for reminder in await services.reminders.due(now):
            sends[reminder.key] = self._reminder_sender(reminder)
        results = await asyncio.gather(*(self._deliver(k, s) for k, s in sends.items()))
        await self._deps.repos.claims.purge(
            before=now - KEEP_UNFINISHED, done_before=now - KEEP_DONE
        )
        return TickReport(dict(zip(sends, results, strict=True)))

    async def _deliver(self, key: str, send: Callable[[], Awaitable[None]]) -> Outcome:
        """Claim only once a sending slot is free, so the lease covers the send itself."""
        async with self._limit:
            return await self._claimed(key, send)

    async def _claimed(self, key: str, send: Callable[[], Awaitable[None]]) -> Outcome:
        claims = self._deps.repos.claims
        owner = uuid.uuid4().hex
        if not await claims.claim(key, now=self._deps.clock(), ttl=self._lease, owner=owner):
            return Outcome.SKIPPED
        try:
            await send()
        except Exception as error:
            if not _permanent(error):
                log.exception("delivery %s failed; it will be retried", key)
                await claims.release(key, owner=owner)
                return Outcome.FAILED
            log.warning("delivery %s cannot be delivered: %s", key, error)
            outcome = Outcome.UNDELIVERABLE
        else:
            outcome = Outcome.SENT
        if not await claims.complete(key, now=self._deps.clock(), owner=owner):
            log.warning("delivery %s outlived its lease; another replica took it over", key)
        return outcome

    def _digest_sender(self, job: DigestJob) -> Callable[[], Awaitable[None]]:
        async def send() -> None:
            message = digest_message(job.digest, job.tz, self._deps.settings.digest_template_dir)
            if job.kind is not DigestKind.CHANNEL or not job.channel_id:
                channel = await self._dm(job.audience)
                await self._client.chat_postMessage(channel=channel, **message.to_dict())
                return
            try:
                await self._client.chat_postMessage(channel=job.channel_id, **message.to_dict())
            except SlackApiError as error:
                reason = error_code(error)
                if reason in UNREACHABLE:
                    await self._pause_channel(job, reason)
                raise  # undeliverable today

        return send

    async def _pause_channel(self, job: DigestJob, reason: str) -> None:
        """Tell the subscriber what to do — once, across replicas — then pause the digest.
        If the DM could not be sent for now, nothing is paused: tomorrow's digest tries (and
        tells) again."""
        assert job.channel_id is not None and job.target is not None
        channel_id, target = job.channel_id, job.target
        subscription = await self._deps.repos.subscriptions.find(target)
        if subscription is None or not subscription.enabled:
            return

        async def tell() -> None:
            message = digest_paused_message(
                channel_id, reason, subscription.at, subscription.time_zone or job.tz.key
            )
            dm = await self._dm(job.audience)
            await self._client.chat_postMessage(channel=dm, **message.to_dict())

        told = await self._claimed(f"paused:{job.key}", tell)
        if told is Outcome.FAILED:
            return
        await self._deps.services.digests.pause_channel(target, reason=reason)
        log.warning("digest for %s paused (%s); subscriber %s", channel_id, reason, told)

    def _reminder_sender(self, job: ReminderJob) -> Callable[[], Awaitable[None]]:
        async def send() -> None:
            channel = await self._dm(job.recipient)
            if job.kind is ReminderKind.REMIND:
                message = reminder_message(
                    job.release, job.ref, job.approval_key, job.pending_for, job.tz
                )
                posted = await self._client.chat_postMessage(channel=channel, **message.to_dict())
                # Recorded like the first request, so a decision updates this copy too.
                await self._deps.repos.approval_messages.record(
                    ApprovalMessage(
                        approval_key=job.approval_key,
                        user_id=job.recipient.user_id,
                        channel=str(posted["channel"]),
                        ts=str(posted["ts"]),
                        sent_at=self._deps.clock(),
                    )
                )
                return
            message = escalation_message(job.release, job.ref, job.pending_for, job.tz)
            await self._client.chat_postMessage(channel=channel, **message.to_dict())

        return send

    async def _dm(self, actor: Actor) -> str:
        identity = self._deps.services.identity
        slack_id = await slack_id_of(self._client, identity, self._deps.home, actor)
        if slack_id is None:
            raise Unreachable(actor.user.username)
        return slack_id  # chat.postMessage to a user id lands in the app's DM with them


class BotScheduler:
    """APScheduler in the bot process: one tick job, never overlapping itself."""

    def __init__(self, deliveries: Deliveries, *, tick_seconds: float) -> None:
        self._deliveries = deliveries
        self._tick = tick_seconds
        self._scheduler = AsyncIOScheduler(timezone=UTC)

    def start(self) -> None:
        self._scheduler.add_job(
            self._deliveries.run_once,
            "interval",
            seconds=self._tick,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
            id="deliveries",
        )
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
