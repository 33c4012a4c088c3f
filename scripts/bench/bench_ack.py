"""Ack benchmark: how long Slack waits for the bot's HTTP 200, against a bare Bolt app.

    python -m scripts.bench.bench_ack                       # N=400, C=8, 50 warm-up each
    python -m scripts.bench.bench_ack --requests 1000 --concurrency 16
    python -m scripts.bench.bench_ack --rate 100      # open loop: 100 requests a second

Starts, in this process and on free ports, the bot exactly as the tests and the console
run it (bot/devtools/harness.py ``local_bot``: embedded engine, demo data, the real aiohttp
app, Web API calls to an in-process fake Slack) and a bare Bolt app that only acks
`/release` (scripts/bench/bare_bolt.py). A separate client process
(scripts/bench/ack_client.py) sends signed `/release status REL-2026.12` commands as dana
at a fixed concurrency to each, after a warm-up (so the identity cache is warm), and
measures the time to the HTTP answer. Measurement alternates between the two apps in
rounds. By default the load is a closed loop (each of C connections sends its next request
as soon as the last was answered), which saturates a single event loop: latency then
reflects the whole CPU cost of a request, after-ack work included. ``--rate`` makes it an
open loop at a fixed arrival rate, latency counted from when each request was due.

The bot acks first and renders the status after the ack, posting it to the fake's
response_url; that work, and the fake Slack receiving it, run on the same event loop as
the acks, so they compete with them, as they would in one bot process. Each round waits
until every status was posted before the next starts. A benchmark, not a test: it
prints a table and exits 0 whether or not the target (p99 ratio ≤ 1.5) is met.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from bot.devtools.fake_slack import FakeSlack
from bot.devtools.harness import SIGNING_SECRET, local_bot
from bot.server import EVENTS_PATH
from scripts.bench.ack_client import LoadPlan
from scripts.bench.bare_bolt import bare_bolt

TARGET_P99_RATIO = 1.5
PERSONA = "UDANA"
COMMAND = "status REL-2026.12"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Target:
    name: str
    url: str
    slack: FakeSlack
    expects_posts: bool  # the bot posts one status per command after the ack
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    wall: float = 0.0
    cpu: float = 0.0  # this process's CPU seconds while the app was loaded
    sent: int = 0
    drain_ms: list[float] = field(default_factory=list)


async def run_client(plan: LoadPlan) -> dict[str, Any]:
    """The load generator in its own process; its JSON answer."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "scripts.bench.ack_client",
        json.dumps(asdict(plan)),
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env=env,
    )
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the client process failed ({process.returncode})")
    result: dict[str, Any] = json.loads(out)
    return result


async def load(
    target: Target, count: int, concurrency: int, tag: str, rate: float | None = None
) -> dict[str, Any]:
    plan = LoadPlan(
        url=target.url,
        secret=SIGNING_SECRET,
        count=count,
        concurrency=concurrency,
        user_id=PERSONA,
        text=COMMAND,
        response_url=target.slack.response_url(""),
        tag=tag,
        rate=rate,
    )
    cpu = time.process_time()
    result = await run_client(plan)
    target.sent += count
    if target.expects_posts:
        target.drain_ms.append(await drained(target))
    result["cpu_s"] = time.process_time() - cpu
    return result


async def drained(target: Target, timeout: float = 60.0) -> float:
    """Wait until the bot posted every status it owes; ms from now until it had."""
    began = time.perf_counter()
    await target.slack.wait_for("response_url", target.sent, timeout=timeout)
    return (time.perf_counter() - began) * 1000


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def row(name: str, t: Target) -> str:
    v = t.latencies
    return (
        f"{name:<24}{len(v):>6}{percentile(v, 50):>9.2f}{percentile(v, 95):>9.2f}"
        f"{percentile(v, 99):>9.2f}{max(v):>9.2f}{statistics.fmean(v):>9.2f}"
        f"{len(v) / t.wall:>9.0f}{t.cpu * 1000 / len(v):>10.2f}"
    )


