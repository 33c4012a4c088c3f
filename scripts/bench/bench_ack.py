"""Ack benchmark (issue 10): how long Slack waits for the bot's HTTP 200, against a bare Bolt app.

    python -m scripts.bench.bench_ack                  # 4 kinds x concurrency 8, 32, 64
    python -m scripts.bench.bench_ack --quick          # a few requests at 8: it runs, no figure
    python -m scripts.bench.bench_ack --kinds approve --concurrency 64 --profile approve
    python -m scripts.bench.bench_ack --max-ratio 2    # judge against another threshold
    python -m scripts.bench.bench_ack --rate 100       # open loop: 100 requests a second

Each side in its own process, each started by scripts/bench/child.py:

- the bot (scripts/bench/app_server.py ``app="bot"``): built as the tests and the console
  build it (bot/runtime.py ``build_runtime``: embedded engine, demo data, the real aiohttp
  app), plus ``--releases`` releases of history and one upcoming release per Approve click,
  each with a UAT sign-off waiting for an approval manager;
- the bare Bolt app (the same module, ``app="bare"``; scripts/bench/bare_bolt.py): the same
  Bolt and signing secret, a listener per kind that only calls ``ack()``;
- the load client (scripts/bench/ack_client.py): signs each request as Slack does, sends it
  at a fixed concurrency and times it until the HTTP answer (the ack).

This process runs the fake Slack both servers' Web API calls and ``response_url`` posts go
to (bot/devtools/fake_slack.py), and checks each of the bot's answers after the ack. With two
CPUs or more the servers run on the first and this process and the client on the others
(``--no-pin``: wherever the OS puts them), so the app measured does not share its CPU with
the load it is measured by.

The kinds of request (``KINDS``), each as Slack sends it (bot/devtools/payloads.py):

- ``status``: `/release status REL-2026.12` as dana (squad member); answered after the ack;
- ``list``: `/release list` as rhea (release manager, sees every release); after the ack;
- ``approve``: arjun (approval manager) clicks Approve in an approval message, each click on a
  fresh pending approval (never one already decided); the decision is stored after the ack;
- ``submit``: rhea submits the new-release modal (the form the bot opened for `/release new`,
  as tests/bot/modal_support.py drives it), each with a release id of its own. Slack wants
  field errors in the ack, so the release is stored before the ack; the confirmation after.

For each concurrency (closed loop: each of C connections sends its next request as soon as
the last was answered; ``--rate`` makes it an open loop) and each kind: a warm-up on both
apps, then ``--requests`` measured per app in ``--rounds`` rounds, alternating which app goes
first. After each of the bot's rounds it waits until the bot finished what it does after its
acks (bot/deps.py ``settle``) and every answer reached the fake Slack, so one round's
after-ack work does not weigh on the next; the acks of a round do compete with that round's
after-ack work, as they would in one bot process.

The target (issue 10): each kind's ack p99 at each concurrency within ``--max-ratio`` (1.5)
x the bare Bolt app's p99 for the same kind and concurrency; a form submission within
``--max-ratio-stored`` (2.5): its ack carries the form's field errors, so the bot reads who is
submitting and stores the release before it, where the bare app only acks (commands and clicks
are acked before the bot reads anything). A benchmark, not a test: it
prints the table, then exits 1 naming every target missed (a ratio over the threshold, a
non-200 answer, an answer of the bot's missing or wrong), 0 when all are met. Beside the
latencies: each server's CPU per request (after-ack work included), how long the bot kept
working after a round's last ack, and the bot's longest garbage-collector pause (a full
collection stops every ack in flight). The machine's load average is printed with it:
figures from a machine busy with other work are noisy. ``--profile KIND`` cProfiles the bot
during that kind's rounds at the last concurrency and prints the top functions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from importlib import metadata
from typing import Any

import aiohttp

from blocks.ids import ActionId, EditField
from bot.devtools.driver import SlackDriver
from bot.devtools.fake_slack import TEAM_ID, Call, FakeSlack
from bot.devtools.harness import DEMO_PEOPLE, SIGNING_SECRET
from scripts.bench.ack_client import KEY, LoadClient, LoadPlan, load_client
from scripts.bench.app_server import MODULE as SERVER, ServerPlan
from scripts.bench.bench_core import exit_code, percentile, print_table
from scripts.bench.child import Child, running

MAX_RATIO = 1.5  # bot ack p99 / bare Bolt ack p99
# A form submission's ack carries its field errors, so the bot stores the release (and reads
# who is submitting) before acking; the bare app stores nothing. Judged against this instead.
MAX_RATIO_STORED = 2.5
CONCURRENCY = (8, 32, 64)
ANSWER_TIMEOUT_S = 60.0  # after settling: for answers sent outside the after-ack queues
QUICK = {"requests": 24, "warmup": 4, "concurrency": [8]}
DEFAULTS = {"requests": 400, "warmup": 50, "concurrency": list(CONCURRENCY)}
SUBMITTED = re.compile(r"BENCH-([A-Za-z0-9-]+)")  # a confirmation names the release created


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    request: str  # the load client's kind: "command" | "click" | "submission"
    user_id: str
    answer: str  # a regex the bot's answer (its Slack call, as JSON) must match
    text: str = ""
    action_id: str = ""


KINDS = {
    k.name: k
    for k in (
        Kind(
            "status",
            "`/release status REL-2026.12`, dana",
            "command",
            "UDANA",
            r"REL-2026\.12",
            text="status REL-2026.12",
        ),
        Kind("list", "`/release list`, rhea", "command", "URHEA", r"\*(?:REL|SIGN|BENCH)-", "list"),
        Kind(
            "approve",
            "Approve click, arjun (a fresh approval each)",
            "click",
            "UARJUN",
            r"Approved: SIGN-",
            action_id=ActionId.APPROVE,
        ),
        Kind("submit", "new-release modal submitted, rhea", "submission", "URHEA", r"created"),
    )
}


def new_release_state(today: datetime) -> dict[str, Any]:
    """The new-release form filled in, in Slack's state format (block → action → state);
    ``{key}`` makes each submission's release id its own."""

    def text(value: str) -> dict[str, Any]:
        return {"type": "plain_text_input", "value": value}

    def multi(value: str) -> dict[str, Any]:
        option = {"value": value, "text": {"type": "plain_text", "text": value}}
        return {"type": "multi_static_select", "selected_options": [option]}

    day = (today + timedelta(days=60)).date().isoformat()
    values: dict[str, dict[str, Any]] = {
        EditField.RELEASE_ID: text(f"BENCH-{KEY}"),
        EditField.RELEASE_NAME: text(f"Bench release {KEY}"),
        EditField.RELEASE_DATE: {"type": "datepicker", "selected_date": day},
        EditField.RELEASE_TYPE: {
            "type": "static_select",
            "selected_option": {"value": "minor", "text": {"type": "plain_text", "text": "minor"}},
        },
        EditField.SQUADS: multi("checkout"),
        EditField.APPLICATIONS: multi("checkout"),
        EditField.DESCRIPTION: text("Measured by the ack benchmark."),
    }
    return {str(block): {str(block): state} for block, state in values.items()}


