"""What the handlers share: settings, core services, repositories the bot itself uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.after_ack import AfterAck
from bot.identity import IdentityResolver
from bot.notifier import ApprovalNotifier
from bot.settings import Settings
from bot.workspace import Workspace
from core.clock import Clock, utc_now
from core.services.container import Repositories, Services

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

    @property
    def default_tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.default_timezone)
