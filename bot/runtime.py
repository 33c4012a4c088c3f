"""Wire storage into core and core into the Bolt app; start and stop them together."""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from motor.motor_asyncio import AsyncIOMotorClient
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import create_app
from bot.commands import build_router
from bot.deps import BotDeps
from bot.identity import IdentityResolver
from bot.notifier import ApprovalNotifier
from bot.scheduler import BotScheduler, Deliveries
from bot.settings import SeedData, Settings
from bot.slack_client import build_client
from core.clock import Clock, utc_now
from core.rules.approvals import ApprovalPolicy
from core.services.container import Repositories, build_services
from storage.engine import Database, connect
from storage.wiring import open_repositories

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    mongo: AsyncIOMotorClient[dict[str, Any]] | None
    db: Database
    repos: Repositories
    deps: BotDeps
    client: AsyncWebClient
    app: AsyncApp
    deliveries: Deliveries
    scheduler: BotScheduler | None = None

    def start_scheduler(self) -> None:
        """Digests and reminders in this process (SCHEDULER_ENABLED)."""
        if self.settings.scheduler_enabled and self.scheduler is None:
            self.scheduler = BotScheduler(
                self.deliveries, tick_seconds=self.settings.scheduler_tick_seconds
            )
            self.scheduler.start()

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown()
        if self.mongo is not None:
            self.mongo.close()


async def build_runtime(
    settings: Settings, *, clock: Clock = utc_now, db: Database | None = None
) -> Runtime:
    """Everything the bot needs; ``db`` lets the console and tests share an embedded engine."""
    mongo: AsyncIOMotorClient[dict[str, Any]] | None = None
    if db is None:
        mongo, db = connect(settings.mongo_uri, settings.mongo_db_name)
    database = db
    repos = await open_repositories(database)
    await seed(settings.seed_data, repos)
    services = build_services(
        repos,
        clock=clock,
        policy=ApprovalPolicy(allow_self_approval=settings.allow_self_approval),
        schedule=settings.schedule(),
    )
    resolver = IdentityResolver(
        services.identity,
        bootstrap_admins=settings.bootstrap_admin_slack_ids,
        default_tz=settings.default_timezone,
    )
    notifier = ApprovalNotifier(
        services, repos.approval_messages, repos.claims, clock, ZoneInfo(settings.default_timezone)
    )
    deps = BotDeps(settings, services, repos, resolver, build_router(), notifier, clock)
    client = build_client(settings)
    app = create_app(deps, client)
    # Everything built so far lives as long as the process: keep it out of the collector's
    # scans, so full collections (and the pauses they add to acks) stay short.
    gc.collect()
    gc.freeze()
    return Runtime(settings, mongo, database, repos, deps, client, app, Deliveries(deps, client))


async def seed(choice: SeedData, repos: Repositories) -> None:
    if choice is SeedData.NONE:
        return
    from scripts.seed_demo_data import seed_demo_data
    from scripts.seed_minimal import seed_minimal

    seeder = seed_demo_data if choice is SeedData.DEMO else seed_minimal
    report = await seeder(repos)
    log.info("seed data '%s' loaded:\n%s", choice.value, report)
