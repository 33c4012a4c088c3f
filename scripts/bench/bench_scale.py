"""Scale benchmark (issue 10): how the bot's answers grow with the release history.

    python -m scripts.bench.bench_scale                        # 1,000 / 10,000 / 50,000
    python -m scripts.bench.bench_scale --sizes 1000 5000      # a quick run
    python -m scripts.bench.bench_scale --profile list         # + where `list` spends its time

Measured from outside, like Slack sees it. For each size a fresh server process
(scripts/bench/app_server.py) builds the real bot as the tests do (bot/runtime.py
``build_runtime``: embedded engine ``mongomock://`` in memory, the demo data, the real aiohttp
app on a free port) over that many releases of history (scripts/bench/scale_history.py: a
team shipping 2,000 releases a year; the newest ones, the pending approvals and the digests'
window are the same at every size, only the past grows). This process is the client: it runs
the fake Slack (bot/devtools/fake_slack.py) the server's SLACK_API_URL points at, sends each
request signed as Slack signs it, and timestamps the answer when it reaches the fake Slack.

Latency = from the signed request being sent to its answer arriving: the response_url post
for a slash command, the views.publish for App Home. One request at a time (no queueing
behind another). The operations, per size:

- ``list`` as rhea (release manager, sees every release): the first page; a search by id
  prefix (one application's month); a search by a name word (1 release in 20 has it);
- ``approvals`` as arjun (approval manager);
- App Home (``app_home_opened``) for rhea, and for dana (squad member: one squad of three);
- a scheduler tick with two digests due: bot/scheduler.py ``Deliveries.run_once`` at the
  seeding moment, timed inside the server (it has no request to time from outside); the
  client asks for it on the server's stdin, the claims of the previous run are forgotten
  first (untimed), and its two digests are posted to this process's fake Slack.

Each operation gets up to ``--warmup`` warm-up requests (the identity cache is warm after the
first; warm-up stops after ``WARMUP_BUDGET_S``), then ``--requests`` measured ones, fewer
when slow: it stops after ``--budget`` seconds once it has ``--min-requests``, and after
``HARD_STOP`` x ``--budget`` even short of them (one at least), the n of each figure printed
beside it. A fast build gets 30 samples per operation and the three sizes take about four
minutes on 2 cores (a minute and a half of it seeding 50,000); a slow build gets fewer and
takes longer (before the embedded engine used indexes, `list` at 50,000 got no answer
within the bot's 30 s after-ack limit, and the run took about 25 minutes). Every answer is
checked (a release id of the history in a list, Home showing dana only her squad's
releases, two digests delivered by each tick); one that fails the check or never arrives
counts as missed, a missed target.

Targets (issue 10): each operation's median at the largest size is within 1.5x of the
smallest size's (``FLAT``), and its median is under 150 ms (``CEILING_MS``) at every size
(``--stat p95`` judges the p95 instead). The ack probe, at the largest size, last: acks at
10/s (scripts/bench/ack_client.py in its own process, open loop, at most
``PROBE_IN_FLIGHT`` in flight as Slack does not wait, `/release help` as dana: its answer
costs the same at every size, so the probe adds no load of its own that grows) for
``--probe-seconds`` while this process keeps `list` and App Home (rhea) running back to back;
against the same probe sent to a bare Bolt app that only acks (scripts/bench/bare_bolt.py,
in a process of its own, while the bot is idle): the bot's ack p99 within 1.5x the bare
app's. ``--probe-seconds 0`` skips it. ``--profile OPERATION`` cProfiles the server (at the
largest size, before the probe) while that operation runs, and prints the top functions.

A benchmark, not a test: it prints the tables either way and exits 1 when a target is
missed (naming which), 0 when all are met. The embedded engine is pure Python in the
server's process and its event loop; a real MongoDB would move the queries' CPU elsewhere.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from importlib import metadata
from typing import Any

import aiohttp

from bot.devtools.fake_slack import TEAM_ID, Call, FakeSlack
from bot.devtools.harness import DEMO_PEOPLE, SIGNING_SECRET
from bot.devtools.payloads import command_payload, event_payload
from bot.devtools.signing import form_body, signed_headers
from scripts.bench.ack_client import MODULE as CLIENT, LoadPlan
from scripts.bench.app_server import MODULE as SERVER, ServerPlan
from scripts.bench.bench_core import percentile, print_table, run_and_report
from scripts.bench.child import Child, load_handle, running
from scripts.bench.scale_history import NAME_WORD, id_prefix

DEFAULT_SIZES = (1_000, 10_000, 50_000)
FLAT = 1.5  # largest size / smallest size, medians
CEILING_MS = 150.0
PROBE_RATIO = 1.5  # bot ack p99 / bare Bolt ack p99
PROBE_RATE = 10.0  # acks a second
PROBE_TAG = "probe"
PROBE_COMMAND = "help"  # the ack is the point: its answer costs the same at every size
PROBE_IN_FLIGHT = 200  # Slack does not wait for one request's ack before sending the next
WARMUP_BUDGET_S = 3.0
HARD_STOP = 3  # x --budget: stop even short of --min-requests (after one at least)
HEAVY = ("list (first page)", "App Home (release manager)")  # run during the ack probe
FORM = "application/x-www-form-urlencoded"

RELEASE_MANAGER, APPROVER, SQUAD_MEMBER = "URHEA", "UARJUN", "UDANA"
SEEDED_ID = r"\b(?:PAY|CHK|IDN)-\d{4}\.\d{2}-\d{5}\b"
PAYMENTS_ID = r"\bPAY-\d{4}\.\d{2}-\d{5}\b"
OTHER_SQUADS_ID = r"\b(?:CHK|IDN)-\d{4}\.\d{2}-\d{5}\b"
DEMO_ID = r"\bREL-\d{4}\.\d{2}\b"


class Kind(StrEnum):
    COMMAND = "command"  # a `/release` slash command; the answer is the response_url post
    HOME = "home"  # app_home_opened; the answer is the views.publish for that person
    TICK = "tick"  # a scheduler tick, timed in the server


@dataclass(frozen=True)
class Operation:
    name: str
    kind: Kind
    user_id: str = ""
    text: str = ""
    expect: str = ""  # a regex the answer (as JSON) must match
    refuse: str = ""  # a regex it must not match

    def accepts(self, answer: str) -> bool:
        if self.expect and not re.search(self.expect, answer):
            return False
        return not (self.refuse and re.search(self.refuse, answer))


def operations(prefix: str) -> list[Operation]:
    return [
        Operation("list (first page)", Kind.COMMAND, RELEASE_MANAGER, "list", SEEDED_ID),
        Operation(
            f"list {prefix} (id prefix)",
            Kind.COMMAND,
            RELEASE_MANAGER,
            f"list {prefix}",
            re.escape(prefix) + r"-\d{5}",
        ),
        Operation(
            f"list {NAME_WORD} (name word)",
            Kind.COMMAND,
            RELEASE_MANAGER,
            f"list {NAME_WORD}",
            SEEDED_ID,
        ),
        Operation(
            "approvals (approval manager)",
            Kind.COMMAND,
            APPROVER,
            "approvals",
            f"{SEEDED_ID}|{DEMO_ID}",
        ),
        Operation("App Home (release manager)", Kind.HOME, RELEASE_MANAGER, expect=SEEDED_ID),
        Operation(
            "App Home (squad member)",
            Kind.HOME,
            SQUAD_MEMBER,
            expect=PAYMENTS_ID,
            refuse=OTHER_SQUADS_ID,
        ),
        Operation("scheduler tick (2 digests)", Kind.TICK),
    ]


# --------------------------------------------------------------------------------- results


@dataclass
class Cell:
    """One operation at one size."""

    samples_ms: list[float] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)  # why answers were missing or wrong

    def median(self) -> float:
        return statistics.median(self.samples_ms)

    def p95(self) -> float:
        return percentile(self.samples_ms, 95)

    def stat(self, name: str) -> float:
        return self.p95() if name == "p95" else self.median()


@dataclass
class Probe:
    bare_ms: list[float]
    bot_ms: list[float]
    bad_statuses: dict[str, int]
    heavy_requests: int  # list / Home answers completed while the probe ran
    drain_s: float  # after the probe, until the bot had answered every probe command

    @property
    def ratio(self) -> float:
        return percentile(self.bot_ms, 99) / percentile(self.bare_ms, 99)


@dataclass
class SizeRun:
    size: int
    seeded: dict[str, Any]
    cells: dict[str, Cell]
    wall_s: float
    probe: Probe | None = None
    profile: dict[str, str] | None = None


@dataclass
class Report:
    sizes: list[int]
    runs: list[SizeRun]
    stat: str
    names: list[str]

    def cell(self, name: str, size: int) -> Cell:
        return next(r.cells[name] for r in self.runs if r.size == size)

    def misses_of(self, name: str) -> list[str]:
        """The targets one operation missed, in words."""
        found: list[str] = []
        cells = [self.cell(name, s) for s in self.sizes]
        for size, cell in zip(self.sizes, cells, strict=True):
            if cell.missed:
                found.append(
                    f"{name} at {size:,}: {len(cell.missed)} answer(s) missing or wrong "
                    f"({cell.missed[0]})"
                )
            elif not cell.samples_ms:
                found.append(f"{name} at {size:,}: no figures")
        if not all(c.samples_ms for c in cells):
            return found
        slow = [(s, c.stat(self.stat)) for s, c in zip(self.sizes, cells, strict=True)]
        size, value = max(slow, key=lambda sv: sv[1])
        if value >= CEILING_MS:
            found.append(
                f"{name}: {self.stat} {value:,.0f} ms at {size:,} "
                f"(target < {CEILING_MS:g} ms at every size)"
            )
        ratio = cells[-1].median() / cells[0].median()
        if len(self.sizes) > 1 and ratio > FLAT:
            found.append(
                f"{name}: median {ratio:.1f}x from {self.sizes[0]:,} to {self.sizes[-1]:,} "
                f"(target ≤ {FLAT}x)"
            )
        return found

    def misses(self) -> list[str]:
        """Every target missed, in words."""
        found = [miss for name in self.names for miss in self.misses_of(name)]
        for run in self.runs:
            if run.probe is not None and run.probe.ratio > PROBE_RATIO:
                found.append(
                    f"ack probe at {run.size:,}: p99 {run.probe.ratio:.1f}x the bare Bolt ack "
                    f"(target ≤ {PROBE_RATIO}x)"
                )
            if run.probe is not None and run.probe.bad_statuses:
                found.append(f"ack probe at {run.size:,}: non-200 acks {run.probe.bad_statuses}")
        return found


# ------------------------------------------------------------------------------ the server


async def start_server(slack: FakeSlack, app: str = "bot", size: int = 0) -> Child:
    """A server process (scripts/bench/app_server.py) whose Web API calls go to ``slack``."""
    plan = ServerPlan(slack_api_url=slack.api_url, app=app, size=size)
    return await Child.start(SERVER, asdict(plan))


# ------------------------------------------------------------------------------ the client


@dataclass
class Waiter:
    operation: Operation
    answer: asyncio.Future[tuple[float, str]]
    interim: list[str] = field(default_factory=list)  # answers that did not pass the check


class Client:
    """Sends signed requests and waits for their answers at the fake Slack."""

    def __init__(self, slack: FakeSlack, session: aiohttp.ClientSession, timeout: float) -> None:
        self.slack = slack
        self.session = session
        self.timeout = timeout
        self.waiting: dict[str, Waiter] = {}
        self.seq = 0
        slack.on_call = self.on_call

    async def on_call(self, call: Call) -> None:
        arrived = time.perf_counter()
        if call.method == "response_url":
            key = f"respond:{call.params.get('key')}"
        elif call.method == "views.publish":
            key = f"home:{call.params.get('user_id')}"
        else:
            return
        waiter = self.waiting.get(key)
        if waiter is None or waiter.answer.done():
            return
        text = json.dumps(call.params, default=str)
        if waiter.operation.accepts(text):
            waiter.answer.set_result((arrived, text))
        else:  # an error, or a placeholder drawn first: the answer is still to come
            waiter.interim.append(text)

    async def once(self, server: Child, operation: Operation) -> float:
        """One request, its latency in ms; raises ``Missed`` when no right answer came."""
        if operation.kind is Kind.TICK:
            answer = await server.ask({"cmd": "tick"})
            if answer.get("outcomes") != {"digest sent": 2}:
                raise Missed(f"the tick delivered {answer.get('outcomes')}, not 2 digests")
            return float(answer["ms"])
        self.seq += 1
        if operation.kind is Kind.COMMAND:
            key = f"scale{self.seq}"
            fields = command_payload(
                team_id=TEAM_ID,
                user_id=operation.user_id,
                text=operation.text,
                channel_id="C0RELEASE",
                response_url=self.slack.response_url(key),
                trigger_id=f"trigger.scale.{self.seq}",
            )
            body, content_type, waiting = form_body(fields), FORM, f"respond:{key}"
        else:
            event = {
                "type": "app_home_opened",
                "user": operation.user_id,
                "channel": f"D{operation.user_id}",
                "tab": "home",
            }
            body = json.dumps(event_payload(team_id=TEAM_ID, event=event))
            content_type, waiting = "application/json", f"home:{operation.user_id}"
        waiter = Waiter(operation, asyncio.get_running_loop().create_future())
        self.waiting[waiting] = waiter
        try:
            headers = signed_headers(SIGNING_SECRET, body, content_type=content_type)
            sent = time.perf_counter()
            async with self.session.post(server.url, data=body, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    raise Missed(f"HTTP {response.status} to the request")
            try:
                arrived, _ = await asyncio.wait_for(asyncio.shield(waiter.answer), self.timeout)
            except TimeoutError:
                seen = f"; it answered {waiter.interim[-1][:300]}" if waiter.interim else ""
                raise Missed(f"no answer within {self.timeout:g} s{seen}") from None
        finally:
            self.waiting.pop(waiting, None)
        return (arrived - sent) * 1000


class Missed(Exception):
    """An answer that never came, or did not pass its check."""


@dataclass(frozen=True)
class Pace:
    warmup: int
    requests: int
    min_requests: int
    budget_s: float


async def measure(client: Client, server: Child, operation: Operation, pace: Pace) -> Cell:
    cell = Cell()
    began = time.perf_counter()
    for _ in range(pace.warmup):
        try:
            await client.once(server, operation)
        except Missed as missed:
            cell.missed.append(f"warm-up: {missed}")
            return cell  # the same would happen to every request
        if time.perf_counter() - began > WARMUP_BUDGET_S:
            break
    began = time.perf_counter()
    for n in range(pace.requests):
        spent = time.perf_counter() - began
        if (n >= pace.min_requests and spent > pace.budget_s) or (
            n >= 1 and spent > HARD_STOP * pace.budget_s
        ):
            break
        try:
            cell.samples_ms.append(await client.once(server, operation))
        except Missed as missed:
            cell.missed.append(str(missed))
            if len(cell.missed) >= 3:
                break
    return cell


async def probe(client: Client, server: Child, heavy: Sequence[Operation], seconds: float) -> Probe:
    """Acks at PROBE_RATE to the bare Bolt app (the bot idle), then to the bot while `list`
    and App Home run back to back."""
    count = max(1, round(seconds * PROBE_RATE))

    def plan(url: str, tag: str) -> LoadPlan:
        return LoadPlan(
            url=url,
            secret=SIGNING_SECRET,
            team_id=TEAM_ID,
            count=count,
            concurrency=PROBE_IN_FLIGHT,
            user_id=SQUAD_MEMBER,
            text=PROBE_COMMAND,
            response_url=client.slack.response_url(""),
            tag=tag,
            rate=PROBE_RATE,
        )

    heavy_done, stopping = 0, asyncio.Event()

    async def keep_busy() -> None:
        nonlocal heavy_done
        # Stopped by the flag, not only by cancelling: Python 3.11's wait_for can swallow a
        # cancellation that lands as the answer it waits for arrives (gh-86296).
        while not stopping.is_set():
            for operation in heavy:
                with contextlib.suppress(Missed):
                    await client.once(server, operation)
                    heavy_done += 1

    async with load_handle(CLIENT) as loader:
        async with running(SERVER, asdict(ServerPlan(client.slack.api_url, app="bare"))) as floor:
            bare = await loader.load(plan(floor.url, "bare"))
        busy = asyncio.create_task(keep_busy())
        try:
            bot = await loader.load(plan(server.url, PROBE_TAG))
        finally:
            stopping.set()
            busy.cancel()  # the server may still be working on it: it is the last thing measured
            await asyncio.gather(busy, return_exceptions=True)
    drain = await answered(client.slack, PROBE_TAG, count)
    statuses = {**bare["statuses"], **{f"bot {k}": v for k, v in bot["statuses"].items()}}
    return Probe(
        bare_ms=bare["latencies_ms"],
        bot_ms=bot["latencies_ms"],
        bad_statuses={k: v for k, v in statuses.items() if not k.endswith("200")},
        heavy_requests=heavy_done,
        drain_s=drain,
    )


async def answered(slack: FakeSlack, tag: str, count: int, timeout: float = 300.0) -> float:
    """Wait until the bot answered the ``count`` probe commands (their after-ack work done,
    so it does not weigh on what is measured next); seconds waited."""
    began = time.perf_counter()
    while time.perf_counter() - began < timeout:
        posts = [c for c in slack.of("response_url") if str(c.params["key"]).startswith(tag)]
        if len(posts) >= count:
            break
        await asyncio.sleep(0.1)
    return time.perf_counter() - began


async def run_size(
    size: int,
    ops: Sequence[Operation],
    client: Client,
    pace: Pace,
    *,
    probe_seconds: float,
    profile: str | None,
) -> SizeRun:
    began = time.perf_counter()
    print(f"\n[{size:,} releases] seeding and starting the bot …", flush=True)
    server = await start_server(client.slack, size=size)
    try:
        seeded = server.ready["seeded"]
        print(
            f"[{size:,} releases] seeded in {seed_seconds(seeded):.1f} s "
            f"(encode {seeded['encode_s']:.1f} s on {seeded['workers']} worker(s), insert "
            f"{seeded['insert_s']:.1f} s, bot start with indexes {seeded['start_s']:.1f} s)",
            flush=True,
        )
        cells: dict[str, Cell] = {}
        for operation in ops:
            cells[operation.name] = cell = await measure(client, server, operation, pace)
            shown = (
                f"median {cell.median():,.1f} ms, p95 {cell.p95():,.1f} ms, "
                f"n={len(cell.samples_ms)}"
                if cell.samples_ms
                else "no figures"
            )
            missed = f"; {len(cell.missed)} missed" if cell.missed else ""
            print(f"  {operation.name:<36} {shown}{missed}", flush=True)
        run = SizeRun(size, seeded, cells, 0.0)
        if profile is not None:
            run.profile = await profiled(client, server, ops, cells, profile)
        if probe_seconds > 0:
            heavy = [o for o in ops if o.name in HEAVY]
            run.probe = await probe(client, server, heavy, probe_seconds)
            print(
                f"  ack probe: bare p99 {percentile(run.probe.bare_ms, 99):.1f} ms, "
                f"bot p99 {percentile(run.probe.bot_ms, 99):.1f} ms",
                flush=True,
            )
        run.wall_s = time.perf_counter() - began
        return run
    finally:
        await server.stop()


async def profiled(
    client: Client,
    server: Child,
    ops: Sequence[Operation],
    cells: dict[str, Cell],
    wanted: str,
) -> dict[str, str]:
    """cProfile the server while the first operation named ``wanted…`` runs: three
    requests, or one when it takes more than a second."""
    chosen = [o for o in ops if o.name.startswith(wanted)][:1]
    if not chosen:
        raise SystemExit(f"--profile {wanted!r} names no operation")
    cell = cells[chosen[0].name]
    times = 1 if not cell.samples_ms or cell.median() > 1_000 else 3
    await server.ask({"cmd": "profile", "on": True})
    for _ in range(times):
        with contextlib.suppress(Missed):
            await client.once(server, chosen[0])
    answer = await server.ask({"cmd": "profile", "on": False, "top": 30})
    return {
        "operation": f"{times} x {chosen[0].name}",
        **{k: str(answer[k]) for k in ("tottime", "cumulative")},
    }


def seed_seconds(seeded: dict[str, Any]) -> float:
    return float(seeded["encode_s"] + seeded["insert_s"] + seeded["start_s"])


# ------------------------------------------------------------------------------- printing


def print_environment(args: argparse.Namespace) -> None:
    versions = ", ".join(
        f"{p} {metadata.version(p)}"
        for p in ("slack_bolt", "slack_sdk", "aiohttp", "pydantic", "mongomock", "mongomock-motor")
    )
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print("releasebot scale benchmark (issue 10)")
    print(f"python    {sys.version.split()[0]} ({platform.python_implementation()})")
    print(f"platform  {platform.platform()}, {cpus} CPUs usable")
    print(f"packages  {versions}")
    print("server    its own process per size: build_runtime, embedded engine (mongomock://),")
    print("          demo data + N releases of history, real aiohttp app; fake Slack here")
    print(
        f"requests  one at a time; ≤ {args.warmup} warm-up, then {args.min_requests}–"
        f"{args.requests} measured per operation (stopping after {args.budget:g} s)"
    )
    print(
        f"targets   median ≤ {FLAT}x from smallest to largest size; {args.stat} < "
        f"{CEILING_MS:g} ms at every size; ack probe p99 ≤ {PROBE_RATIO}x bare Bolt"
    )


def print_report(report: Report) -> None:
    sizes = report.sizes
    print_table(
        "Seeding (releases of history; pending approvals are a few dozen at every size)",
        ("size", "dates", "pending approvals", "encode s", "insert s", "bot start s", "total s"),
        [
            [
                f"{r.size:,}",
                f"{r.seeded['oldest']} … {r.seeded['newest']}",
                f"{r.seeded['pending_approvals']} in {r.seeded['releases_with_pending']}",
                f"{r.seeded['encode_s']:.1f}",
                f"{r.seeded['insert_s']:.1f}",
                f"{r.seeded['start_s']:.1f}",
                f"{seed_seconds(r.seeded):.1f}",
            ]
            for r in report.runs
        ],
    )
    rows = []
    for name in report.names:
        cells = [report.cell(name, s) for s in sizes]
        row = [name]
        for cell in cells:
            row.append(
                f"{cell.median():,.0f} / {cell.p95():,.0f} ({len(cell.samples_ms)})"
                if cell.samples_ms
                else "missed"
            )
        if all(c.samples_ms for c in cells) and len(sizes) > 1:
            row.append(f"{cells[-1].median() / cells[0].median():.2f}x")
        else:
            row.append("—")
        worst = max((c.stat(report.stat) for c in cells if c.samples_ms), default=math.inf)
        row.append(f"{worst:,.0f}")
        row.append("MISSED" if report.misses_of(name) else "met")
        rows.append(row)
    print_table(
        f"Growth: median / p95 ms (n measured) from the signed request to its answer; tick "
        f"timed in the server. Targets: ≤ {FLAT}x, {report.stat} < {CEILING_MS:g} ms",
        ("operation", *[f"{s:,} releases" for s in sizes], "ratio", f"worst {report.stat}", ""),
        rows,
    )
    for run in report.runs:
        if run.probe is None:
            continue
        p = run.probe

        def line(name: str, values: list[float]) -> list[str]:
            return [
                name,
                str(len(values)),
                *(f"{percentile(values, q):.1f}" for q in (50, 95, 99)),
                f"{max(values):.1f}",
            ]

        print_table(
            f"Ack probe at {run.size:,}: `/release {PROBE_COMMAND}` at {PROBE_RATE:g}/s from its "
            f"own process; {p.heavy_requests} `list` / App Home answers ran meanwhile; the bot "
            f"answered the last probe command {p.drain_s:.1f} s after the probe ended",
            ("time to HTTP 200 (ms)", "n", "p50", "p95", "p99", "max"),
            [
                line("bare Bolt (bot idle)", p.bare_ms),
                line("releasebot", p.bot_ms),
                ["ratio p99", "", "", "", f"{p.ratio:.2f}", f"target ≤ {PROBE_RATIO}"],
            ],
        )
    for run in report.runs:
        if run.profile:
            print(f"\nServer profile at {run.size:,}: {run.profile['operation']}")
            print(run.profile["tottime"])
            print(run.profile["cumulative"])
    print(f"\nwall time: {', '.join(f'{r.size:,}: {r.wall_s:.0f} s' for r in report.runs)}")


# ----------------------------------------------------------------------------------- main


async def bench(args: argparse.Namespace) -> Report:
    sizes = sorted(set(args.sizes))
    ops = operations(id_prefix(datetime.now(UTC).date(), sizes[0]))
    pace = Pace(args.warmup, args.requests, args.min_requests, args.budget)
    slack = FakeSlack()
    for person in DEMO_PEOPLE:
        slack.add_person(person)
    await slack.start()
    runs = []
    try:
        async with aiohttp.ClientSession() as session:
            client = Client(slack, session, args.answer_timeout)
            for size in sizes:
                largest = size == sizes[-1]
                runs.append(
                    await run_size(
                        size,
                        ops,
                        client,
                        pace,
                        probe_seconds=args.probe_seconds if largest else 0.0,
                        profile=args.profile if largest else None,
                    )
                )
    finally:
        await slack.stop()
    return Report(sizes, runs, args.stat, [o.name for o in ops])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--requests", type=int, default=30, help="measured, at most")
    parser.add_argument("--min-requests", type=int, default=3, help="measured, at least")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--budget", type=float, default=20.0, help="seconds per operation before stopping"
    )
    parser.add_argument(
        "--answer-timeout",
        type=float,
        default=90.0,
        help="seconds to wait for an answer before counting it missed",
    )
    parser.add_argument("--probe-seconds", type=float, default=15.0)
    parser.add_argument("--stat", choices=("median", "p95"), default="median")
    parser.add_argument(
        "--profile",
        metavar="OPERATION",
        default=None,
        help="cProfile the server at the largest size for 3 requests of the operation whose "
        "name starts with this (e.g. 'list', 'App Home', 'approvals')",
    )
    args = parser.parse_args(argv)
    if min(args.sizes) < 1 or args.warmup < 1 or not 1 <= args.min_requests <= args.requests:
        parser.error("need sizes ≥ 1, warmup ≥ 1 and 1 ≤ min-requests ≤ requests")
    return args


def main(argv: list[str] | None = None) -> int:
    return run_and_report(parse_args(argv), print_environment, bench, print_report)


if __name__ == "__main__":
    sys.exit(main())
