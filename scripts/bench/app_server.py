"""The benchmarks' server process: the real bot over N releases, or the bare Bolt app.

    python -m scripts.bench.app_server '<json ServerPlan>'

Started by the benchmarks (scripts/bench/child.py), never by hand; each app in its own process,
so neither shares a CPU-bound event loop with the other, with the load client or with the
fake Slack (which runs in the benchmark's process and timestamps every answer as it arrives).

``app="bot"``: the bot as the tests and the console build it (bot/runtime.py
``build_runtime`` with the demo data, the embedded engine, the real aiohttp app on a free
port), its Web API calls going to ``slack_api_url``. Before the bot starts, the database gets
the demo data (core/seeds/demo.py, through the repositories), ``size`` releases of history
(scripts/bench/scale_history.py) and ``pending_approvals`` upcoming releases each with one
approval waiting for an approval manager (the ack benchmark's Approve clicks), encoded with
storage/codec.py ``to_document`` (the history in worker processes) and bulk-inserted with
``insert_many`` while the releases collection has no index: the embedded engine checks a
unique index by scanning the collection on every insert, so inserting into an indexed
collection is quadratic. The bot then starts over that database as it would after a restart,
creating its indexes (and running whatever start-up migration it has) once.

Digests: every manager's own digest is turned off and two channels are subscribed at a time
just before the seeding moment, so exactly two digests are due then (and no reminder:
approvals were asked for an hour before).

``app="bare"``: a Bolt app that only acks (scripts/bench/bare_bolt.py), the floor the bot's
acks are compared with.

For the API benchmark (scripts/bench/bench_api.py): with ``api_user``, the bot also makes an
API token acting as that demo user (``API_SCOPES``, through the core's AuthService, as
`/release admin token new` does) once seeded, and its ``ready`` carries ``api``: the token,
the API's base URL and the paths measured (the summary of ``API_RELEASE`` and the results of
its first product's first gate). ``app="bare_api"``: a bare aiohttp app
(scripts/bench/bare_api.py) answering the same paths with ``bodies``, doing nothing else.

First it prints ``ready`` (the URL; for the bot also the seeding times, what the history
holds and the Approve buttons' values), then answers these commands:

- ``{"cmd": "cpu"}`` — this process's CPU seconds so far.
- ``{"cmd": "gc"}`` — the garbage collector's pauses since the last ``gc``, by generation.
- ``{"cmd": "settle"}`` — (bot) wait until the answers and reactions still queued after the
  acks are done (bot/deps.py ``settle``); how long that took.
- ``{"cmd": "tick"}`` — (bot) forget the digest claims (untimed), then time one scheduler
  tick (bot/scheduler.py ``Deliveries.run_once`` at the seeding moment): its duration in ms
  and what it delivered.
- ``{"cmd": "profile", "on": true}`` / ``{"cmd": "profile", "on": false, "top": 25}`` —
  cProfile this process (start; stop and answer the top functions by own time and by
  cumulative time).
- ``{"cmd": "quit"}`` — stop.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import io
import json
import logging
import multiprocessing
import os
import pstats
import site
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from blocks.approvals import ApprovalTarget
from bot.devtools.harness import BOT_TOKEN, SIGNING_SECRET, listen
from bot.runtime import Runtime, build_runtime
from bot.server import EVENTS_PATH
from bot.settings import SeedData, Settings
from core.models.release import ApprovalStatus, Release
from core.models.schedule import DigestKind, DigestSubscription
from core.rules.principal import Principal, Scope
from core.seeds.demo import PENDING_APPROVALS_RELEASE, seed_demo_data
from core.services.schedule import MANAGER_FLAGS
from scripts.bench.bare_api import GATE_RESULT_PATH, SUMMARY_PATH, bare_api
from scripts.bench.bare_bolt import bare_bolt
from scripts.bench.child import ROOT, commands, emit
from scripts.bench.scale_history import Cast, History
from storage.codec import to_document
from storage.engine import Database, connect
from storage.wiring import open_repositories

BATCH = 1_000  # releases per insert_many
CHUNK = 2_500  # releases encoded per worker task
DIGEST_CHANNELS = ("C0DIGEST1", "C0DIGEST2")
TEAM_ID = "T0DEMO"
DB_NAME = "releasebot_bench"
SETTLE_TIMEOUT_S = 300.0  # a closed loop at concurrency 64 can queue minutes of answers
MODULE = "scripts.bench.app_server"
API_RELEASE = PENDING_APPROVALS_RELEASE  # the API benchmark's summary and gate
API_SCOPES = (Scope.RELEASES_READ, Scope.GATES_WRITE)


@dataclass(frozen=True)
class ServerPlan:
    slack_api_url: str
    app: str = "bot"  # "bot" | "bare" | "bare_api"
    size: int = 0  # releases of history
    pending_approvals: int = 0  # releases with one approval each, for Approve clicks
    cpus: list[int] | None = None  # serve on these CPUs only (once seeded)
    api_user: str = ""  # bot: make an API token acting as this demo user
    bodies: dict[str, str] | None = None  # bare_api: its answer per path kind


@dataclass(frozen=True)
class Seeded:
    """What the database held when the bot started, and how long it took to get there."""

    releases: int
    pending_approvals: int
    releases_with_pending: int
    oldest: str
    newest: str
    encode_s: float
    insert_s: float
    start_s: float  # build_runtime: indexes over the history, the demo seed (idempotent)
    workers: int


def encode_chunk(size: int, now: str, cast: dict[str, str], first: int, last: int) -> list[Any]:
    """Releases ``first``..``last - 1`` as documents (run in a worker process)."""
    history = History(size, datetime.fromisoformat(now), Cast(**cast))
    return [history.document(n) for n in range(first, last)]


def chunks(size: int) -> Iterator[tuple[int, int]]:
    for first in range(0, size, CHUNK):
        yield first, min(size, first + CHUNK)


async def encode_history(history: History) -> tuple[list[Any], int]:
    """The history as documents, encoded in worker processes when it is large."""
    workers = max(1, min(len(os.sched_getaffinity(0)), (history.size + CHUNK - 1) // CHUNK))
    if workers == 1:
        return list(history.documents()), workers
    cast = asdict(history.cast)
    now = history.now.isoformat()
    loop = asyncio.get_running_loop()
    # Spawned, not forked: this process already runs the embedded engine's thread, and a
    # fork copies its locks in whatever state they are in.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = await asyncio.gather(
            *(
                loop.run_in_executor(pool, encode_chunk, history.size, now, cast, first, last)
                for first, last in chunks(history.size)
            )
        )
    return [doc for part in parts for doc in part], workers


def approve_value(release: Release) -> str:
    """The Approve button's value for the one pending approval of ``release``."""
    product = release.products[0]
    gate = product.quality_gates[0]
    return ApprovalTarget(
        release=release.id,
        product=product.product_id,
        gate=gate.gate_name,
        milestone=gate.milestones[0].milestone_key,
    ).encode()


