"""Wire storage into core and core into the Bolt app; start and stop them together."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from motor.motor_asyncio import AsyncIOMotorClient
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.after_ack import ack_turn
from bot.api.app import build_api
from bot.app import create_app
from bot.commands import build_router
from bot.deps import BotDeps
from bot.identity import IdentityResolver
from bot.idle_gc import IdleCollector
from bot.notifier import ApprovalNotifier
from bot.reactions import Reactions
from bot.scheduler import BotScheduler, Deliveries
from bot.server import build_web_app
from bot.settings import SeedData, Settings
from bot.slack_client import build_client
from bot.startup import StartupError
from bot.webhook_sender import WebhookSender
from bot.workspace import learn_workspace
from core.clock import Clock, utc_now
from core.rules.approvals import ApprovalPolicy
from core.services.container import Repositories, build_services
from storage import embedded_thread
from storage.db_clock import LocalClock, ServerClock, bind_clock
from storage.engine import Database, connect, engine_name, hosts_of, is_embedded, ping
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
    unbind_clock: Callable[[], None] | None = None
    collector: asyncio.Task[None] | None = None

    def start_scheduler(self) -> None:
        """Digests and reminders in this process (SCHEDULER_ENABLED)."""
        if self.settings.scheduler_enabled and self.scheduler is None:
            self.scheduler = BotScheduler(
                self.deliveries, tick_seconds=self.settings.scheduler_tick_seconds
            )
            self.scheduler.start()

    def start_collector(self) -> None:
        """Full garbage collections when no ack is pending (bot/idle_gc.py): for a process
        that serves, not for one that builds bots by the dozen (tests)."""
        if self.collector is None:
            self.collector = asyncio.create_task(IdleCollector().run())

    def web_app(self, *, serve_slack: bool = True) -> web.Application:
        """The aiohttp app: /health, the portal API under /api, and /slack/events unless
        Socket Mode carries Slack."""
        secret = self.settings.slack_signing_secret
        return build_web_app(
            self.app if serve_slack else None,
            self.db,
            signing_secret=secret.get_secret_value() if secret else None,
            engine=engine_name(self.settings.mongo_uri),
            database_name=self.settings.mongo_db_name,
            api=build_api(self.deps.services),
        )

    async def drain(self) -> None:
        """On shutdown, before ``close``: start no tick and no send; the tick under way
        finishes the sends it started, listeners still at work after their ack (a click
        deciding, then answering) finish, and queued answers and reactions run, within
        SHUTDOWN_DRAIN_SECONDS (then what still runs is cut off; a claim it held is let go
        unsure, so the next replica looks before sending again)."""
        seconds = self.settings.shutdown_drain_seconds
        self.deliveries.stop()
        ticking = self.scheduler.stop(drain=seconds) if self.scheduler is not None else None
        settling = self.deps.settle(timeout=seconds)  # bounded by itself, workers stopped
        for outcome in await asyncio.gather(
            *(c for c in (ticking, settling) if c is not None), return_exceptions=True
        ):
            if isinstance(outcome, BaseException):
                log.warning("queued answers or reactions cut off at shutdown: %r", outcome)

    def close(self) -> None:
        if self.collector is not None:
            self.collector.cancel()
        if self.scheduler is not None:
            self.scheduler.shutdown()
        if self.unbind_clock is not None:
            self.unbind_clock()
        if self.mongo is not None:
            self.mongo.close()


async def build_runtime(
    settings: Settings, *, clock: Clock = utc_now, db: Database | None = None
) -> Runtime:
    """Everything the bot needs; ``db`` lets the console and tests share an embedded engine."""
    # Before any connection: prod without JWT_SECRET or SECRET_KEY stops here.
    auth, secrets = settings.auth(), settings.secret_box()
    mongo: AsyncIOMotorClient[dict[str, Any]] | None = None
    if db is None:
        mongo, db = await open_database(settings)
    database = db
    # Leases are judged by the database's clock (storage.db_clock): MongoDB's, or for the
    # embedded engine, which lives in this process, this process's.
    embedded = is_embedded(settings.mongo_uri)
    unbind = bind_clock(database, LocalClock(clock) if embedded else ServerClock(database))
    repos = await open_repositories(database)
    await seed(settings.seed_data, repos)
    services = build_services(
        repos,
        clock=clock,
        policy=ApprovalPolicy(allow_self_approval=settings.allow_self_approval),
        schedule=settings.schedule(),
        auth=auth,
        secrets=secrets,
        invitation_ttl=settings.invitation_ttl(),
    )
    await services.identity.load()  # roles and names, so a request reads only its user
    await services.freezes.outlook()  # the freeze windows shown, kept (core.kept)
    await services.webhooks.rotate_secrets()  # what an older SECRET_KEY encrypted, again
    client = build_client(settings)
    home = await learn_workspace(client, settings.slack_team_id)
    log.info("serving Slack team %s%s", home.team_id, " (org-wide)" * home.enterprise_install)
    resolver = IdentityResolver(
        services.identity,
        bootstrap_admins=settings.bootstrap_admin_slack_ids,
        default_tz=settings.default_timezone,
        home=home,
    )
    zone = ZoneInfo(settings.default_timezone)
    notifier = ApprovalNotifier(services, repos.approval_messages, repos.claims, clock, zone, home)
    deps = BotDeps(settings, services, repos, resolver, build_router(), notifier, home, clock)
    # Every stored change reaches the reactions, right after the write, off the request's path.
    services.outbox.connect(Reactions(deps, client), later=deps.reacting.submit)
    private = settings.webhook_allow_private
    sender = WebhookSender(allow_private=private)
    services.webhooks.connect(sender, later=deps.reacting.submit, allow_private=private)
    app = create_app(deps, client)
    embedded_thread.defer_to(ack_turn)  # work after an ack reads and writes between acks
    # Everything built so far lives as long as the process: keep it out of the collector's
    # scans, so full collections (and the pauses they add to acks) stay short.
    gc.collect()
    gc.freeze()
    deliveries = Deliveries(deps, client)
    return Runtime(settings, mongo, database, repos, deps, client, app, deliveries, None, unbind)


async def open_database(
    settings: Settings,
) -> tuple[AsyncIOMotorClient[dict[str, Any]], Database]:
    """Connect, and make sure the server answers within MONGO_CONNECT_TIMEOUT_SECONDS."""
    timeout = settings.mongo_connect_timeout_seconds
    mongo, db = connect(settings.mongo_uri, settings.mongo_db_name, timeout=timeout)
    where, engine = hosts_of(settings.mongo_uri), engine_name(settings.mongo_uri)
    if not await ping(db, timeout=timeout + 1):
        mongo.close()
        raise StartupError(
            "MONGO_URI", f"points at MongoDB at {where}, which did not answer within {timeout:g} s"
        )
    log.info("database: %s (engine %s), name %s", where, engine, settings.mongo_db_name)
    return mongo, db


async def seed(choice: SeedData, repos: Repositories) -> None:
    if choice is SeedData.NONE:
        return
    from core.seeds.demo import seed_demo_data
    from core.seeds.minimal import seed_minimal

    seeder = seed_demo_data if choice is SeedData.DEMO else seed_minimal
    report = await seeder(repos)
    log.info("seed data '%s' loaded:\n%s", choice.value, report)