# --------------------------------------------------------------------------------- results


@dataclass
class Side:
    """One app's measured requests of one cell."""

    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    cpu_s: float = 0.0  # the server process's, for these requests (after-ack work included)

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
    """One kind of request at one concurrency, on both apps."""

    kind: str
    concurrency: int
    bare: Side = field(default_factory=Side)
    bot: Side = field(default_factory=Side)
    settle_s: list[float] = field(default_factory=list)  # after each bot round
    wrong: list[str] = field(default_factory=list)  # bot answers missing or wrong
    gc: dict[str, dict[str, float]] = field(default_factory=dict)  # the bot's pauses, by gen
    heap: tuple[int, int] = (0, 0)  # objects the bot's collector tracks, of which frozen

    def gc_max_ms(self, key: str = "max_ms") -> float:
        return max((g[key] for g in self.gc.values()), default=0.0)

    @property
    def ratio(self) -> float:
        return self.bot.p(99) / self.bare.p(99)

    def misses(self, max_ratio: float) -> list[str]:
        where = f"{self.kind} at concurrency {self.concurrency}"
        found = []
        if self.ratio > max_ratio:
            found.append(
                f"{where}: ack p99 {self.bot.p(99):.1f} ms, {self.ratio:.2f}x the bare Bolt "
                f"app's {self.bare.p(99):.1f} ms (target ≤ {max_ratio:g}x)"
            )
        for name, side in (("bot", self.bot), ("bare Bolt", self.bare)):
            if side.bad_statuses():
                found.append(f"{where}: the {name} answered {side.bad_statuses()} (not 200)")
        if self.wrong:
            found.append(
                f"{where}: {len(self.wrong)} of the bot's answers missing or wrong "
                f"(first: {self.wrong[0][:200]})"
            )
        return found


