"""What the benchmarks that time the bot against a bare app share (bench_ack, bench_api).

Each measures kinds of request at a few concurrencies on two server processes (the bot and
a bare app answering the same requests doing no work) from a load-client process, and judges
the bot's p99 against a multiple of the bare app's. Here: the results (``Side``, ``Cell``,
``Report``), the rounds of one cell (``measure_cell``), the fake Slack and the CPU pinning
(``pinned_slack``), and the printing and arguments both share.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from bot.devtools.fake_slack import FakeSlack
from bot.devtools.harness import DEMO_PEOPLE
from scripts.bench.bench_core import percentile, print_table
from scripts.bench.child import Child

# --------------------------------------------------------------------------------- results


@dataclass
class Side:
    """One app's measured requests of one cell."""

    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    cpu_s: float = 0.0  # the server process's, for these requests (after-work included)

    def add(self, result: dict[str, Any], cpu_s: float) -> None:
        self.latencies_ms += result["latencies_ms"]
        self.statuses.update(result["statuses"])
        self.cpu_s += cpu_s

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)

    def cpu_ms(self) -> float:
        """Server CPU per request, ms."""
        return self.cpu_s * 1000 / max(1, len(self.latencies_ms))

    def bad_statuses(self) -> dict[str, int]:
        return {k: v for k, v in self.statuses.items() if k != "200"}


@dataclass
class Cell:
    """One kind of request at one concurrency, on both apps. A benchmark's own cell names
    what it times (``MEASURED``), its bare app (``BARE``) and says what was wrong."""

    MEASURED: ClassVar[str] = "p99"
    BARE: ClassVar[tuple[str, str]] = ("bare app", "bare app")  # in the ratio, in statuses

    kind: str
    concurrency: int
    bare: Side = field(default_factory=Side)
    bot: Side = field(default_factory=Side)
    settle_s: list[float] = field(default_factory=list)  # after each bot round
    gc: dict[str, dict[str, float]] = field(default_factory=dict)  # the bot's pauses, by gen
    heap: tuple[int, int] = (0, 0)  # objects the bot's collector tracks, of which frozen

    def gc_max_ms(self, key: str = "max_ms") -> float:
        return max((g[key] for g in self.gc.values()), default=0.0)

    @property
    def ratio(self) -> float:
        return self.bot.p(99) / self.bare.p(99)

    def wrong_misses(self, where: str) -> list[str]:
        """The bot's wrong answers, as misses."""
        return []

    def misses(self, max_ratio: float) -> list[str]:
        where = f"{self.kind} at concurrency {self.concurrency}"
        found = []
        if self.ratio > max_ratio:
            found.append(
                f"{where}: {self.MEASURED} {self.bot.p(99):.1f} ms, {self.ratio:.2f}x the "
                f"{self.BARE[0]}'s {self.bare.p(99):.1f} ms (target ≤ {max_ratio:g}x)"
            )
        for name, side in (("bot", self.bot), (self.BARE[1], self.bare)):
            if side.bad_statuses():
                found.append(f"{where}: the {name} answered {side.bad_statuses()} (not 200)")
        return found + self.wrong_misses(where)


C = TypeVar("C", bound=Cell)


@dataclass
class Report(Generic[C]):
    cells: list[C]
    max_ratio: float
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    profile: dict[str, str] | None = None

    def target(self, cell: C) -> float:
        return self.max_ratio

    def misses(self) -> list[str]:
        return [miss for cell in self.cells for miss in cell.misses(self.target(cell))]


# ---------------------------------------------------------------------------- the bench


@dataclass(frozen=True)
class Loaded:
    result: dict[str, Any]  # the client's: latencies and statuses
    cpu_s: float  # the server's CPU for these requests, its after-work included
    settle_s: float  # how long the bot still worked after the last answer


async def timed_load(
    server: Child, send: Callable[[], Awaitable[dict[str, Any]]], *, bot: bool
) -> Loaded:
    """One load (``send``) from the client process; for the bot, then wait until it has
    finished what it does after its answers."""
    before = (await server.ask({"cmd": "cpu"}))["s"]
    result = await send()
    settled = float((await server.ask({"cmd": "settle"}))["s"]) if bot else 0.0
    return Loaded(result, (await server.ask({"cmd": "cpu"}))["s"] - before, settled)


