"""API benchmark (issue 11): the portal API's answer times, against a bare aiohttp app.

    python -m scripts.bench.bench_api                  # both kinds at concurrency 16
    python -m scripts.bench.bench_api --quick          # a few requests: it runs, no figure
    python -m scripts.bench.bench_api --kinds gate_result --profile gate_result
    python -m scripts.bench.bench_api --max-ratio 8    # judge against another threshold

Each side in its own process, each started by scripts/bench/child.py:

- the bot (scripts/bench/app_server.py ``app="bot"``): built as the tests and the console
  build it (bot/runtime.py ``build_runtime``: embedded engine, demo data, the real aiohttp
  app serving /api/v1 and /slack/events), with an API token of rhea's (``releases:read``,
  ``gates:write``) made through the core's AuthService once seeded;
- the bare app (the same module, ``app="bare_api"``; scripts/bench/bare_api.py): aiohttp
  with a handler per path measured that answers the bot's own answer for it, canned (the
  same size), doing no work;
- the load client (scripts/bench/api_client.py): sends the requests at a fixed concurrency
  and times each until its whole answer has arrived.

This process runs the fake Slack the bot's Web API calls go to (bot/devtools/fake_slack.py):
a gate changed may be announced. With two CPUs or more the servers run on the first and this
process and the client on the others (``--no-pin``: wherever the OS puts them).

The kinds of request (``KINDS``), with the token as the Bearer token:

- ``summary``: ``GET /api/v1/releases/REL-2026.12/summary`` (authenticate the token, read
  the release as rhea may see it, summarize its readiness);
- ``gate_result``: ``POST /api/v1/releases/REL-2026.12/products/payments-api/gates/
  Security%20scan/results``, PASSED and FAILED alternating, each from a CI run of its own and
  with an ``Idempotency-Key`` of its own, so each is a real change (the key kept, the release
  written under its version, the timeline entry, the events and what reacts to them). All the
  concurrent reports go to one gate of one release: the writes race for its version.

For each concurrency (closed loop: each of C connections sends its next request as soon as
the last was answered) and each kind: a warm-up on both apps, then ``--requests`` measured
per app in ``--rounds`` rounds, alternating which app goes first. After each of the bot's
rounds it waits until the bot finished what it does after its answers (bot/deps.py
``settle``: the reactions to the changes), so one round's after-work does not weigh on the
next; a round's answers do compete with that round's after-work, as in one bot process.

The targets (issue 11): each kind's p99 within a multiple of the bare app's p99 for the same
kind and concurrency. The bare app answers from memory; the bot does the request's real work,
and the multiple is that work's price, measured, with room for noise. At concurrency C a
saturated closed loop's p99 is about C x the CPU per request (x the tail), while the bare
side's p99 is bounded by the client; both were measured on a quiet 2-CPU machine:

- a read (``--max-ratio``, ``MAX_RATIO``, 9x): a summary costs the bot about 3 ms of CPU
  (authenticate the token: the token, its user and their roles; read and decode the release;
  summarize; serialize) against 0.2 ms; at C=16 that is a p99 of about 60 ms against 8.5 to
  10 ms, 6 to 7.3x. 9x fails a read that starts doing a third more work than that;
- a change (``--max-ratio-write``, ``MAX_RATIO_WRITE``, 60x): a gate report alone (C=1)
  costs the bot about 21 ms of CPU, its reactions included (the key, the release read and
  written, the timeline, the events); done once per report, 16 in flight wait about 16 x 21
  ms, a p99 of about 450 ms against about 10 ms: 45x. Over 60x means work beyond each
  report's own: writes retried because others got there first, entries handled again.

A benchmark, not a test: it prints the table, then exits 1 naming every target missed (a
ratio over its threshold, an answer not 200, an answer of the bot's that is wrong), 0 when all
are met. Beside the latencies: each server's CPU per request (after-work included), how long
the bot kept working after a round's last answer and its longest garbage-collector pause; the
machine's load average (figures from a busy machine are noisy). ``--profile KIND`` cProfiles
the bot during that kind's rounds at the last concurrency.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import sys
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import Any

import aiohttp

from bot.devtools.fake_slack import FakeSlack
from bot.devtools.harness import DEMO_PEOPLE
from scripts.bench.api_client import ApiLoadClient, ApiPlan, api_client
from scripts.bench.app_server import API_SCOPES, MODULE as SERVER, ServerPlan
from scripts.bench.bench_ack import Side, cpu_split, rounds
from scripts.bench.bench_core import exit_code, print_table
from scripts.bench.child import Child, running

MAX_RATIO = 9.0  # a read's bot p99 / bare aiohttp p99 (the docstring says why)
MAX_RATIO_WRITE = 60.0  # a change's (it writes the release, its timeline, its key)
CONCURRENCY = 16
API_USER = "rhea"  # a release manager: sees every release, may change gates
QUICK = {"requests": 24, "warmup": 4}
DEFAULTS = {"requests": 400, "warmup": 50}


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    writes: bool = False  # judged against --max-ratio-write


KINDS = {
    k.name: k
    for k in (
        Kind("summary", "GET …/releases/REL-2026.12/summary"),
        Kind(
            "gate_result",
            "POST …/products/payments-api/gates/Security%20scan/results, PASSED/FAILED "
            "alternating, an Idempotency-Key each",
            writes=True,
        ),
    )
}


# --------------------------------------------------------------------------------- results


@dataclass
class Cell:
    """One kind of request at one concurrency, on both apps."""

    kind: str
    concurrency: int
    bare: Side = field(default_factory=Side)
    bot: Side = field(default_factory=Side)
    bytes: dict[str, int] = field(default_factory=dict)  # the answers' mean size, per app
    settle_s: list[float] = field(default_factory=list)  # after each bot round
    wrong: list[str] = field(default_factory=list)  # the first few of the bot's wrong answers
    wrong_n: int = 0
    gc: dict[str, dict[str, float]] = field(default_factory=dict)  # the bot's pauses, by gen

    def gc_max_ms(self) -> float:
        return max((g["max_ms"] for g in self.gc.values()), default=0.0)

    @property
    def ratio(self) -> float:
        return self.bot.p(99) / self.bare.p(99)

    def misses(self, max_ratio: float) -> list[str]:
        where = f"{self.kind} at concurrency {self.concurrency}"
        found = []
        if self.ratio > max_ratio:
            found.append(
                f"{where}: p99 {self.bot.p(99):.1f} ms, {self.ratio:.2f}x the bare aiohttp "
                f"app's {self.bare.p(99):.1f} ms (target ≤ {max_ratio:g}x)"
            )
        for name, side in (("bot", self.bot), ("bare aiohttp app", self.bare)):
            if side.bad_statuses():
                found.append(f"{where}: the {name} answered {side.bad_statuses()} (not 200)")
        if self.wrong_n:
            found.append(
                f"{where}: {self.wrong_n} of the bot's answers wrong (first: {self.wrong[0]})"
            )
        return found


@dataclass
class Report:
    cells: list[Cell]
    max_ratio: float
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    paths: dict[str, str] = field(default_factory=dict)
    profile: dict[str, str] | None = None
    max_ratio_write: float = MAX_RATIO_WRITE

    def target(self, cell: Cell) -> float:
        return self.max_ratio_write if KINDS[cell.kind].writes else self.max_ratio

    def misses(self) -> list[str]:
        return [miss for cell in self.cells for miss in cell.misses(self.target(cell))]


# ---------------------------------------------------------------------------- the bench


@dataclass
class Apps:
    bot: Child
    bare: Child
    loader: ApiLoadClient
    token: str
    bot_url: str
    bare_url: str
    paths: dict[str, str]


async def load(apps: Apps, plan: ApiPlan, *, bot: bool) -> tuple[dict[str, Any], float, float]:
    """One load from the client process: its result, the server's CPU seconds for it (the
    bot's after-work included) and how long the bot still worked after the last answer."""
    server = apps.bot if bot else apps.bare
    before = (await server.ask({"cmd": "cpu"}))["s"]
    result = await apps.loader.load(plan)
    settled = float((await server.ask({"cmd": "settle"}))["s"]) if bot else 0.0
    return result, (await server.ask({"cmd": "cpu"}))["s"] - before, settled


