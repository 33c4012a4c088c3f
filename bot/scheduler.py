"""Digests and reminders, each delivered exactly once across replicas.

Every tick asks the core what is due now, then for each delivery: claim its key in MongoDB
(a second replica skips it; a claim whose sender died is taken over after the lease), send
it, and mark it done only when Slack accepted it. A failed send releases the claim, so the
next tick tries again; one whose answer was lost first looks for its message in Slack
(``bot.delivery``). Leases are judged by the database's clock. APScheduler runs the tick in
the bot's event loop; on shutdown the tick under way finishes the sends it started (within
a bound) and starts no others. The first tick of each UTC day to claim it also runs the
retention job (``core.services.retention``).

A channel digest Slack refuses for good (the bot is not in the channel, the channel is gone
or archived) is not retried every day: the subscriber is told once by DM what to do (a
claimed delivery of its own), then the subscription is paused until subscribed again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from blocks.digest import digest_message
from blocks.digest_delivery import UNREACHABLE, digest_paused_message
from blocks.reminders import escalation_message, reminder_message
from bot.delivery import (
    Outcome as Outcome,
    Posted,
    Poster,
    Send,
    Undeliverable,
    deliver_once,
)
from bot.deps import BotDeps
from bot.digest_overrides import recent_overrides
from bot.reach import slack_id_of
from bot.slack_client import error_code
from core.models.approval import BreakGlass
from core.models.notification import ApprovalMessage
from core.models.schedule import DigestKind
from core.rules.freeze import FreezeOutlook
from core.rules.permissions import Actor
from core.services.schedule import DigestJob, ReminderJob, ReminderKind

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)
LET_GO_SECONDS = 2.0  # for sends cut off at shutdown to let their claims go


@dataclass
class TickReport:
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    def count(self, outcome: Outcome) -> int:
        return sum(o is outcome for o in self.outcomes.values())


class Unreachable(Undeliverable):
    """The person has no Slack account the bot may use (never found, or unlinked by an admin)."""


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
        self._claims = deps.repos.claims
        self._lease = lease
        self._limit = asyncio.Semaphore(concurrency)
        self._stopping = False

    def stop(self) -> None:
        """Start no more sends (the process is stopping): those under way finish; the others
        stay unclaimed, for the next replica's tick."""
        self._stopping = True

    async def run_once(self, now: datetime | None = None) -> TickReport:
        """Deliver everything due at ``now`` (default: the clock) that nobody else has claimed."""
        now = now or self._deps.clock()
        services = self._deps.services
        # What a stopped process left in release outboxes is delivered first (claimed, once).
        await services.outbox.dispatch_pending()
        # Webhook deliveries due (retries after a failure, or left by a stopped process).
        await services.webhooks.deliver_due()
        # Approvals that ran out of time: each by one conditional write, so once across
        # replicas; what follows (DMs updated, who asked told) reacts to ApprovalExpired.
        await services.approvals.expire_due(now)
        sends: dict[str, Send] = {}
        digests = await services.digests.due(now)
        # The freeze windows (as kept for display) and the overrides of them the releases'
        # cards carry: no read per digest.
        freezes = await services.freezes.outlook(at=now) if digests else None
        overrides = recent_overrides([j.digest for j in digests], now)
        for job in digests:
            sends[job.key] = self._digest_sender(job, freezes, overrides)
        for reminder in await services.reminders.due(now):
            sends[reminder.key] = self._reminder_sender(reminder)
        results = await asyncio.gather(*(self._deliver(k, s) for k, s in sends.items()))
        # What is past its retention period (claims among it), once a day across replicas.
        await services.retention.run_daily(self._deps.settings.retention())
        return TickReport(dict(zip(sends, results, strict=True)))

    async def _deliver(self, key: str, send: Send) -> Outcome:
        """Claim only once a sending slot is free, so the lease covers the send itself."""
        async with self._limit:
            if self._stopping:
                return Outcome.STOPPED
            return await self._claimed(key, send)

    async def _claimed(self, key: str, send: Send) -> Outcome:
        return await deliver_once(self._claims, self._client, key, send, lease=self._lease)

    def _digest_sender(
        self,
        job: DigestJob,
        freezes: FreezeOutlook | None,
        overrides: Mapping[str, Sequence[BreakGlass]],
    ) -> Send:
        async def send(poster: Poster) -> bool:
            folder = self._deps.settings.digest_template_dir
            message = digest_message(
                job.digest, job.tz, folder, freezes=freezes, overrides=overrides
            )
            if job.kind is not DigestKind.CHANNEL or not job.channel_id:
                await poster.post(await self._dm(job.audience), message)
                return True
            try:
                await poster.post(job.channel_id, message)
            except SlackApiError as error:
                reason = error_code(error)
                if reason in UNREACHABLE:
                    await self._pause_channel(job, reason)
                raise  # undeliverable today
            return True

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

        async def tell(poster: Poster) -> bool:
            message = digest_paused_message(
                channel_id, reason, subscription.at, subscription.time_zone or job.tz.key
            )
            await poster.post(await self._dm(job.audience), message)
            return True

        told = await self._claimed(f"paused:{job.key}", tell)
        if told is Outcome.FAILED:
            return
        await self._deps.services.digests.pause_channel(target, reason=reason)
        log.warning("digest for %s paused (%s); subscriber %s", channel_id, reason, told)

    def _reminder_sender(self, job: ReminderJob) -> Send:
        async def send(poster: Poster) -> bool:
            channel = await self._dm(job.recipient)
            if job.kind is ReminderKind.REMIND:
                message = reminder_message(
                    job.release, job.ref, job.approval_key, job.pending_for, job.tz
                )
                await self._record(job, await poster.post(channel, message))
                return True
            message = escalation_message(job.release, job.ref, job.pending_for, job.tz)
            await poster.post(channel, message)
            return True

        return send

    async def _record(self, job: ReminderJob, posted: Posted) -> None:
        """Recorded like the first request, so a decision updates this copy too (once)."""
        await self._deps.repos.approval_messages.record(
            ApprovalMessage(
                approval_key=job.approval_key,
                user_id=job.recipient.user_id,
                channel=posted.channel,
                ts=posted.ts,
                sent_at=self._deps.clock(),
            ),
        )

    async def _dm(self, actor: Actor) -> str:
        identity = self._deps.services.identity
        slack_id = await slack_id_of(self._client, identity, self._deps.home, actor)
        if slack_id is None:
            raise Unreachable(actor.user.username)
        return slack_id  # chat.postMessage to a user id lands in the app's DM with them


