"""What the handlers share: settings, core services, repositories the bot itself uses."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.after_ack import AfterAck, time_left
from bot.identity import IdentityResolver
from bot.notifier import ApprovalNotifier
from bot.settings import Settings
from bot.workspace import Workspace
from core.clock import Clock, utc_now
from core.services.container import Repositories, Services
from core.services.outbox import LEASE

# A reaction is cut off well within its outbox lease, so no other replica takes it over
# while it still runs.
REACTION_SECONDS = LEASE.total_seconds() / 2

if TYPE_CHECKING:
    from bot.commands.router import Router


@dataclass
class BotDeps:
    settings: Settings
    services: Services
    repos: Repositories
    identities: IdentityResolver
    router: Router
    notifier: ApprovalNotifier
    home: Workspace  # the Slack team (or org) served; the team part of every identity
    clock: Clock = field(default=utc_now)
    after_ack: AfterAck = field(default_factory=AfterAck)
    # What follows stored changes (bot/reactions.py): its own worker, so a slow fan-out of
    # DMs never takes the workers that answer people, and is not cut off at 30 s.
    reacting: AfterAck = field(
        default_factory=lambda: AfterAck(workers=1, job_seconds=REACTION_SECONDS)
    )

    @property
    def default_tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.default_timezone)

    async def settle(self, timeout: float = 10.0) -> None:
        """Finish the answers and the reactions still queued, within ``timeout`` in all (on
        shutdown; tests wait on it)."""
        deadline = asyncio.get_running_loop().time() + timeout  # one budget for all three
        await self.after_ack.drain(time_left(deadline))
        await self.reacting.drain(time_left(deadline))
        await self.after_ack.drain(time_left(deadline))  # what reactions queued