async def measure(
    apps: Apps, kind: Kind, concurrency: int, args: argparse.Namespace, *, profile: bool
) -> tuple[Cell, dict[str, str] | None]:
    """A warm-up on both apps, then the measured rounds, alternating which app goes first."""
    cell = Cell(kind.name, concurrency)

    def plan(count: int, tag: str, bot: bool) -> ApiPlan:
        return ApiPlan(
            base_url=apps.bot_url if bot else apps.bare_url,
            path=apps.paths[kind.name],
            token=apps.token,
            count=count,
            concurrency=concurrency,
            kind=kind.name,
            tag=f"{kind.name}-c{concurrency}-{tag}-",
            check=bot,
        )

    await load(apps, plan(args.warmup, "w", False), bot=False)
    await load(apps, plan(args.warmup, "w", True), bot=True)
    await apps.bot.ask({"cmd": "gc"})  # counted from here
    if profile:
        await apps.bot.ask({"cmd": "profile", "on": True})
    for index, count in enumerate(rounds(args.requests, args.rounds)):
        for bot in (False, True) if index % 2 == 0 else (True, False):
            result, cpu_s, settled = await load(apps, plan(count, f"r{index}", bot), bot=bot)
            (cell.bot if bot else cell.bare).add(result, cpu_s)
            cell.bytes["bot" if bot else "bare"] = result["bytes"]
            if bot:
                cell.settle_s.append(settled)
                cell.wrong_n += result["wrong_n"]
                cell.wrong += result["wrong"]
    cell.gc = (await apps.bot.ask({"cmd": "gc"}))["generations"]
    if not profile:
        return cell, None
    answer = await apps.bot.ask({"cmd": "profile", "on": False, "top": args.profile_top})
    return cell, {
        "cell": f"{kind.name} at concurrency {concurrency}",
        **{k: str(answer[k]) for k in ("tottime", "cumulative")},
    }


