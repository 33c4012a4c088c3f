"""The scale benchmark's server process: the real bot over N releases of history.

    python -m scripts.bench.scale_server '<json ServerPlan>'

Started by scripts/bench/bench_scale.py, never by hand. It builds the bot as the tests and the
console do (bot/runtime.py ``build_runtime`` with the demo data, the embedded engine, the real
aiohttp app on a free port), its Web API calls going to ``slack_api_url``: the fake Slack in
the benchmark's own process, which timestamps every answer as it arrives.

Before the bot starts, the database gets the demo data (core/seeds/demo.py, through the
repositories) and ``size`` releases of history (scripts/bench/scale_history.py), encoded with
storage/codec.py ``to_document`` in worker processes and bulk-inserted with ``insert_many``
while the releases collection has no index: the embedded engine checks a unique index by
scanning the collection on every insert, so inserting into an indexed collection is
quadratic. The bot then starts over that database as it would after a restart, creating its
indexes (and running whatever start-up migration it has) over the history once.

Digests: every manager's own digest is turned off and two channels are subscribed at a time
just before the seeding moment, so exactly two digests are due then (and no reminder:
approvals were asked for an hour before). A second aiohttp app on another port is a bare
Bolt app that only acks `/release` (scripts/bench/bare_bolt.py), the floor of the ack probe.

It talks to the benchmark over stdin and stdout, one JSON object a line (stdout carries only
those lines, each prefixed with ``MARK``; logs go to stderr). First it prints ``ready`` (the
URLs, the seeding times, what the history holds); then it answers these commands:

- ``{"cmd": "tick"}`` — forget the digest claims (untimed), then time one scheduler tick
  (bot/scheduler.py ``Deliveries.run_once`` at the seeding moment): its duration in ms and
  what it delivered.
- ``{"cmd": "profile", "on": true}`` / ``{"cmd": "profile", "on": false, "top": 25}`` —
  cProfile this process (start; stop and answer the top functions by own time and by
  cumulative time).
- ``{"cmd": "quit"}`` — stop.
"""

from __future__ import annotations

import asyncio
import cProfile
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
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.devtools.harness import BOT_TOKEN, SIGNING_SECRET
from bot.runtime import Runtime, build_runtime
from bot.server import EVENTS_PATH
from bot.settings import SeedData, Settings
from core.models.release import ApprovalStatus
from core.models.schedule import DigestKind, DigestSubscription
from core.seeds.demo import seed_demo_data
from core.services.schedule import MANAGER_FLAGS
from scripts.bench.bare_bolt import bare_bolt
from scripts.bench.scale_history import Cast, History
from storage.engine import Database, connect
from storage.wiring import open_repositories

MARK = "@@scale "
BATCH = 1_000  # releases per insert_many
CHUNK = 2_500  # releases encoded per worker task
DIGEST_CHANNELS = ("C0DIGEST1", "C0DIGEST2")
TEAM_ID = "T0DEMO"
DB_NAME = "releasebot_scale"
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ServerPlan:
    size: int
    slack_api_url: str


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


def emit(message: dict[str, Any]) -> None:
    sys.stdout.write(MARK + json.dumps(message) + "\n")
    sys.stdout.flush()


def encode_chunk(size: int, now: str, cast: dict[str, str], first: int, last: int) -> list[Any]:
    """Releases ``first``..``last - 1`` as documents (run in a worker process)."""
    history = History(size, datetime.fromisoformat(now), Cast(**cast))
    return [history.document(n) for n in range(first, last)]


def chunks(size: int) -> Iterator[tuple[int, int]]:
    for first in range(0, size, CHUNK):
        yield first, min(size, first + CHUNK)


async def seed_history(db: Database, history: History) -> tuple[float, float, int]:
    """Encode the history in worker processes and insert it in batches, without indexes."""
    workers = max(1, min(len(os.sched_getaffinity(0)), (history.size + CHUNK - 1) // CHUNK))
    cast = asdict(history.cast)
    now = history.now.isoformat()
    loop = asyncio.get_running_loop()
    began = time.perf_counter()
    docs: list[Any] = []
    if workers == 1:
        docs = list(history.documents())
    else:
        # Spawned, not forked: this process already runs the embedded engine's thread, and
        # a fork copies its locks in whatever state they are in.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            parts = await asyncio.gather(
                *(
                    loop.run_in_executor(pool, encode_chunk, history.size, now, cast, first, last)
                    for first, last in chunks(history.size)
                )
            )
        docs = [doc for part in parts for doc in part]
    encoded = time.perf_counter() - began
    began = time.perf_counter()
    await db["releases"].drop_indexes()
    for start in range(0, len(docs), BATCH):
        await db["releases"].insert_many(docs[start : start + BATCH])
    return encoded, time.perf_counter() - began, workers


async def prepare(plan: ServerPlan, now: datetime) -> tuple[Database, History, float, float, int]:
    """The demo data, then the history (the releases collection without indexes)."""
    _, db = connect("mongomock://", DB_NAME)
    repos = await open_repositories(db)
    await seed_demo_data(repos)
    cast = Cast(
        admin_id=(await repos.users.get_by_username("admin")).id,
        manager_id=(await repos.users.get_by_username("rhea")).id,
        approver_id=(await repos.users.get_by_username("arjun")).id,
    )
    history = History(plan.size, now, cast)
    encoded, inserted, workers = await seed_history(db, history)
    return db, history, encoded, inserted, workers


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


async def serve(plan: ServerPlan) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    db, history, encoded, inserted, workers = await prepare(plan, now)
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
    runtime = await build_runtime(settings, db=db)
    started = time.perf_counter() - began
    await subscribe_two_digests(runtime, now)
    facts = await describe(db)
    seeded = Seeded(encode_s=encoded, insert_s=inserted, start_s=started, workers=workers, **facts)
    runner = web.AppRunner(runtime.web_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    profiler: cProfile.Profile | None = None
    try:
        async with bare_bolt() as floor:
            emit(
                {
                    "event": "ready",
                    "url": f"http://127.0.0.1:{port}{EVENTS_PATH}",
                    "bare_url": floor.url,
                    "now": now.isoformat(),
                    "seeded": asdict(seeded),
                }
            )
            while True:
                line = await asyncio.to_thread(sys.stdin.readline)
                if not line:
                    break
                command = json.loads(line)
                if command["cmd"] == "quit":
                    break
                if command["cmd"] == "tick":
                    emit({"event": "tick", **await tick(runtime, now)})
                elif command["cmd"] == "profile" and command.get("on"):
                    profiler = cProfile.Profile()
                    profiler.enable()
                    emit({"event": "profile", "on": True})
                elif command["cmd"] == "profile" and profiler is not None:
                    profiler.disable()
                    top = int(command.get("top", 25))
                    emit({"event": "profile", "on": False, **profile_top(profiler, top)})
                    profiler = None
                else:
                    emit({"event": "error", "error": f"unknown command {command!r}"})
    finally:
        await runner.cleanup()
        await runtime.deps.after_ack.drain()
        runtime.close()


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("slack_bolt").setLevel(logging.ERROR)
    plan = ServerPlan(**json.loads(argv[0]))
    asyncio.run(serve(plan))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