@dataclass
class Prepared:
    db: Database
    approve_values: list[str]
    encode_s: float
    insert_s: float
    workers: int


async def prepare(plan: ServerPlan, now: datetime) -> Prepared:
    """The demo data, then the history and the approvals to click (inserted in batches while
    the releases collection has no index)."""
    _, db = connect("mongomock://", DB_NAME)
    repos = await open_repositories(db)
    await seed_demo_data(repos)
    cast = Cast(
        admin_id=(await repos.users.get_by_username("admin")).id,
        manager_id=(await repos.users.get_by_username("rhea")).id,
        approver_id=(await repos.users.get_by_username("arjun")).id,
    )
    history = History(plan.size, now, cast)
    began = time.perf_counter()
    docs, workers = await encode_history(history)
    awaiting = [history.awaiting_approval(k) for k in range(plan.pending_approvals)]
    docs += [to_document(release) for release in awaiting]
    encoded = time.perf_counter() - began
    began = time.perf_counter()
    await db["releases"].drop_indexes()
    for start in range(0, len(docs), BATCH):
        await db["releases"].insert_many(docs[start : start + BATCH])
    inserted = time.perf_counter() - began
    return Prepared(db, [approve_value(r) for r in awaiting], encoded, inserted, workers)


async def subscribe_two_digests(runtime: Runtime, now: datetime) -> None:
    """Exactly two digests due at ``now``: two channels, and no manager's own digest."""
    repos = runtime.repos
    managers = await runtime.deps.services.identity.actors_with_any(MANAGER_FLAGS)
    owner = next(a for a in managers if a.user.username == "rhea")  # sees every release
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    at = max(midnight, now - timedelta(minutes=10)).time().replace(second=0, microsecond=0)
    for actor in managers:
        await repos.subscriptions.upsert(
            DigestSubscription(
                kind=DigestKind.PERSON,
                target=DigestSubscription.person_target(actor.user_id),
                user_id=actor.user_id,
                enabled=False,
                created_by=actor.user_id,
                created_at=now,
            )
        )
    for channel in DIGEST_CHANNELS:
        await repos.subscriptions.upsert(
            DigestSubscription(
                kind=DigestKind.CHANNEL,
                target=DigestSubscription.channel_target(TEAM_ID, channel),
                team_id=TEAM_ID,
                channel_id=channel,
                at=at,
                time_zone="UTC",
                created_by=owner.user_id,
                created_at=now,
            )
        )