@dataclass
class Report:
    cells: list[Cell]
    max_ratio: float
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    profile: dict[str, str] | None = None
    max_ratio_stored: float = MAX_RATIO_STORED

    def target(self, cell: Cell) -> float:
        """Kinds acked before storage: ``max_ratio``; a form submission, whose ack waits for
        its write: ``max_ratio_stored``."""
        stores = KINDS[cell.kind].request == "submission"
        return self.max_ratio_stored if stores else self.max_ratio

    def misses(self) -> list[str]:
        return [miss for cell in self.cells for miss in cell.misses(self.target(cell))]


# ------------------------------------------------------------------------------ answers


class Answers:
    """The bot's answers as they reach the fake Slack, by request key: a ``response_url``
    post (commands, clicks) or the ephemeral confirmation naming the release created."""

    def __init__(self, slack: FakeSlack) -> None:
        self.by_key: dict[str, list[dict[str, Any]]] = {}
        slack.on_call = self.on_call

    async def on_call(self, call: Call) -> None:
        if call.method == "response_url":
            key = str(call.params.get("key"))
        elif call.method == "chat.postEphemeral":
            found = SUBMITTED.search(str(call.params.get("text", "")))
            if found is None:
                return
            key = found.group(1)
        else:
            return
        self.by_key.setdefault(key, []).append(call.params)

    async def wait(self, keys: Sequence[str], timeout: float) -> None:
        began = time.perf_counter()
        while any(k not in self.by_key for k in keys) and time.perf_counter() - began < timeout:
            await asyncio.sleep(0.05)

    def wrong(self, keys: Sequence[str], expect: str) -> list[str]:
        """Why each of ``keys`` has no answer matching ``expect``."""
        found = []
        for key in keys:
            texts = [json.dumps(p, default=str) for p in self.by_key.get(key, [])]
            if not texts:
                found.append(f"{key}: no answer")
            elif not any(re.search(expect, t) for t in texts):
                found.append(f"{key}: {texts[-1][:300]}")
        return found


# ---------------------------------------------------------------------------- the bench


@dataclass
class Apps:
    bot: Child
    bare: Child
    loader: LoadClient
    answers: Answers
    base: LoadPlan  # what every load shares; the rest is set per load
    approve_values: Iterator[str]  # fresh pending approvals, one per click on the bot


def plan_for(
    apps: Apps, kind: Kind, count: int, tag: str, concurrency: int, rate: float | None, *, bot: bool
) -> LoadPlan:
    values: list[str] = []
    if kind.request == "click":  # the bare app acks any value
        values = [next(apps.approve_values) for _ in range(count)] if bot else ["-"] * count
    return replace(
        apps.base,
        url=(apps.bot if bot else apps.bare).url,
        kind=kind.request,
        user_id=kind.user_id,
        text=kind.text,
        action_id=kind.action_id,
        values=values,
        count=count,
        concurrency=concurrency,
        rate=rate,
        tag=tag,
    )


@dataclass(frozen=True)
class Loaded:
    result: dict[str, Any]  # the client's: latencies and statuses
    cpu_s: float  # the server's CPU for these requests, its after-ack work included
    settle_s: float  # how long the bot still worked after the last ack


async def load(apps: Apps, plan: LoadPlan, *, bot: bool) -> Loaded:
    """One load from the client process; for the bot, then wait until it has finished what
    it does after its acks."""
    server = apps.bot if bot else apps.bare
    before = (await server.ask({"cmd": "cpu"}))["s"]
    result = await apps.loader.load(plan)
    settled = float((await server.ask({"cmd": "settle"}))["s"]) if bot else 0.0
    return Loaded(result, (await server.ask({"cmd": "cpu"}))["s"] - before, settled)