class BotScheduler:
    """APScheduler in the bot process: one tick job, never overlapping itself.

    The tick runs in a task of its own, shielded from APScheduler's shutdown (which cancels
    the jobs under way outright), so ``stop`` can let it finish the sends it started."""

    def __init__(self, deliveries: Deliveries, *, tick_seconds: float) -> None:
        self._deliveries = deliveries
        self._tick = tick_seconds
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._ticking: asyncio.Task[TickReport] | None = None

    def start(self) -> None:
        self._scheduler.add_job(
            self._run_tick,
            "interval",
            seconds=self._tick,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
            id="deliveries",
        )
        self._scheduler.start()

    async def _run_tick(self) -> None:
        self._ticking = asyncio.create_task(self._deliveries.run_once())
        await asyncio.shield(self._ticking)

    async def stop(self, *, drain: float) -> bool:
        """Tick no more; let the tick under way finish the sends it started, for at most
        ``drain`` seconds, and start no others. Past that its sends are cut off: their claims
        are let go unsure, so the next replica looks for their messages before posting.
        True when nothing was cut off."""
        self._deliveries.stop()
        if self._scheduler.running:
            self._scheduler.pause()  # shut down only once the tick is over: that cancels it
        finished = True
        tick = self._ticking
        if tick is not None and not tick.done():
            await asyncio.wait({tick}, timeout=drain)
            if not tick.done():
                log.warning("the tick under way did not finish within %g s: cut off", drain)
                tick.cancel()
                await asyncio.wait({tick}, timeout=LET_GO_SECONDS)  # its sends let go claims
                finished = False
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        return finished

    def shutdown(self) -> None:
        """Stop at once (no drain): a tick under way is cancelled."""
        self._deliveries.stop()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self._ticking is not None:
            self._ticking.cancel()