async def describe(db: Database) -> dict[str, Any]:
    releases = db["releases"]
    pending = "products.quality_gates.milestones.approval.status"
    count = await releases.count_documents({})
    with_pending = await releases.count_documents({pending: ApprovalStatus.PENDING.value})
    approvals = 0
    async for doc in releases.find({pending: ApprovalStatus.PENDING.value}):
        for product in doc.get("products", []):
            for gate in product.get("quality_gates", []):
                for milestone in gate.get("milestones", []):
                    approvals += milestone["approval"]["status"] == ApprovalStatus.PENDING.value
    dates = releases.find({}, {"release_date": 1}).sort("release_date", 1)
    ordered = [d["release_date"] for d in await dates.to_list(length=None)]
    return {
        "releases": count,
        "releases_with_pending": with_pending,
        "pending_approvals": approvals,
        "oldest": f"{ordered[0]:%Y-%m-%d}",
        "newest": f"{ordered[-1]:%Y-%m-%d}",
    }


async def tick(runtime: Runtime, now: datetime) -> dict[str, Any]:
    await runtime.db["claims"].delete_many({"key": {"$regex": "^digest:"}})
    began = time.perf_counter()
    report = await runtime.deliveries.run_once(now)
    elapsed = (time.perf_counter() - began) * 1000
    outcomes: dict[str, int] = {}
    for key, outcome in report.outcomes.items():
        name = f"{key.split(':', 1)[0]} {outcome.value}"
        outcomes[name] = outcomes.get(name, 0) + 1
    return {"ms": elapsed, "outcomes": outcomes}


async def api_access(runtime: Runtime, username: str, base_url: str) -> dict[str, Any]:
    """An API token acting as ``username`` (made as `/release admin token new` makes one:
    through the AuthService, by the person), the base URL and the paths measured."""
    repos, services = runtime.repos, runtime.deps.services
    person = Principal(
        await services.identity.actor_for(await repos.users.get_by_username(username))
    )
    _, secret = await services.auth.create_token(person, "API benchmark", list(API_SCOPES))
    release = await repos.releases.get(API_RELEASE)
    product = release.products[0]
    values = {
        "release": release.release_id,
        "product": product.product_id,
        "gate": quote(product.quality_gates[0].gate_name, safe=""),
    }
    return {
        "token": secret,
        "base_url": base_url,
        "paths": {
            "summary": SUMMARY_PATH.format_map(values),
            "gate_result": GATE_RESULT_PATH.format_map(values),
        },
    }


def profile_top(profiler: cProfile.Profile, top: int) -> dict[str, str]:
    """The ``top`` functions by own time and by cumulative time, paths shortened."""
    prefixes = sorted({*site.getsitepackages(), str(ROOT)}, key=len, reverse=True)
    answer = {}
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats(order).print_stats(top)
        text = out.getvalue()
        for prefix in prefixes:
            text = text.replace(prefix + "/", "")
        answer[order] = text
    return answer


class GcPauses:
    """The garbage collector's pauses in this process (``gc.callbacks``), by generation: a
    full collection stops the event loop, acks included."""

    def __init__(self) -> None:
        self.began = (0.0, 0.0)
        self.pauses: dict[int, list[tuple[float, float]]] = {0: [], 1: [], 2: []}
        gc.callbacks.append(self.observe)

    def observe(self, phase: str, info: dict[str, int]) -> None:
        now = (time.perf_counter(), time.thread_time())
        if phase == "start":
            self.began = now
        else:
            wall, cpu = (1000 * (b - a) for a, b in zip(self.began, now, strict=True))
            self.pauses[info["generation"]].append((wall, cpu))

    def answer(self) -> dict[str, Any]:
        """Count, total and longest pause (ms, and its CPU ms: less when the process was
        waiting for a CPU meanwhile) per generation since the last answer; how many objects
        the collector tracks (a full collection walks those not frozen)."""
        summary = {
            str(gen): {
                "n": len(ms),
                "total_ms": sum(wall for wall, _ in ms),
                "max_ms": max((wall for wall, _ in ms), default=0.0),
                "max_cpu_ms": max((cpu for _, cpu in ms), default=0.0),
            }
            for gen, ms in self.pauses.items()
        }
        self.pauses = {0: [], 1: [], 2: []}
        tracked = {"tracked": len(gc.get_objects()), "frozen": gc.get_freeze_count()}
        return {"event": "gc", "generations": summary, **tracked}


