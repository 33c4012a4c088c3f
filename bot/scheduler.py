"""Digests and reminders, each delivered exactly once across replicas.

Every tick asks the core what is due now, then for each delivery: claim its key in MongoDB
(a second replica skips it; a claim whose sender died is taken over after the lease), send
it, and mark it done only when Slack accepted it. A failed send releases the claim, so the
next tick tries again. APScheduler runs the tick in the bot's event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_sdk.web.async_client import AsyncWebClient

from blocks.digest import digest_message
from blocks.reminders import escalation_message, reminder_message
from bot.deps import BotDeps
from bot.reach import direct_message, slack_id_of
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


@dataclass
class TickReport:
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    def count(self, outcome: Outcome) -> int:
        return sum(o is outcome for o in self.outcomes.values())


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
        self._team_id: str | None = None

    async def run_once(self, now: datetime | None = None) -> TickReport:
        """Deliver everything due at ``now`` (default: the clock) that nobody else has claimed."""
        now = now or self._deps.clock()
        services = self._deps.services
        sends: dict[str, Callable[[], Awaitable[None]]] = {}
        for job in await services.digests.due(now):
            sends[job.key] = self._digest_sender(job)
        for reminder in await services.reminders.due(now):
            sends[reminder.key] = self._reminder_sender(reminder)
        results = await asyncio.gather(*(self._deliver(k, s, now) for k, s in sends.items()))
        await self._deps.repos.claims.purge(
            before=now - KEEP_UNFINISHED, done_before=now - KEEP_DONE
        )
        return TickReport(dict(zip(sends, results, strict=True)))

    async def _deliver(
        self, key: str, send: Callable[[], Awaitable[None]], now: datetime
    ) -> Outcome:
        claims = self._deps.repos.claims
        if not await claims.claim(key, now=now, ttl=self._lease):
            return Outcome.SKIPPED
        try:
            async with self._limit:
                await send()
        except Exception:
            log.exception("delivery %s failed; it will be retried", key)
            await claims.release(key)
            return Outcome.FAILED
        await claims.complete(key, now=self._deps.clock())
        return Outcome.SENT

    def _digest_sender(self, job: DigestJob) -> Callable[[], Awaitable[None]]:
        async def send() -> None:
            folder = self._deps.settings.digest_template_dir
            message = digest_message(job.digest, job.tz, folder)
            channel = (
                job.channel_id if job.kind is DigestKind.CHANNEL else await self._dm(job.audience)
            )
            if channel is not None:
                await self._client.chat_postMessage(channel=channel, **message.to_dict())

        return send

    def _reminder_sender(self, job: ReminderJob) -> Callable[[], Awaitable[None]]:
        async def send() -> None:
            channel = await self._dm(job.recipient)
            if channel is None:
                return
            if job.kind is ReminderKind.REMIND:
                message = reminder_message(
                    job.release, job.ref, job.approval_key, job.pending_for, job.tz
                )
            else:
                message = escalation_message(job.release, job.ref, job.pending_for, job.tz)
            await self._client.chat_postMessage(channel=channel, **message.to_dict())

        return send

    async def _dm(self, actor: Actor) -> str | None:
        slack_id = await slack_id_of(
            self._client, self._deps.services.identity, await self._team(), actor
        )
        return None if slack_id is None else await direct_message(self._client, slack_id)

    async def _team(self) -> str:
        if self._team_id is None:
            self._team_id = str((await self._client.auth_test())["team_id"])
        return self._team_id


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