def rounds(requests: int, count: int) -> list[int]:
    per_round = [requests // count] * count
    per_round[-1] += requests - sum(per_round)
    return per_round


async def measure(
    apps: Apps, kind: Kind, concurrency: int, args: argparse.Namespace, *, profile: bool
) -> tuple[Cell, dict[str, str] | None]:
    """A warm-up on both apps, then the measured rounds, alternating which app goes first."""
    cell = Cell(kind.name, concurrency)

    def plan(count: int, tag: str, bot: bool) -> LoadPlan:
        tag = f"{kind.name}-c{concurrency}-{tag}-"
        return plan_for(apps, kind, count, tag, concurrency, args.rate, bot=bot)

    await load(apps, plan(args.warmup, "w", False), bot=False)
    await load(apps, plan(args.warmup, "w", True), bot=True)
    await apps.bot.ask({"cmd": "gc"})  # counted from here
    if profile:
        await apps.bot.ask({"cmd": "profile", "on": True})
    for index, count in enumerate(rounds(args.requests, args.rounds)):
        for bot in (False, True) if index % 2 == 0 else (True, False):
            sent = plan(count, f"r{index}", bot)
            loaded = await load(apps, sent, bot=bot)
            (cell.bot if bot else cell.bare).add(loaded.result, loaded.cpu_s)
            if bot:
                cell.settle_s.append(loaded.settle_s)
                keys = [sent.key(n) for n in range(count)]
                await apps.answers.wait(keys, ANSWER_TIMEOUT_S)
                cell.wrong += apps.answers.wrong(keys, kind.answer)
    collected = await apps.bot.ask({"cmd": "gc"})
    cell.gc, cell.heap = collected["generations"], (collected["tracked"], collected["frozen"])
    if not profile:
        return cell, None
    answer = await apps.bot.ask({"cmd": "profile", "on": False, "top": args.profile_top})
    return cell, {
        "cell": f"{kind.name} at concurrency {concurrency}",
        **{k: str(answer[k]) for k in ("tottime", "cumulative")},
    }


async def new_release_form(slack: FakeSlack, url: str, session: aiohttp.ClientSession) -> Any:
    """The form the bot shows for `/release new` (its "Loading…" modal updated)."""
    driver = SlackDriver(url, SIGNING_SECRET, slack, session)
    reply = await driver.command("URHEA", "new")
    if reply.status != 200:
        raise RuntimeError(f"`/release new` was answered {reply.status}: {reply.text[:200]}")
    [*_, update] = await slack.wait_for("views.update", 1, timeout=30)
    return update.params["view"]


def cpu_split(pin: bool) -> tuple[list[int] | None, list[int] | None]:
    """The CPUs the servers run on, and those this process and the load client run on:
    the first one, and the others (none when not pinning or with a single CPU)."""
    usable = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if not pin or len(usable) < 2:
        return None, None
    return usable[:1], usable[1:]


async def bench(args: argparse.Namespace) -> Report:
    kinds = [KINDS[name] for name in args.kinds]
    clicks = sum(k.request == "click" for k in kinds) * (args.warmup + args.requests)
    report = Report([], args.max_ratio, os.getloadavg(), max_ratio_stored=args.max_ratio_stored)
    servers, others = cpu_split(args.pin)
    usable = os.sched_getaffinity(0) if others else set()
    if others:
        os.sched_setaffinity(0, others)  # this process, the fake Slack and the load client
    slack = FakeSlack()
    for person in DEMO_PEOPLE:
        slack.add_person(person)
    await slack.start()
    answers = Answers(slack)
    try:
        async with AsyncExitStack() as stack:
            print("starting the bot, the bare Bolt app and the load client …", flush=True)
            bot_plan = ServerPlan(
                slack.api_url, "bot", args.releases, clicks * len(args.concurrency), cpus=servers
            )
            bot = await stack.enter_async_context(running(SERVER, asdict(bot_plan)))
            bare_plan = ServerPlan(slack.api_url, "bare", cpus=servers)
            bare = await stack.enter_async_context(running(SERVER, asdict(bare_plan)))
            loader = await stack.enter_async_context(load_client())
            session = await stack.enter_async_context(aiohttp.ClientSession())
            seeded = bot.ready["seeded"]
            print(
                f"bot ready: {seeded['releases']:,} releases, {seeded['pending_approvals']:,} "
                f"pending approvals (started in {seeded['start_s']:.1f} s)",
                flush=True,
            )
            needs_form = any(k.request == "submission" for k in kinds)
            base = LoadPlan(
                url="",
                secret=SIGNING_SECRET,
                team_id=TEAM_ID,
                count=0,
                concurrency=1,
                user_id="",
                view=await new_release_form(slack, bot.url, session) if needs_form else {},
                state=new_release_state(datetime.now(UTC)),
                response_url=slack.response_url(""),
            )
            apps = Apps(bot, bare, loader, answers, base, iter(bot.ready["approve_values"]))
            for concurrency in args.concurrency:
                for kind in kinds:
                    profile = args.profile == kind.name and concurrency == args.concurrency[-1]
                    cell, profiled = await measure(apps, kind, concurrency, args, profile=profile)
                    report.cells.append(cell)
                    report.profile = profiled or report.profile
                    print(
                        f"  {kind.name:<8} C={concurrency:<3} p99 bare {cell.bare.p(99):6.1f} ms, "
                        f"bot {cell.bot.p(99):6.1f} ms: {cell.ratio:.2f}x; the bot's longest GC "
                        f"pause {cell.gc_max_ms():.0f} ms (CPU {cell.gc_max_ms('max_cpu_ms'):.0f}"
                        f" ms), {cell.heap[0]:,} objects tracked "
                        f"({cell.heap[1]:,} frozen)",
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
        f"{p} {metadata.version(p)}"
        for p in ("slack_bolt", "slack_sdk", "aiohttp", "mongomock-motor")
    )
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print("releasebot ack benchmark (issue 10)")
    print(f"python    {sys.version.split()[0]} ({platform.python_implementation()})")
    print(f"platform  {platform.platform()}, {cpus} CPUs usable")
    print(f"packages  {versions}")
    print("processes the bot (embedded engine, demo data), the bare Bolt app, the load client,")
    print("          each its own; the fake Slack in this one; logging at WARNING")
    servers, others = cpu_split(args.pin)
    if servers and others:
        print(f"cpus      servers on {servers}, the client and the fake Slack on {others}")
    pace = (
        f"open loop at {args.rate:g} req/s, at most C in flight"
        if args.rate
        else "closed loop at concurrency C"
    )
    levels = ", ".join(map(str, args.concurrency))
    print(
        f"load      {args.requests} requests per app, kind and C ({levels}), {pace}, "
        f"in {args.rounds} round(s), after a warm-up of {args.warmup}"
    )
    for kind in (KINDS[name] for name in args.kinds):
        print(f"          {kind.name:<8} {kind.label}")


def print_report(report: Report) -> None:
    rows = [
        [
            c.kind,
            str(c.concurrency),
            str(len(c.bot.latencies_ms)),
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
        "Time to HTTP 200 (ms) from the client process; target: bot p99 ≤ the target x bare "
        "Bolt p99",
        (
            "kind",
            "C",
            "n",
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
        "cpu ms/req: the server process's CPU per request, after-ack work included; bot busy "
        "after: the longest the bot took, after a round's last ack, to finish its after-ack "
        "work; bot gc: its longest garbage-collector pause (and how many full collections) "
        "while measured"
    )
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
        "--concurrency", "-c", type=int, nargs="+", help=f"default {list(CONCURRENCY)}"
    )
    parser.add_argument("--kinds", nargs="+", choices=list(KINDS), default=list(KINDS))
    parser.add_argument(
        "--max-ratio",
        type=float,
        default=MAX_RATIO,
        help=f"the target: bot ack p99 ≤ this x the bare Bolt app's (default {MAX_RATIO})",
    )
    parser.add_argument(
        "--max-ratio-stored",
        type=float,
        default=MAX_RATIO_STORED,
        help="the target of form submissions, which store before their ack "
        f"(default {MAX_RATIO_STORED})",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="open loop: start requests at this rate per second (at most C in flight) instead "
        "of each as soon as one is answered",
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
        help="let the OS place the processes (by default the server measured runs on the "
        "first CPU, this process, the fake Slack and the load client on the others)",
    )
    args = parser.parse_args(argv)
    for name, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.requests < args.rounds or min(args.rounds, args.warmup, *args.concurrency) < 1:
        parser.error("need requests ≥ rounds ≥ 1, warmup ≥ 1 and concurrency ≥ 1")
    if args.rate is not None and args.rate <= 0:
        parser.error("--rate must be positive")
    if args.releases < 0 or min(args.max_ratio, args.max_ratio_stored) <= 0:
        parser.error("need releases ≥ 0 and a positive --max-ratio and --max-ratio-stored")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("slack_bolt").setLevel(logging.ERROR)
    print_environment(args)
    report = asyncio.run(bench(args))
    print_report(report)
    return exit_code(report.misses())


if __name__ == "__main__":
    sys.exit(main())