class Profiling:
    """The ``profile`` command: cProfile this process between two commands."""

    def __init__(self) -> None:
        self.profiler: cProfile.Profile | None = None

    def answer(self, command: dict[str, Any]) -> dict[str, Any]:
        if command.get("on"):
            self.profiler = cProfile.Profile()
            self.profiler.enable()
            return {"event": "profile", "on": True}
        if self.profiler is None:
            return {"event": "error", "error": "no profile was started"}
        self.profiler.disable()
        top = profile_top(self.profiler, int(command.get("top", 25)))
        self.profiler = None
        return {"event": "profile", "on": False, **top}


async def serve_bot(plan: ServerPlan) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    prepared = await prepare(plan, now)
    settings = Settings.model_validate(
        {
            "slack_bot_token": BOT_TOKEN,
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": plan.slack_api_url,
            "mongo_uri": "mongomock://",
            "mongo_db_name": DB_NAME,
            "seed_data": SeedData.DEMO,
            "scheduler_enabled": False,
        }
    )
    began = time.perf_counter()
    runtime = await build_runtime(settings, db=prepared.db)
    started = time.perf_counter() - began
    await subscribe_two_digests(runtime, now)
    facts = await describe(prepared.db)
    seeded = Seeded(
        encode_s=prepared.encode_s,
        insert_s=prepared.insert_s,
        start_s=started,
        workers=prepared.workers,
        **facts,
    )
    runner, url = await listen(runtime.web_app())
    runtime.start_collector()  # as `python -m bot` does
    api = {"api": await api_access(runtime, plan.api_user, url)} if plan.api_user else {}
    url += EVENTS_PATH
    profiling, pauses = Profiling(), GcPauses()
    pin(plan)
    try:
        emit(
            {
                "event": "ready",
                "url": url,
                "now": now.isoformat(),
                "seeded": asdict(seeded),
                "approve_values": prepared.approve_values,
                **api,
            }
        )
        async for command in commands():
            if command["cmd"] == "settle":
                began = time.perf_counter()
                await runtime.deps.settle(SETTLE_TIMEOUT_S)
                emit({"event": "settled", "s": time.perf_counter() - began})
            elif command["cmd"] == "tick":
                emit({"event": "tick", **await tick(runtime, now)})
            else:
                emit(common(command, profiling, pauses))
    finally:
        await runner.cleanup()
        await runtime.deps.settle()
        runtime.close()


async def serve_bare(plan: ServerPlan) -> None:
    profiling, pauses = Profiling(), GcPauses()
    pin(plan)
    async with bare_bolt(plan.slack_api_url) as url:
        emit({"event": "ready", "url": url})
        async for command in commands():
            emit(common(command, profiling, pauses))


async def serve_bare_api(plan: ServerPlan) -> None:
    profiling, pauses = Profiling(), GcPauses()
    pin(plan)
    async with bare_api(plan.bodies or {}) as url:
        emit({"event": "ready", "url": url})
        async for command in commands():
            emit(common(command, profiling, pauses))


def pin(plan: ServerPlan) -> None:
    if plan.cpus:
        os.sched_setaffinity(0, plan.cpus)


def common(command: dict[str, Any], profiling: Profiling, pauses: GcPauses) -> dict[str, Any]:
    """The commands both apps answer."""
    if command["cmd"] == "cpu":
        return {"event": "cpu", "s": time.process_time()}
    if command["cmd"] == "gc":
        return pauses.answer()
    if command["cmd"] == "profile":
        return profiling.answer(command)
    return {"event": "error", "error": f"unknown command {command!r}"}


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("slack_bolt").setLevel(logging.ERROR)
    plan = ServerPlan(**json.loads(argv[0]))
    serve = {"bot": serve_bot, "bare": serve_bare, "bare_api": serve_bare_api}[plan.app]
    asyncio.run(serve(plan))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