async def bot_answers(
    session: aiohttp.ClientSession, base_url: str, token: str, paths: dict[str, str]
) -> dict[str, str]:
    """The bot's answer to one request of each kind (the bare app answers these), checking
    the token works before any load."""
    bodies = {}
    for name, path in paths.items():
        method, body, headers = ApiPlan(base_url, path, token, 1, 1, name, "setup-").request(0)
        async with session.request(method, base_url + path, data=body, headers=headers) as got:
            text = await got.text()
            if got.status != 200:
                raise RuntimeError(f"{method} {path} was answered {got.status}: {text[:300]}")
            bodies[name] = text
    return bodies


async def bench(args: argparse.Namespace) -> Report:
    kinds = [KINDS[name] for name in args.kinds]
    report = Report([], args.max_ratio, os.getloadavg(), max_ratio_write=args.max_ratio_write)
    servers, others = cpu_split(args.pin)
    usable = os.sched_getaffinity(0) if others else set()
    if others:
        os.sched_setaffinity(0, others)  # this process, the fake Slack and the load client
    slack = FakeSlack()
    for person in DEMO_PEOPLE:
        slack.add_person(person)
    await slack.start()
    try:
        async with AsyncExitStack() as stack:
            print("starting the bot, the bare aiohttp app and the load client …", flush=True)
            bot_plan = ServerPlan(
                slack.api_url, "bot", args.releases, cpus=servers, api_user=API_USER
            )
            bot = await stack.enter_async_context(running(SERVER, asdict(bot_plan)))
            api = bot.ready["api"]
            session = await stack.enter_async_context(aiohttp.ClientSession())
            bodies = await bot_answers(session, api["base_url"], api["token"], api["paths"])
            bare_plan = ServerPlan(slack.api_url, "bare_api", cpus=servers, bodies=bodies)
            bare = await stack.enter_async_context(running(SERVER, asdict(bare_plan)))
            loader = await stack.enter_async_context(api_client())
            seeded = bot.ready["seeded"]
            print(
                f"bot ready: {seeded['releases']:,} releases (started in "
                f"{seeded['start_s']:.1f} s); rhea's API token has {', '.join(API_SCOPES)}",
                flush=True,
            )
            report.paths = api["paths"]
            apps = Apps(bot, bare, loader, api["token"], api["base_url"], bare.url, api["paths"])
            for concurrency in args.concurrency:
                for kind in kinds:
                    profile = args.profile == kind.name and concurrency == args.concurrency[-1]
                    cell, profiled = await measure(apps, kind, concurrency, args, profile=profile)
                    report.cells.append(cell)
                    report.profile = profiled or report.profile
                    print(
                        f"  {kind.name:<11} C={concurrency:<3} p99 bare {cell.bare.p(99):6.1f} "
                        f"ms, bot {cell.bot.p(99):6.1f} ms: {cell.ratio:.2f}x",
                        flush=True,
                    )
    finally:
        await slack.stop()
        if usable:
            os.sched_setaffinity(0, usable)
    report.load_after = os.getloadavg()
    return report


# ------------------------------------------------------------------------------ printing


def print_environment(args: argparse.Namespace) -> None:
    versions = ", ".join(
        f"{p} {metadata.version(p)}" for p in ("aiohttp", "pydantic", "mongomock-motor")
    )
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print("releasebot API benchmark (issue 11)")
    print(f"python    {sys.version.split()[0]} ({platform.python_implementation()})")
    print(f"platform  {platform.platform()}, {cpus} CPUs usable")
    print(f"packages  {versions}")
    print("processes the bot (embedded engine, demo data), the bare aiohttp app, the load")
    print("          client, each its own; the fake Slack in this one; logging at WARNING")
    servers, others = cpu_split(args.pin)
    if servers and others:
        print(f"cpus      servers on {servers}, the client and the fake Slack on {others}")
    levels = ", ".join(map(str, args.concurrency))
    print(
        f"load      {args.requests} requests per app, kind and C ({levels}), closed loop at "
        f"concurrency C, in {args.rounds} round(s), after a warm-up of {args.warmup}; "
        f"{API_USER}'s API token"
    )
    for kind in (KINDS[name] for name in args.kinds):
        print(f"          {kind.name:<11} {kind.label}")


