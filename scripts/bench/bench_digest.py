"""Digest and reminder benchmark: building the daily digests, and fanning out reminder DMs.

    python -m scripts.bench.bench_digest              # full run (about 60 s on 2 cores)
    python -m scripts.bench.bench_digest --quick      # short run (about 15 s)
    python -m scripts.bench.bench_digest --variants   # every candidate fix too (about 4 min)
    python -m scripts.bench.bench_digest --only reminders --rate 50 --burst 10 --reminders 500
    MONGO_URI=mongodb://localhost:27017 python -m scripts.bench.bench_digest   # or --uri

a. Digests. Releases of 3 products x 4 gates x 3 milestones (mixed gate statuses, blockers,
   pending approvals), all dated inside the digest window (the worst case: every digest covers
   every release its audience may see); 20 release managers (half see every squad, half two of
   ten), 60 other users, and 10 channels subscribed in ten time zones, all due at the same
   moment. Measured at 100 and at 1,000 releases: ``DigestService.due(now)`` (time and database
   round trips: the count must not grow with the releases; it reads release cards, the head
   and readiness summary stored with each release, not whole releases, and decodes the
   summaries of the releases a digest details, 50 at most), then every job's message (Block
   Kit blocks + the Jinja2 text: ``digest_message(...).to_dict()``). Target: due + messages
   under 1 s. Beside it in the same run: the query-per-audience shape (``digest_for`` per
   audience, as ``/release digest now`` does it), 1,000 releases spread over a year, and where
   the time goes. Releases are bulk-inserted before the indexes (see bench_core); people and
   subscriptions go through the repositories and services. Then ``gc.freeze()``, as the bot
   does after start-up: the embedded engine keeps its documents in this process's heap, where
   a real MongoDB would not, and full collections would scan them on every run.

b. Reminders. Pending approvals requested five hours ago (one reminder interval, no
   escalation), five per release, each decidable by exactly one linked gate manager (50, one
   per squad), daytime in every decider's zone: N reminder DMs due now. ``Deliveries.run_once``
   (bot/scheduler.py) runs over the runtime the bot uses (bot/runtime.py ``build_runtime``: its
   slack_sdk client, 429s retried up to 3 times after Retry-After, concurrency 8), tick after
   tick until nothing failed, as the scheduler would. The Web API is the fake Slack
   (bot/devtools/fake_slack.py) with a token bucket on ``chat.postMessage``: R a second after a
   burst of B (default B = R: "R a second"), beyond it HTTP 429 with a whole-second Retry-After
   (1), as Slack answers. ``conversations.open`` is unlimited unless ``--open-rate``.
   Floor: (N - B) / R, the time the bucket needs to let N posts through; the target compares
   with floor + 1 s, the Retry-After granularity a client that does not know B pays once.
   Checked: every due reminder's claim completed and exactly one accepted ``chat.postMessage``
   per key (zero lost, zero duplicates). Candidate fixes run beside the shipped client, built
   from Deliveries' own parameter (concurrency) or a subclass of slack_sdk's client.

A benchmark, not a test: it prints tables and exits 0 even when a target is missed. The
embedded engine is pure Python and never yields to the event loop; timings show our own code
plus an in-process engine and an in-process fake Slack over loopback HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import logging
import math
import os
import platform
import random
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time as clock_time, timedelta
from importlib import metadata
from typing import Any

import aiohttp
import bson
from aiohttp import web
from bson.codec_options import CodecOptions
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from blocks.digest import digest_message, digest_text
from bot.devtools.fake_slack import TEAM_ID, FakeSlack, SlackPerson
from bot.devtools.harness import local_settings
from bot.runtime import Runtime, build_runtime
from bot.scheduler import Deliveries, Outcome
from bot.settings import SeedData, Settings
from bot.slack_client import build_client
from core.models.rbac import Permission, Role, SlackIdentity, User
from core.models.release import (
    ApprovalStatus,
    Environment,
    GateStatus,
    Milestone,
    MilestoneApproval,
    MilestoneStatus,
    QualityGate,
    Release,
    ReleaseProduct,
)
from core.rules.digest import DETAILED, compose_digest
from core.rules.permissions import Actor
from core.rules.readiness import ReleaseCard, summarize
from core.services.container import DEFAULT_SCHEDULE, Repositories, Services, build_services
from core.services.schedule import DigestJob
from scripts.bench.bench_core import (
    EMBEDDED_URI,
    Timing,
    database,
    describe_engine,
    ms,
    print_table,
    time_sync,
    verdict,
)
from storage.codec import CARD_PROJECTION, from_document, to_document
from storage.engine import Database
from storage.instrumented import RoundTrips
from storage.wiring import open_repositories

SEED = 20261201
SHAPE = (3, 4, 3)  # products, gates per product, milestones per gate
GATE_NAMES = ("Unit tests", "Security scan", "UAT sign-off", "Go-live check")
ENVIRONMENTS = (Environment.DEV, Environment.UAT, Environment.PROD)
GATE_MIX = (
    (GateStatus.PASSED, 40),
    (GateStatus.IN_PROGRESS, 25),
    (GateStatus.NOT_STARTED, 25),
    (GateStatus.WAIVED, 3),
    (GateStatus.BLOCKED, 4),
    (GateStatus.FAILED, 3),
)

# a. Digests: due at 09:30 UTC on a Tuesday; every subscription below is due then.
DIGEST_NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
SMALL, LARGE = 100, 1_000
DIGEST_TARGET_MS = 1_000.0
SQUADS = tuple(f"squad-{n:02d}" for n in range(10))
MANAGERS = 20
OTHER_USERS = 60
# Zones at UTC+0 in December: 09:00 local is 09:00 UTC.
MANAGER_ZONES = ("UTC", "Europe/London", "Africa/Abidjan", "Atlantic/Reykjavik", "Europe/Lisbon")
# Ten channels, ten zones, each subscribed at the local time that is 09:00 UTC on 1 Dec 2026.
CHANNEL_TIMES = (
    ("09:00", "UTC"),
    ("10:00", "Europe/Berlin"),
    ("14:30", "Asia/Kolkata"),
    ("04:00", "America/New_York"),
    ("09:15", "Europe/London"),
    ("18:00", "Asia/Tokyo"),
    ("06:00", "America/Sao_Paulo"),
    ("20:00", "Australia/Sydney"),
    ("11:00", "Africa/Johannesburg"),
    ("12:00", "Europe/Moscow"),
)

# b. Reminders: noon UTC, daytime in every decider's zone; requested 5 h ago (interval 1).
REMINDER_NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
REQUESTED_AGO = timedelta(hours=5)
PENDING_PER_RELEASE = 5
DECIDERS = 50
DECIDER_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Africa/Nairobi",
)
RATIO_TARGET = 1.1
MAX_TICKS = 30
IDLE_GAP_S = 0.05  # a gap between accepted posts this long means no sender was sending
PRODUCTION_TICK_S = 30.0  # SCHEDULER_TICK_SECONDS' default: the wait before a retried delivery


@dataclass(frozen=True)
class Config:
    digest_iterations: int
    extras: bool  # the per-audience baseline, the year-spread row and the time breakdown
    reminders: int
    shipped_runs: int  # the shipped configuration varies run to run (random retry jitter)
    small_burst: bool  # the second table, with a bucket of R / 10
    fixes: bool  # the recommended fix beside the shipped client
    variants: bool  # every candidate fix, not only the recommended one


FULL = Config(
    digest_iterations=2,
    extras=True,
    reminders=500,
    shipped_runs=1,
    small_burst=True,
    fixes=True,
    variants=False,
)
QUICK = Config(
    digest_iterations=1,
    extras=False,
    reminders=300,
    shipped_runs=1,
    small_burst=False,
    fixes=False,
    variants=False,
)


# ------------------------------------------------------------------------- release shapes


def _gate_status(rng: random.Random) -> GateStatus:
    return rng.choices([s for s, _ in GATE_MIX], [w for _, w in GATE_MIX])[0]


def _milestone_status(rng: random.Random, gate: GateStatus, index: int) -> MilestoneStatus:
    if gate in (GateStatus.PASSED, GateStatus.WAIVED):
        return MilestoneStatus.DONE
    if gate is GateStatus.NOT_STARTED:
        return MilestoneStatus.NOT_STARTED
    if gate is GateStatus.BLOCKED and index == 0:
        return MilestoneStatus.BLOCKED
    return rng.choice((MilestoneStatus.DONE, MilestoneStatus.IN_PROGRESS))


def _approval(
    rng: random.Random, status: MilestoneStatus, requested: datetime, *, pending: bool | None
) -> MilestoneApproval:
    """``pending`` None: random (35 % need approval; decided once done, else pending)."""
    if pending is None:
        if rng.random() >= 0.35:
            return MilestoneApproval()
        pending = status is not MilestoneStatus.DONE
    if not pending:
        return MilestoneApproval(
            required=True,
            status=ApprovalStatus.APPROVED,
            requested_at=requested,
            approver_user_id="approver",
            approved_at=requested + timedelta(hours=1),
        )
    return MilestoneApproval(
        required=True,
        requires_approval_manager=False,
        status=ApprovalStatus.PENDING,
        requested_at=requested,
    )


def sized_release(
    n: int,
    release_date: date,
    squads: list[str],
    *,
    requested: datetime,
    pending: int | None = None,
) -> Release:
    """Release ``n``: 3 products x 4 gates x 3 milestones, statuses drawn from GATE_MIX.

    ``pending`` None: approvals at random; a number: exactly that many PENDING approvals (the
    first milestones in walking order), every other approval decided.
    """
    rng = random.Random(SEED + n)
    products, gates, milestones = SHAPE
    first = datetime.combine(release_date, clock_time(9), tzinfo=UTC) - timedelta(days=12)
    left = pending
    built: list[ReleaseProduct] = []
    for p in range(products):
        quality_gates = []
        for g in range(gates):
            status = _gate_status(rng)
            gate = QualityGate(
                gate_name=GATE_NAMES[g],
                order=g,
                required=g != 0 or rng.random() < 0.8,
                gate_status=status,
                comment=f"{GATE_NAMES[g]}: see the report"
                if status in (GateStatus.BLOCKED, GateStatus.FAILED)
                else None,
            )
            for m in range(milestones):
                start = first + timedelta(days=4 * m, hours=p + g)
                ms_status = _milestone_status(rng, status, m)
                wanted: bool | None = None
                if left is not None:
                    wanted = left > 0
                    left -= wanted
                gate.milestones.append(
                    Milestone(
                        milestone_key=f"m{m + 1}-{ENVIRONMENTS[m].value}",
                        milestone_name=f"{GATE_NAMES[g]} {ENVIRONMENTS[m].value}",
                        environment=ENVIRONMENTS[m],
                        start_date=start,
                        end_date=start + timedelta(hours=8),
                        status=ms_status,
                        approval=_approval(rng, ms_status, requested, pending=wanted),
                    )
                )
            quality_gates.append(gate)
        built.append(
            ReleaseProduct(
                application_id=f"app-{(n + p) % 12:02d}",
                product_id=f"product-{(n + p) % 30:02d}",
                product_name=f"Product {(n + p) % 30:02d}",
                quality_gates=quality_gates,
            )
        )
    return Release(
        release_id=f"REL-{n:05d}",
        release_name=f"Train {n:05d}",
        release_date=release_date,
        squad_ids=squads,
        created_by="bench",
        created_at=requested - timedelta(days=30),
        products=built,
    )


def role(name: str, *flags: Permission) -> Role:
    return Role.model_validate(
        {"role_name": name, "created_at": DIGEST_NOW, **{f.value: True for f in flags}}
    )


def user(
    username: str,
    roles: Sequence[Role],
    squads: Sequence[str] = (),
    *,
    tz: str | None = None,
    slack_id: str | None = None,
) -> User:
    return User(
        username=username,
        full_name=username.replace("-", " ").title(),
        email=f"{username}@example.com",
        role_ids=[r.id for r in roles],
        assigned_squad_ids=list(squads),
        time_zone=tz,
        slack=SlackIdentity(team_id=TEAM_ID, user_id=slack_id) if slack_id else None,
        created_at=DIGEST_NOW - timedelta(days=90),
    )


# ----------------------------------------------------------------------------- a. digests


@dataclass
class DigestWorld:
    label: str
    releases: int
    db: Database  # the engine itself, not counted
    trips: RoundTrips
    repos: Repositories
    services: Services
    seed_ms: float


def in_window(n: int, releases: int) -> date:
    """Every release inside the window of the digest day (the worst case)."""
    window = DEFAULT_SCHEDULE.window
    start, _ = window.bounds(DIGEST_NOW.date())
    return start + timedelta(days=n % (window.recent_days + window.upcoming_days + 1))


def over_a_year(n: int, releases: int) -> date:
    """Releases evenly over the year around the digest day."""
    return DIGEST_NOW.date() + timedelta(days=n * 365 // releases - 182)


@asynccontextmanager
async def digest_world(
    uri: str,
    releases: int,
    dated: Callable[[int, int], date] = in_window,
    label: str = "",
) -> AsyncIterator[DigestWorld]:
    """``releases`` releases bulk-inserted before the indexes (see bench_core's note), then
    roles, users and subscriptions through the repositories and services."""
    async with database(uri) as db:
        started = time.perf_counter()
        docs = [
            to_document(
                sized_release(
                    n,
                    dated(n, releases),
                    [SQUADS[n % 10]] + ([SQUADS[(n + 3) % 10]] if n % 3 == 0 else []),
                    requested=DIGEST_NOW - timedelta(days=2),
                )
            )
            for n in range(releases)
        ]
        await db["releases"].insert_many(docs)
        del docs
        trips = RoundTrips()
        repos = await open_repositories(trips.wrap(db))
        services = build_services(repos, clock=lambda: DIGEST_NOW)
        await seed_digest_people(repos, services)
        seed_ms = (time.perf_counter() - started) * 1e3
        gc.collect()
        gc.freeze()
        try:
            yield DigestWorld(
                label or f"{releases:,}", releases, db, trips, repos, services, seed_ms
            )
        finally:
            gc.unfreeze()


async def seed_digest_people(repos: Repositories, services: Services) -> None:
    everything = await repos.roles.add(
        role("release-manager-all", Permission.CAN_CREATE_RELEASE, Permission.CAN_VIEW_ALL)
    )
    scoped = await repos.roles.add(role("release-manager", Permission.CAN_CREATE_RELEASE))
    approver = await repos.roles.add(
        role("approver", Permission.IS_APPROVAL_MANAGER, Permission.CAN_VIEW_ALL)
    )
    member = await repos.roles.add(role("member"))
    managers: list[Actor] = []
    for n in range(MANAGERS):
        roles = (everything,) if n % 2 == 0 else (scoped,)
        squads = [] if n % 2 == 0 else [SQUADS[n % 10], SQUADS[(n + 5) % 10]]
        stored = await repos.users.add(
            user(f"manager-{n:02d}", roles, squads, tz=MANAGER_ZONES[n % len(MANAGER_ZONES)])
        )
        managers.append(Actor(stored, roles))
    for n in range(OTHER_USERS):
        roles = (approver,) if n % 4 == 0 else (member,)
        await repos.users.add(user(f"member-{n:02d}", roles, [SQUADS[n % 10]], tz="Europe/Paris"))
    for n, (at, zone) in enumerate(CHANNEL_TIMES):
        await services.digests.subscribe_channel(
            managers[n],
            team_id=TEAM_ID,
            channel_id=f"CDIGEST{n:02d}",
            at=clock_time.fromisoformat(at),
            time_zone=zone,
        )
    # One manager turned their DM digest off, another moved it to 11:00 (not due now).
    await services.digests.set_personal(managers[-2], enabled=False)
    await services.digests.set_personal(managers[-1], enabled=True, at=clock_time(11, 0))


def build_messages(jobs: Sequence[DigestJob]) -> list[dict[str, Any]]:
    return [digest_message(job.digest, job.tz).to_dict() for job in jobs]


@dataclass(frozen=True)
class DigestRun:
    label: str
    jobs: list[DigestJob]
    calls: dict[str, int]
    due: Timing
    build: Timing | None  # None: the query-per-audience baseline (its messages are the same)
    seed_ms: float

    @property
    def trips(self) -> int:
        return sum(self.calls.values())

    @property
    def total_ms(self) -> float:
        return self.due.median_ms + (self.build.median_ms if self.build else 0.0)

    def row(self) -> list[str]:
        entries = [len(j.digest.entries) + j.digest.hidden for j in self.jobs]
        return [
            self.label,
            str(len(self.jobs)),
            f"{min(entries)}–{max(entries)}",
            str(self.trips),
            ", ".join(f"{k}={v}" for k, v in sorted(self.calls.items())),
            ms(self.due.median_ms),
            ms(self.build.median_ms) if self.build else "",
            ms(self.total_ms) if self.build else "",
            f"< {DIGEST_TARGET_MS:g}" if self.build else "",
            verdict(self.total_ms < DIGEST_TARGET_MS) if self.build else "",
        ]


async def measure_digest_run(world: DigestWorld, iterations: int) -> DigestRun:
    """``iterations`` runs of ``due``, each after a full collection so that none pays for
    the garbage of the one before (the last one's jobs and round trips are kept), then
    ``iterations`` builds of every job's message after one warm-up (Jinja2 compiles)."""
    digests = world.services.digests
    samples: list[int] = []
    jobs: list[DigestJob] = []
    for _ in range(iterations):
        jobs = []
        gc.collect()
        world.trips.reset()
        started = time.perf_counter_ns()
        jobs = await digests.due(DIGEST_NOW)
        samples.append(time.perf_counter_ns() - started)
    calls = dict(world.trips.calls)
    build = time_sync(lambda: build_messages(jobs), iterations, warmup=1)
    return DigestRun(world.label, jobs, calls, Timing(samples), build, world.seed_ms)


async def per_audience_baseline(world: DigestWorld, jobs: list[DigestJob]) -> DigestRun:
    """The same digests with one query per audience (``digest_for``), measured once."""
    digests = world.services.digests
    world.trips.reset()
    started = time.perf_counter_ns()
    for job in jobs:
        await digests.digest_for(job.audience, job.digest.day)
    elapsed = Timing([time.perf_counter_ns() - started])
    label = f"{world.label}, baseline: digest_for per audience"
    return DigestRun(label, jobs, dict(world.trips.calls), elapsed, None, world.seed_ms)


async def breakdown(world: DigestWorld, run: DigestRun) -> list[list[str]]:
    """Where the time of one digest run goes: each step once, in the order ``due`` takes."""
    repos, jobs = world.repos, run.jobs
    window = DEFAULT_SCHEDULE.window
    first = min(j.digest.day for j in jobs) - timedelta(days=window.recent_days)
    last = max(j.digest.day for j in jobs) + timedelta(days=window.upcoming_days)

    def once(work: Callable[[], object]) -> float:
        started = time.perf_counter_ns()
        work()
        return (time.perf_counter_ns() - started) / 1e6

    async def once_async(work: Callable[[], Awaitable[object]]) -> float:
        started = time.perf_counter_ns()
        await work()
        return (time.perf_counter_ns() - started) / 1e6

    async def load() -> list[ReleaseCard]:
        return await repos.releases.dated_between(start=first, end=last, squads=None)

    async def load_without_collector() -> object:
        gc.disable()
        try:
            return await load()
        finally:
            gc.enable()

    def compose_all() -> object:
        return [compose_digest(loaded, j.audience, j.digest.day, window) for j in jobs]

    async def find(projection: dict[str, int] | None) -> list[dict[str, Any]]:
        return await world.db["releases"].find({}, projection).to_list(length=None)

    people = await once_async(
        lambda: asyncio.gather(
            repos.subscriptions.all(),
            world.services.identity.actors_with_any(frozenset({Permission.CAN_CREATE_RELEASE})),
        )
    )
    engine = decode = engine_whole = decode_whole = 0.0
    for projection in (CARD_PROJECTION, None):
        started = time.perf_counter_ns()
        raw = await find(projection)
        took = (time.perf_counter_ns() - started) / 1e6
        encoded = b"".join(bson.encode(doc) for doc in raw)
        del raw
        decoded = once(lambda: bson.decode_all(encoded, CodecOptions(tz_aware=True)))  # noqa: B023
        encoded = b""
        if projection is None:
            engine_whole, decode_whole = took, decoded
        else:
            engine, decode = took, decoded
    whole = [from_document(Release, d) for d in await find(None)]
    paused = await once_async(load_without_collector)
    started = time.perf_counter_ns()
    loaded = await load()
    loading = (time.perf_counter_ns() - started) / 1e6
    rows = [
        ("subscriptions + managers (3 queries)", people),
        (f"engine: find the {len(loaded):,} release cards (projected, 1 query)", engine),
        ("  vs BSON-decoding them (a real MongoDB driver's share)", decode),
        ("  vs the whole releases (what was read before cards)", engine_whole),
        ("    and BSON-decoding those", decode_whole),
        ("releases.dated_between: engine + cards (summaries not decoded yet)", loading),
        ("  the same with the garbage collector paused", paused),
        (
            f"compose_digest x {len(jobs)} (decodes the summaries of the {DETAILED} detailed)",
            once(compose_all),
        ),
        (
            f"  vs summarize x {len(whole):,} (paid once per write now, not per run)",
            once(lambda: [summarize(r) for r in whole]),
        ),
        (
            f"digest_message + to_dict x {len(jobs)} (blocks + text), median",
            run.build.median_ms if run.build else 0.0,
        ),
        (
            f"  of which digest_text (Jinja2, every entry) x {len(jobs)}",
            once(lambda: [digest_text(j.digest) for j in jobs]),
        ),
    ]
    return [[name, ms(value)] for name, value in rows]


def digest_facts(run: DigestRun) -> str:
    messages = build_messages(run.jobs)
    blocks = max(len(m["blocks"]) for m in messages)
    text = max(len(digest_text(j.digest)) for j in run.jobs)
    channels = sum(j.channel_id is not None for j in run.jobs)
    return (
        f"   {len(run.jobs)} digests due ({channels} channels, {len(run.jobs) - channels} "
        f"managers' DMs); at most {blocks} blocks a message; the Jinja2 text is rendered for "
        f"every entry, up to {text:,} characters, then cut to 3,000 by Message.to_dict"
    )


async def bench_digests(uri: str, config: Config) -> None:
    runs: list[DigestRun] = []
    rows: list[list[str]] = []
    for size in (SMALL, LARGE):
        async with digest_world(uri, size) as world:
            run = await measure_digest_run(world, config.digest_iterations)
            runs.append(run)
            if size == SMALL and config.extras:
                runs.append(await per_audience_baseline(world, run.jobs))
            if size == LARGE:
                facts = digest_facts(run)
                if config.extras:
                    rows = await breakdown(world, run)
    if config.extras:
        label = f"{LARGE:,} over a year (~{LARGE * 18 // 365} in the window)"
        async with digest_world(uri, LARGE, over_a_year, label) as world:
            runs.append(await measure_digest_run(world, config.digest_iterations))
    print_table(
        f"a. One digest run: DigestService.due + every job's message; {SHAPE[0]} products x "
        f"{SHAPE[1]} gates x {SHAPE[2]} milestones a release, {MANAGERS} managers, "
        f"{len(CHANNEL_TIMES)} channels; median of {config.digest_iterations}",
        (
            "releases",
            "digests",
            "entries",
            "round trips",
            "by collection.method",
            "due ms",
            "messages ms",
            "total ms",
            "target ms",
            "verdict",
        ),
        [r.row() for r in runs],
    )
    shipped = [r for r in runs if r.build is not None and "year" not in r.label]
    constant = len({r.trips for r in shipped}) == 1
    trips = " and ".join(f"{r.trips} at {r.label}" for r in shipped)
    print(
        f"   round trips per digest run: {trips} releases — "
        + ("constant, not one per release: OK" if constant else "NOT constant")
    )
    print(facts)
    print(
        "   seeding (encode + insert_many + indexes + people): "
        + ", ".join(f"{r.seed_ms:.0f} ms at {r.label}" for r in shipped)
    )
    if rows:
        print_table(
            f"   Where the time goes at {LARGE:,} releases (each step once)",
            ("step", "ms"),
            rows,
        )


# -------------------------------------------------------------------------- b. reminders


@dataclass
class TokenBucket:
    """``rate`` tokens a second, at most ``capacity`` saved up; starts full."""

    rate: float
    capacity: float
    tokens: float = 0.0
    stamp: float = 0.0

    def __post_init__(self) -> None:
        self.refill()

    def refill(self) -> None:
        self.tokens, self.stamp = self.capacity, time.monotonic()

    def take(self) -> float:
        """0 if a token was taken, else the seconds until one will be there."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class RateLimitedSlack(FakeSlack):
    """The fake Slack with a token bucket per limited method: beyond it, HTTP 429 with a
    whole-second Retry-After (at least 1), as Slack answers. Rejected calls are not recorded
    as calls, only counted; accepted limited calls are timestamped."""

    limits: dict[str, TokenBucket] = field(default_factory=dict)
    rejected: Counter[str] = field(default_factory=Counter)
    accepted_at: list[float] = field(default_factory=list)

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        bucket = self.limits.get(method)
        if bucket is not None:
            wait = bucket.take()
            if wait > 0:
                self.rejected[method] += 1
                await request.read()
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(max(1, math.ceil(wait)))},
                )
        response = await super()._api(request)
        if method == "chat.postMessage":
            self.accepted_at.append(time.monotonic())
        return response


class Gcra:
    """Waiting rate limiter (generic cell rate algorithm): ``rate`` a second after an initial
    ``burst``; callers wait for their slot instead of being refused."""

    def __init__(self, rate: float, burst: int = 1) -> None:
        self._interval = 1 / rate
        self._slack = (burst - 1) * self._interval
        self._tat = 0.0  # theoretical arrival time of the next request

    async def wait(self) -> None:
        now = time.monotonic()
        tat = max(self._tat, now)
        start = max(now, tat - self._slack)
        self._tat = tat + self._interval
        if start > now:
            await asyncio.sleep(start - now)


class TunedClient(AsyncWebClient):
    """Candidate fixes for bot/slack_client.py, as a subclass of the shipped client:

    - ``pace``: each paced method goes through a client-side limiter, so Slack need not
      answer 429 (a rate the operator configures, e.g. SLACK_POST_RATE);
    - ``gate``: a 429 pauses every request of that method until Retry-After has passed, not
      only the one request that got it (slack_sdk's handler sleeps per request, plus up to
      1 s of random jitter); new requests wait at the gate instead of hitting Slack;
    - ``session`` (keyword, slack_sdk's own): one aiohttp session for every call, where the
      shipped client opens a new session (and connection) per call.
    """

    def __init__(
        self, *, pace: dict[str, Gcra], gate: bool, settings: Settings, **kwargs: Any
    ) -> None:
        shipped = build_client(settings)
        retries: list[AsyncRetryHandler] = [
            SharedRetryAfter(self, max_retry_count=3)
            if gate and isinstance(h, AsyncRateLimitErrorRetryHandler)
            else h
            for h in shipped.retry_handlers
        ]
        super().__init__(
            token=shipped.token,
            base_url=shipped.base_url,
            timeout=shipped.timeout,
            retry_handlers=retries,
            **kwargs,
        )
        self.pace = pace
        self.resume_at: dict[str, float] = {}

    async def _request(
        self, *, http_verb: str, api_url: str, req_args: dict[str, Any]
    ) -> dict[str, Any]:
        method = api_url.rstrip("/").rsplit("/", 1)[-1]
        await self.wait_gate(method)
        limiter = self.pace.get(method)
        if limiter is not None:
            await limiter.wait()
        answer: dict[str, Any] = await super()._request(
            http_verb=http_verb, api_url=api_url, req_args=req_args
        )
        return answer

    async def wait_gate(self, method: str) -> None:
        while (pause := self.resume_at.get(method, 0.0) - time.monotonic()) > 0:
            await asyncio.sleep(pause)


class SharedRetryAfter(AsyncRateLimitErrorRetryHandler):
    """On 429, close the method's gate for Retry-After seconds, then retry at once."""

    def __init__(self, client: TunedClient, *, max_retry_count: int) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._client = client

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            raise error or RuntimeError("no response to a rate-limited request")
        headers = {k.lower(): v for k, v in response.headers.items()}
        value = headers.get("retry-after") or "1"
        retry_after = float(value[0] if isinstance(value, list) else value)
        method = request.url.rstrip("/").rsplit("/", 1)[-1]
        gate = self._client.resume_at
        gate[method] = max(gate.get(method, 0.0), time.monotonic() + retry_after)
        await self._client.wait_gate(method)
        state.next_attempt_requested = True
        state.increment_current_attempt()


@dataclass(frozen=True)
class Variant:
    name: str
    concurrency: int = 8
    pace: tuple[float, int] | None = None  # client-side (rate, burst) for chat.postMessage
    gate: bool = False  # a 429 pauses every request of the method until Retry-After
    session: bool = False  # one aiohttp session for every Web API call
    limited: bool = True  # False: the fake Slack accepts everything (the bot's own speed)

    @property
    def shipped_client(self) -> bool:
        return self.pace is None and not self.gate and not self.session


SHIPPED = Variant("as shipped: SLACK_POST_RATE = R, concurrency 8, 429 retried 3 times")


@dataclass(frozen=True)
class Limits:
    rate: float
    burst: int
    open_rate: float | None  # conversations.open's own limit, None: unlimited

    def floor_s(self, posts: int) -> float:
        """The least time the bucket needs to accept ``posts`` chat.postMessage calls."""
        return max(0, posts - self.burst) / self.rate


@dataclass
class FanOut:
    variant: Variant
    due: int
    elapsed_s: float
    outcomes: Counter[str]
    failed_per_tick: list[int]
    delivered: int
    duplicates: int
    lost: int
    posts: int
    opens: int  # conversations.open calls accepted
    rejected: Counter[str]
    idle_s: float  # time in gaps of IDLE_GAP_S or more between accepted posts
    trips_per_reminder: float
    recorded: int  # approval messages recorded (so a decision updates the reminder too)

    @property
    def ticks(self) -> int:
        return len(self.failed_per_tick)

    @property
    def clean(self) -> bool:
        return self.lost == 0 and self.duplicates == 0 and self.delivered == self.due


def reminder_release(n: int, squad: str) -> Release:
    return sized_release(
        n,
        REMINDER_NOW.date() + timedelta(days=7 + n % 7),
        [squad],
        requested=REMINDER_NOW - REQUESTED_AGO,
        pending=PENDING_PER_RELEASE,
    )


@dataclass
class ReminderWorld:
    runtime: Runtime
    slack: RateLimitedSlack
    db: Database
    trips: RoundTrips
    clock: Callable[[], datetime]


@asynccontextmanager
async def reminder_world(
    uri: str, reminders: int, limits: Limits, post_rate: float = 0
) -> AsyncIterator[ReminderWorld]:
    """The rate-limited fake Slack, the bot's runtime on it over a fresh database, and
    ``reminders / 5`` releases with 5 pending approvals each, one decider per squad."""
    slack = RateLimitedSlack()
    await slack.start()
    started = time.monotonic()

    def clock() -> datetime:  # the reminder moment, advancing in real time (leases age)
        return REMINDER_NOW + timedelta(seconds=time.monotonic() - started)

    try:
        async with database(uri) as db:
            squads = [f"squad-{n:02d}" for n in range(DECIDERS)]
            releases = math.ceil(reminders / PENDING_PER_RELEASE)
            await db["releases"].insert_many(
                [to_document(reminder_release(n, squads[n % DECIDERS])) for n in range(releases)]
            )
            trips = RoundTrips()
            # As an operator would configure it: SLACK_POST_RATE at the workspace's allowance.
            settings = local_settings(
                slack,
                seed_data=SeedData.NONE,
                scheduler_enabled=False,
                slack_post_rate=post_rate,
            )
            runtime = await build_runtime(settings, clock=clock, db=trips.wrap(db))
            try:
                gatekeeper = await runtime.repos.roles.add(
                    role("gate-manager", Permission.CAN_MANAGE_QUALITY_GATES)
                )
                for n, squad in enumerate(squads):
                    slack_id, zone = f"UDECIDER{n:03d}", DECIDER_ZONES[n % len(DECIDER_ZONES)]
                    name = f"decider-{n:03d}"
                    await runtime.repos.users.add(
                        user(name, [gatekeeper], [squad], tz=zone, slack_id=slack_id)
                    )
                    slack.add_person(SlackPerson(slack_id, name, f"{name}@example.com", zone))
                slack.limits["chat.postMessage"] = TokenBucket(limits.rate, limits.burst)
                if limits.open_rate is not None:
                    burst = max(1, round(limits.open_rate))
                    slack.limits["conversations.open"] = TokenBucket(limits.open_rate, burst)
                yield ReminderWorld(runtime, slack, db, trips, clock)
            finally:
                runtime.close()
    finally:
        await slack.stop()


def posted_key(params: dict[str, Any], interval: int) -> str | None:
    """The reminder key a posted DM delivered: its approval (from the buttons) and its
    recipient (from the DM channel, "D" + Slack id)."""
    for block in params.get("blocks") or []:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            try:
                value = json.loads(element.get("value", ""))
            except ValueError:
                continue
            if isinstance(value, dict) and "approval_key" in value:
                channel = str(params.get("channel", ""))
                return f"{value['approval_key']}|{channel.removeprefix('D')}|{interval}"
    return None


async def fan_out(uri: str, reminders: int, limits: Limits, variant: Variant) -> FanOut:
    """N reminders due now, delivered tick after tick until no delivery failed."""
    paced = limits.rate if variant.limited and variant.shipped_client else 0
    async with reminder_world(uri, reminders, limits, paced) as world, AsyncExitStack() as stack:
        runtime, slack = world.runtime, world.slack
        interval = int(REQUESTED_AGO / DEFAULT_SCHEDULE.reminder_every)
        jobs = await runtime.deps.services.reminders.due(world.clock())
        slack_ids = {u.id: u.slack.user_id for u in await runtime.repos.users.all() if u.slack}
        expected = {
            f"{j.approval_key}|{slack_ids[j.recipient.user_id]}|{interval}": j.key for j in jobs
        }
        client = runtime.client
        if not variant.shipped_client:
            session = (
                await stack.enter_async_context(aiohttp.ClientSession())
                if variant.session
                else None
            )
            client = tuned_client(runtime.settings, variant, session)
        deliveries = (
            runtime.deliveries
            if variant.concurrency == 8 and variant.shipped_client
            else Deliveries(runtime.deps, client, concurrency=variant.concurrency)
        )
        await client.auth_test()  # the team id, which Deliveries asks once and keeps
        slack.calls.clear()
        for bucket in slack.limits.values():
            bucket.refill()
        if not variant.limited:
            slack.limits.clear()
        world.trips.reset()
        outcomes: Counter[str] = Counter()
        failed: list[int] = []
        started = time.monotonic()
        for _ in range(MAX_TICKS):
            report = await deliveries.run_once()
            outcomes.update(o.value for o in report.outcomes.values())
            failed.append(report.count(Outcome.FAILED))
            if failed[-1] == 0:
                break
        elapsed = time.monotonic() - started
        trips = world.trips.total
        per_key = Counter(posted_key(c.params, interval) for c in slack.of("chat.postMessage"))
        claims = (
            await world.db["claims"]
            .find({"key": {"$in": list(expected.values())}})
            .to_list(length=None)
        )
        done = {c["key"] for c in claims if c.get("done")}
        gaps = [b - a for a, b in itertools.pairwise([started, *slack.accepted_at])]
        return FanOut(
            variant=variant,
            due=len(jobs),
            elapsed_s=elapsed,
            outcomes=outcomes,
            failed_per_tick=failed,
            delivered=sum(1 for k in expected if per_key[k] >= 1),
            duplicates=sum(n - 1 if k in expected else n for k, n in per_key.items() if n),
            lost=sum(1 for k, key in expected.items() if per_key[k] != 1 or key not in done),
            posts=len(slack.of("chat.postMessage")),
            opens=len(slack.of("conversations.open")),
            rejected=Counter(slack.rejected),
            idle_s=sum(g for g in gaps if g >= IDLE_GAP_S),
            trips_per_reminder=trips / max(1, len(jobs)),
            recorded=await world.db["approval_messages"].count_documents({}),
        )


def tuned_client(
    settings: Settings, variant: Variant, session: aiohttp.ClientSession | None
) -> AsyncWebClient:
    pace = {} if variant.pace is None else {"chat.postMessage": Gcra(*variant.pace)}
    return TunedClient(pace=pace, gate=variant.gate, settings=settings, session=session)


def fan_out_row(result: FanOut, limits: Limits) -> list[str]:
    failed = "+".join(str(n) for n in result.failed_per_tick if n) or "0"
    common = [
        str(result.delivered),
        str(result.duplicates),
        str(result.lost),
        str(sum(result.rejected.values())),
        failed,
        str(result.ticks),
        f"{result.idle_s:.2f}",
    ]
    if not result.variant.limited:
        return [
            result.variant.name,
            str(result.due),
            f"{result.elapsed_s:.2f}",
            "",
            "",
            "",
            *common,
            "",
        ]
    floor = limits.floor_s(result.due)
    ratio = result.elapsed_s / floor if floor else math.inf
    allowed = result.elapsed_s / (floor + 1)
    return [
        result.variant.name,
        str(result.due),
        f"{result.elapsed_s:.2f}",
        f"{floor:.2f}",
        f"{ratio:.2f}",
        f"{allowed:.2f}",
        *common,
        verdict(allowed <= RATIO_TARGET and result.clean),
    ]


def candidates(config: Config, limits: Limits) -> list[Variant]:
    rate = limits.rate
    recommended = Variant(f"client paced at R = {rate:g}/s", pace=(rate, 1))
    if not config.variants:
        return [recommended] if config.fixes else []
    burst = max(1, round(rate))
    return [
        Variant("concurrency 32", concurrency=32),
        Variant("concurrency 128", concurrency=128),
        Variant("429 pauses all senders until Retry-After", gate=True),
        recommended,
        Variant(f"client paced at R, burst {burst}", pace=(rate, burst)),
        Variant("client paced at R + 429 pauses all", pace=(rate, 1), gate=True),
        Variant(f"paced at R, burst {burst} + 429 pauses all", pace=(rate, burst), gate=True),
        Variant("client paced at 2 R (set too high)", pace=(2 * rate, 1)),
        Variant("paced at 2 R + 429 pauses all", pace=(2 * rate, 1), gate=True),
    ]


async def reminder_table(
    uri: str, config: Config, limits: Limits, reminders: int, title: str, reference: bool
) -> list[FanOut]:
    """The main table (``reference``: with the bot's own speed and the shipped client as many
    times as configured) or a second one with the shipped client once."""
    plan = (
        ([Variant("no rate limit (the bot's own speed)", limited=False)] if reference else [])
        + [SHIPPED] * (config.shipped_runs if reference else 1)
        + candidates(config, limits)
    )
    if config.variants and reference:
        plan.insert(1, Variant("no rate limit, one aiohttp session", limited=False, session=True))
    results = [await fan_out(uri, reminders, limits, variant) for variant in plan]
    opened = (
        f"conversations.open {limits.open_rate:g}/s"
        if limits.open_rate
        else "conversations.open unlimited"
    )
    print_table(
        f"{title}: {results[0].due} reminder DMs through Deliveries.run_once; chat.postMessage "
        f"R = {limits.rate:g}/s after a burst of B = {limits.burst}, then 429 + Retry-After: 1; "
        f"{opened}",
        (
            "client",
            "due",
            "time s",
            "floor s",
            "ratio",
            "ratio +1 s",
            "delivered",
            "dup",
            "lost",
            "429s",
            "retries out",
            "ticks",
            "idle s",
            f"<= {RATIO_TARGET}x",
        ),
        [fan_out_row(r, limits) for r in results],
    )
    if limits.open_rate:
        shipped = next(r for r in results if r.variant is SHIPPED)
        floor = max(0, shipped.opens - round(limits.open_rate)) / limits.open_rate
        print(
            f"   conversations.open: {shipped.opens} calls for {shipped.due} DMs to {DECIDERS} "
            f"people (one per DM); at {limits.open_rate:g}/s they alone need {floor:.2f} s"
        )
    return results


async def bench_reminders(uri: str, config: Config, limits: Limits) -> None:
    results = await reminder_table(
        uri, config, limits, config.reminders, "b. Reminders", reference=True
    )
    if config.small_burst:
        small = Limits(limits.rate, max(1, round(limits.rate / 10)), limits.open_rate)
        results += await reminder_table(
            uri, config, small, config.reminders, "   Same with a bucket of R / 10", False
        )
    print(
        f"   floor = (N - B) / R; ratio = time / floor; ratio +1 s = time / (floor + 1 s), "
        f"the target (<= {RATIO_TARGET}) with Retry-After's 1 s granularity. 429s: refused "
        "calls; retries out: deliveries whose 429 retries ran out in each tick (claim "
        "released, sent by a later tick: +"
        f"{PRODUCTION_TICK_S:g} s each with the scheduler's tick); idle s: time in gaps of "
        f">= {IDLE_GAP_S * 1000:g} ms between accepted posts (no sender sending). The shipped "
        "client's time varies from run to run: slack_sdk sleeps Retry-After plus a random "
        "0-1 s"
    )
    print(
        "   dup: accepted posts beyond one per due key, or for no due key; lost: due keys "
        "without exactly one accepted post or without a completed claim"
    )
    trips = sorted({f"{r.trips_per_reminder:.1f}" for r in results})
    outcomes = sorted(
        {", ".join(f"{k} {v}" for k, v in sorted(r.outcomes.items())) for r in results}
    )
    recorded = all(r.recorded == r.delivered for r in results)
    print(
        f"   DB round trips per reminder (claim, record the DM, complete): {' to '.join(trips)}; "
        f"outcomes over all ticks: {'; '.join(outcomes)}; every delivered reminder recorded for "
        f"later updates: {'yes' if recorded else 'NO'}"
    )


# ----------------------------------------------------------------------------------- main


def print_environment(
    engine: str, args: argparse.Namespace, limits: Limits, config: Config
) -> None:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = ", ".join(
        f"{p} {metadata.version(p)}"
        for p in ("pydantic", "pymongo", "jinja2", "slack_sdk", "aiohttp", "apscheduler")
    )
    print(
        "releasebot digest and reminder benchmark"
        + (" (--quick)" if args.quick else "")
        + (" (--variants)" if args.variants else "")
    )
    print(f"python    {sys.version.split()[0]} ({platform.python_implementation()})")
    print(f"platform  {platform.platform()}, {cpus} CPUs usable")
    print(f"engine    {engine}")
    print(f"packages  {versions}")
    print(
        f"digests   {SMALL:,} and {LARGE:,} releases ({SHAPE[0]}x{SHAPE[1]}x{SHAPE[2]} "
        f"milestones), due at {DIGEST_NOW:%Y-%m-%d %H:%M} UTC, median of "
        f"{config.digest_iterations}; gc.freeze() after seeding"
    )
    print(
        f"reminders {config.reminders} due at {REMINDER_NOW:%Y-%m-%d %H:%M} UTC to {DECIDERS} "
        f"deciders; fake Slack chat.postMessage R = {limits.rate:g}/s, burst {limits.burst}; "
        + (
            f"conversations.open {limits.open_rate:g}/s"
            if limits.open_rate
            else "conversations.open unlimited"
        )
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="short run (about 15 s)")
    parser.add_argument(
        "--variants", action="store_true", help="every candidate fix for the reminders"
    )
    parser.add_argument(
        "--uri",
        default=os.environ.get("MONGO_URI") or EMBEDDED_URI,
        help="database to measure (default: MONGO_URI, else the embedded engine)",
    )
    parser.add_argument("--rate", type=float, default=100.0, help="R: chat.postMessage a second")
    parser.add_argument("--burst", type=int, default=None, help="B: bucket size (default R)")
    parser.add_argument("--reminders", type=int, default=None, help="N (default 500, quick 300)")
    parser.add_argument(
        "--open-rate", type=float, default=None, help="limit conversations.open too (per second)"
    )
    parser.add_argument("--only", choices=("digests", "reminders"), default=None)
    args = parser.parse_args(argv)
    if args.rate <= 0 or (args.open_rate is not None and args.open_rate <= 0):
        parser.error("rates must be positive")
    if (args.burst is not None and args.burst < 1) or (
        args.reminders is not None and args.reminders < 1
    ):
        parser.error("--burst and --reminders must be at least 1")
    return args


async def run(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    base = QUICK if args.quick else FULL
    config = Config(
        digest_iterations=base.digest_iterations,
        extras=base.extras,
        reminders=args.reminders or base.reminders,
        shipped_runs=base.shipped_runs,
        small_burst=base.small_burst and args.burst is None,
        fixes=base.fixes or args.variants,
        variants=args.variants,
    )
    limits = Limits(args.rate, args.burst or max(1, round(args.rate)), args.open_rate)
    print_environment(await describe_engine(args.uri), args, limits, config)
    if args.only in (None, "digests"):
        await bench_digests(args.uri, config)
    if args.only in (None, "reminders"):
        await bench_reminders(args.uri, config, limits)
    print(f"\ntotal {time.perf_counter() - started:.1f} s")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    # Failed deliveries are counted in the tables; their stack traces would drown them.
    logging.getLogger("bot.scheduler").setLevel(logging.CRITICAL)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