def print_environment(args: argparse.Namespace) -> None:
    versions = ", ".join(
        f"{p} {metadata.version(p)}"
        for p in ("slack_bolt", "slack_sdk", "aiohttp", "mongomock-motor")
    )
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print("releasebot ack benchmark")
    print(f"python    {sys.version.split()[0]} ({platform.python_implementation()})")
    print(f"platform  {platform.platform()}, {cpus} CPUs usable")
    print(f"packages  {versions}")
    print("bot       local_bot: embedded engine (mongomock://), demo data, real aiohttp app,")
    print("          Web API + response_url to an in-process fake Slack; logging at WARNING")
    print(f"load      `/release {COMMAND}` as dana, signed, from a separate process;")
    pace = (
        f"open loop at {args.rate:g} req/s, at most {args.concurrency} in flight"
        if args.rate
        else f"closed loop at concurrency {args.concurrency}"
    )
    print(
        f"          {args.requests} requests per app, {pace}, in {args.rounds} round(s), "
        f"after a warm-up of {args.warmup} each"
    )


def print_results(bare: Target, bot: Target) -> None:
    print()
    heads = "".join(f"{h:>9}" for h in ("p50", "p95", "p99", "max", "mean", "req/s"))
    print(f"{'time to HTTP 200 (ms)':<24}{'n':>6}{heads}{'cpu ms/req':>11}")
    print(row("bare Bolt (ack only)", bare))
    print(row("releasebot", bot))
    ratios = [percentile(bot.latencies, p) / percentile(bare.latencies, p) for p in (50, 95, 99)]
    print(f"{'ratio bot / bare':<30}" + "".join(f"{r:>9.2f}" for r in ratios))
    for t in (bare, bot):
        bad = {k: v for k, v in t.statuses.items() if k != "200"}
        if bad:
            print(f"!! {t.name}: non-200 answers {bad}")
    posts = bot.slack.of("response_url")
    in_channel = sum(1 for c in posts if c.params.get("response_type") == "in_channel")
    print()
    print(
        f"after its acks the bot posted {len(posts)} of {bot.sent} statuses to the response_url "
        f"({in_channel} in the channel); each round's last one landed at most "
        f"{max(bot.drain_ms):.0f} ms after the round's last ack"
    )
    print(
        "cpu ms/req: this process's CPU per request (the app, its after-ack work and the fake "
        "Slack it posts to); the client runs in another process"
    )
    verdict = "met" if ratios[2] <= TARGET_P99_RATIO else "NOT met"
    print(f"p99 ratio {ratios[2]:.2f} — target ≤ {TARGET_P99_RATIO}: {verdict}")


async def bench(args: argparse.Namespace) -> None:
    print_environment(args)
    async with local_bot() as running, bare_bolt() as floor:
        bot = Target("releasebot", running.url + EVENTS_PATH, running.slack, True)
        bare = Target("bare Bolt", floor.url, floor.slack, False)
        for target in (bot, bare):
            await load(target, args.warmup, args.concurrency, "warm")
        per_round = [args.requests // args.rounds] * args.rounds
        per_round[-1] += args.requests - sum(per_round)
        for index, count in enumerate(per_round):
            order = (bare, bot) if index % 2 == 0 else (bot, bare)
            for target in order:
                result = await load(target, count, args.concurrency, f"r{index}", args.rate)
                target.latencies += result["latencies_ms"]
                target.wall += result["wall_s"]
                target.cpu += result["cpu_s"]
                for status, n in result["statuses"].items():
                    target.statuses[status] = target.statuses.get(status, 0) + n
        print_results(bare, bot)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--requests", "-n", type=int, default=400)
    parser.add_argument("--concurrency", "-c", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="open loop: start requests at this rate per second (at most --concurrency "
        "in flight) instead of each as soon as one is answered",
    )
    args = parser.parse_args(argv)
    if args.requests < args.rounds or min(args.concurrency, args.rounds, args.warmup) < 1:
        parser.error("need requests ≥ rounds ≥ 1, concurrency ≥ 1 and warmup ≥ 1")
    if args.rate is not None and args.rate <= 0:
        parser.error("--rate must be positive")
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("slack_bolt").setLevel(logging.ERROR)
    asyncio.run(bench(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