def print_report(report: Report) -> None:
    rows = [
        [
            c.kind,
            str(c.concurrency),
            str(len(c.bot.latencies_ms)),
            f"{c.bytes.get('bare', 0)}/{c.bytes.get('bot', 0)}",
            f"{c.bare.p(50):.1f}",
            f"{c.bare.p(99):.1f}",
            f"{c.bot.p(50):.1f}",
            f"{c.bot.p(99):.1f}",
            f"{c.ratio:.2f}",
            f"{c.bare.cpu_ms():.2f}",
            f"{c.bot.cpu_ms():.2f}",
            f"{max(c.settle_s, default=0.0):.1f}",
            f"{c.gc_max_ms():.0f} ({c.gc.get('2', {}).get('n', 0):.0f})",
            f"{report.target(c):g}x",
            "MISSED" if c.misses(report.target(c)) else "met",
        ]
        for c in report.cells
    ]
    print_table(
        "Time to the whole answer (ms) from the client process; target: bot p99 ≤ the target "
        "x bare aiohttp p99",
        (
            "kind",
            "C",
            "n",
            "bytes bare/bot",
            "bare p50",
            "bare p99",
            "bot p50",
            "bot p99",
            "p99 ratio",
            "bare cpu ms/req",
            "bot cpu ms/req",
            "bot busy after s",
            "bot gc max ms (full)",
            "target",
            "",
        ),
        rows,
    )
    print(
        "cpu ms/req: the server process's CPU per request, after-work included; bot busy "
        "after: the longest the bot took, after a round's last answer, to finish reacting; "
        "bot gc: its longest garbage-collector pause (and how many full collections)"
    )
    for name, path in report.paths.items():
        print(f"{name}: {path}")
    loads = " → ".join(
        " ".join(f"{v:.2f}" for v in load) for load in (report.load_before, report.load_after)
    )
    print(f"load average (1, 5, 15 min) before → after: {loads}")
    if report.profile:
        print(f"\nBot profile during {report.profile['cell']} (cProfile slows it: that cell's")
        print("figures are not comparable)")
        print(report.profile["tottime"])
        print(report.profile["cumulative"])


# ----------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"defaults {QUICK}: a smoke run")
    parser.add_argument("--requests", "-n", type=int, help="measured per app, kind and C (400)")
    parser.add_argument("--warmup", type=int, help="per app, kind and C (50)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--concurrency", "-c", type=int, nargs="+", default=[CONCURRENCY], help="default 16"
    )
    parser.add_argument("--kinds", nargs="+", choices=list(KINDS), default=list(KINDS))
    parser.add_argument(
        "--max-ratio",
        type=float,
        default=MAX_RATIO,
        help="the target of reads (summary): bot p99 ≤ this x the bare aiohttp app's "
        f"(default {MAX_RATIO:g})",
    )
    parser.add_argument(
        "--max-ratio-write",
        type=float,
        default=MAX_RATIO_WRITE,
        help=f"the target of changes (gate_result) (default {MAX_RATIO_WRITE:g})",
    )
    parser.add_argument(
        "--releases", type=int, default=0, help="releases of history besides the demo data"
    )
    parser.add_argument(
        "--profile",
        choices=list(KINDS),
        default=None,
        help="cProfile the bot while this kind's rounds run at the last concurrency",
    )
    parser.add_argument("--profile-top", type=int, default=30, help="functions shown")
    parser.add_argument(
        "--no-pin",
        dest="pin",
        action="store_false",
        help="let the OS place the processes (by default the servers run on the first CPU, "
        "this process, the fake Slack and the load client on the others)",
    )
    args = parser.parse_args(argv)
    for name, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.requests < args.rounds or min(args.rounds, args.warmup, *args.concurrency) < 1:
        parser.error("need requests ≥ rounds ≥ 1, warmup ≥ 1 and concurrency ≥ 1")
    if args.releases < 0 or min(args.max_ratio, args.max_ratio_write) <= 0:
        parser.error("need releases ≥ 0 and a positive --max-ratio and --max-ratio-write")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    print_environment(args)
    report = asyncio.run(bench(args))
    print_report(report)
    return exit_code(report.misses())


if __name__ == "__main__":
    sys.exit(main())