def rounds(requests: int, count: int) -> list[int]:
    per_round = [requests // count] * count
    per_round[-1] += requests - sum(per_round)
    return per_round


async def measure_cell(
    bot_server: Child,
    cell: Cell,
    args: argparse.Namespace,
    load: Callable[[int, str, bool], Awaitable[Loaded]],
    *,
    profile: bool,
) -> dict[str, str] | None:
    """A warm-up on both apps, then the measured rounds, alternating which app goes first.
    ``load(count, tag, bot)`` sends one load and records what the benchmark checks beyond
    the timings (``tag`` ``"w"``: a warm-up, nothing to record); this records the timings,
    the bot's settling and garbage collection, and returns its profile if ``profile``."""
    await load(args.warmup, "w", False)
    await load(args.warmup, "w", True)
    await bot_server.ask({"cmd": "gc"})  # counted from here
    if profile:
        await bot_server.ask({"cmd": "profile", "on": True})
    for index, count in enumerate(rounds(args.requests, args.rounds)):
        for bot in (False, True) if index % 2 == 0 else (True, False):
            loaded = await load(count, f"r{index}", bot)
            (cell.bot if bot else cell.bare).add(loaded.result, loaded.cpu_s)
            if bot:
                cell.settle_s.append(loaded.settle_s)
    collected = await bot_server.ask({"cmd": "gc"})
    cell.gc, cell.heap = collected["generations"], (collected["tracked"], collected["frozen"])
    if not profile:
        return None
    answer = await bot_server.ask({"cmd": "profile", "on": False, "top": args.profile_top})
    return {
        "cell": f"{cell.kind} at concurrency {cell.concurrency}",
        **{k: str(answer[k]) for k in ("tottime", "cumulative")},
    }


class Named(Protocol):
    @property
    def name(self) -> str: ...


K = TypeVar("K", bound=Named)


async def measure_all(
    report: Report[C],
    args: argparse.Namespace,
    kinds: Sequence[K],
    measure: Callable[[K, int, bool], Awaitable[tuple[C, dict[str, str] | None]]],
    line: Callable[[C], str],
) -> None:
    """Each kind at each concurrency: ``measure(kind, concurrency, profile)`` (profiling
    --profile's kind at the last concurrency), its cell kept and its ``line`` printed."""
    for concurrency in args.concurrency:
        for kind in kinds:
            profile = args.profile == kind.name and concurrency == args.concurrency[-1]
            cell, profiled = await measure(kind, concurrency, profile)
            report.cells.append(cell)
            report.profile = profiled or report.profile
            print(line(cell), flush=True)


def cpu_split(pin: bool) -> tuple[list[int] | None, list[int] | None]:
    """The CPUs the servers run on, and those this process and the load client run on:
    the first one, and the others (none when not pinning or with a single CPU)."""
    usable = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if not pin or len(usable) < 2:
        return None, None
    return usable[:1], usable[1:]


@contextlib.asynccontextmanager
async def pinned_slack(pin: bool) -> AsyncIterator[tuple[FakeSlack, list[int] | None]]:
    """The fake Slack (the demo people in it) running in this process, and the CPUs for the
    servers; while it runs, this process (and the client it starts) keeps off those CPUs."""
    servers, others = cpu_split(pin)
    usable = os.sched_getaffinity(0) if others else set()
    if others:
        os.sched_setaffinity(0, others)  # this process, the fake Slack and the load client
    slack = FakeSlack()
    for person in DEMO_PEOPLE:
        slack.add_person(person)
    await slack.start()
    try:
        yield slack, servers
    finally:
        await slack.stop()
        if usable:
            os.sched_setaffinity(0, usable)


# ------------------------------------------------------------------------------ printing


def print_environment_head(
    title: str, packages: Sequence[str], processes: tuple[str, str], pin: bool
) -> None:
    """The title, python, platform, packages, processes and CPUs lines."""
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in packages)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(title)
    print(f"python    {sys.version.split()[0]} ({platform.python_implementation()})")
    print(f"platform  {platform.platform()}, {cpus} CPUs usable")
    print(f"packages  {versions}")
    print(f"processes {processes[0]}")
    print(f"          {processes[1]}")
    servers, others = cpu_split(pin)
    if servers and others:
        print(f"cpus      servers on {servers}, the client and the fake Slack on {others}")


def print_cells(
    report: Report[C],
    title: str,
    extra: Sequence[tuple[str, Callable[[C], str]]] = (),
) -> None:
    """The table, a row a cell; ``extra`` columns (heading, value) after ``n``."""
    rows = [
        [
            c.kind,
            str(c.concurrency),
            str(len(c.bot.latencies_ms)),
            *(value(c) for _, value in extra),
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
    header = (
        "kind",
        "C",
        "n",
        *(heading for heading, _ in extra),
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
    )
    print_table(title, header, rows)


def print_load_and_profile(report: Report[C]) -> None:
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


def add_load_args(parser: argparse.ArgumentParser, quick: object) -> None:
    """--quick, --requests, --warmup and --rounds."""
    parser.add_argument("--quick", action="store_true", help=f"defaults {quick}: a smoke run")
    parser.add_argument("--requests", "-n", type=int, help="measured per app, kind and C (400)")
    parser.add_argument("--warmup", type=int, help="per app, kind and C (50)")
    parser.add_argument("--rounds", type=int, default=2)


def add_bot_args(parser: argparse.ArgumentParser, kinds: Sequence[str], pin_help: str) -> None:
    """--releases, --profile, --profile-top and --no-pin."""
    parser.add_argument(
        "--releases", type=int, default=0, help="releases of history besides the demo data"
    )
    parser.add_argument(
        "--profile",
        choices=list(kinds),
        default=None,
        help="cProfile the bot while this kind's rounds run at the last concurrency",
    )
    parser.add_argument("--profile-top", type=int, default=30, help="functions shown")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help=pin_help)


def parse_load_args(
    parser: argparse.ArgumentParser,
    argv: list[str] | None,
    quick: dict[str, Any],
    defaults: dict[str, Any],
) -> argparse.Namespace:
    """Parse, fill in the defaults (``quick``'s with --quick) and check the load's size."""
    args = parser.parse_args(argv)
    for name, value in (quick if args.quick else defaults).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.requests < args.rounds or min(args.rounds, args.warmup, *args.concurrency) < 1:
        parser.error("need requests ≥ rounds ≥ 1, warmup ≥ 1 and concurrency ≥ 1")
    return args
