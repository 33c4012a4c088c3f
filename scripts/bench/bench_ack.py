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
import re
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import aiohttp

from blocks.ids import ActionId, EditField
from bot.devtools.driver import SlackDriver
from bot.devtools.fake_slack import TEAM_ID, Call, FakeSlack
from bot.devtools.harness import SIGNING_SECRET
from scripts.bench import bot_vs_bare
from scripts.bench.ack_client import KEY, MODULE as CLIENT, LoadPlan
from scripts.bench.app_server import MODULE as SERVER, ServerPlan
from scripts.bench.bench_core import run_and_report
from scripts.bench.child import Child, LoadHandle, load_handle, running

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
class Cell(bot_vs_bare.Cell):
    MEASURED = "ack p99"
    BARE = ("bare Bolt app", "bare Bolt")

    wrong: list[str] = field(default_factory=list)  # bot answers missing or wrong

    def wrong_misses(self, where: str) -> list[str]:
        if not self.wrong:
            return []
        return [
            f"{where}: {len(self.wrong)} of the bot's answers missing or wrong "
            f"(first: {self.wrong[0][:200]})"
        ]


@dataclass
class Report(bot_vs_bare.Report[Cell]):
    max_ratio_stored: float = MAX_RATIO_STORED

    def target(self, cell: Cell) -> float:
        """Kinds acked before storage: ``max_ratio``; a form submission, whose ack waits for
        its write: ``max_ratio_stored``."""
        stores = KINDS[cell.kind].request == "submission"
        return self.max_ratio_stored if stores else self.max_ratio


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
    loader: LoadHandle[LoadPlan]
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


async def measure(
    apps: Apps, args: argparse.Namespace, kind: Kind, concurrency: int, profile: bool
) -> tuple[Cell, dict[str, str] | None]:
    """A warm-up on both apps, then the measured rounds; each of the bot's answers checked."""
    cell = Cell(kind.name, concurrency)

    async def load(count: int, tag: str, bot: bool) -> bot_vs_bare.Loaded:
        sent = plan_for(
            apps, kind, count, f"{kind.name}-c{concurrency}-{tag}-", concurrency, args.rate, bot=bot
        )
        loaded = await bot_vs_bare.timed_load(
            apps.bot if bot else apps.bare, lambda: apps.loader.load(sent), bot=bot
        )
        if bot and tag != "w":
            keys = [sent.key(n) for n in range(count)]
            await apps.answers.wait(keys, ANSWER_TIMEOUT_S)
            cell.wrong += apps.answers.wrong(keys, kind.answer)
        return loaded

    return cell, await bot_vs_bare.measure_cell(apps.bot, cell, args, load, profile=profile)


async def new_release_form(slack: FakeSlack, url: str, session: aiohttp.ClientSession) -> Any:
    """The form the bot shows for `/release new` (its "Loading…" modal updated)."""
    driver = SlackDriver(url, SIGNING_SECRET, slack, session)
    reply = await driver.command("URHEA", "new")
    if reply.status != 200:
        raise RuntimeError(f"`/release new` was answered {reply.status}: {reply.text[:200]}")
    [*_, update] = await slack.wait_for("views.update", 1, timeout=30)
    return update.params["view"]


async def bench(args: argparse.Namespace) -> Report:
    kinds = [KINDS[name] for name in args.kinds]
    clicks = sum(k.request == "click" for k in kinds) * (args.warmup + args.requests)
    report = Report([], args.max_ratio, os.getloadavg(), max_ratio_stored=args.max_ratio_stored)
    async with bot_vs_bare.pinned_slack(args.pin) as (slack, servers), AsyncExitStack() as stack:
        answers = Answers(slack)
        print("starting the bot, the bare Bolt app and the load client …", flush=True)
        bot_plan = ServerPlan(
            slack.api_url, "bot", args.releases, clicks * len(args.concurrency), cpus=servers
        )
        bot = await stack.enter_async_context(running(SERVER, asdict(bot_plan)))
        bare_plan = ServerPlan(slack.api_url, "bare", cpus=servers)
        bare = await stack.enter_async_context(running(SERVER, asdict(bare_plan)))
        loader = await stack.enter_async_context(load_handle(CLIENT))
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

        def line(cell: Cell) -> str:
            return (
                f"  {cell.kind:<8} C={cell.concurrency:<3} p99 bare {cell.bare.p(99):6.1f} ms, "
                f"bot {cell.bot.p(99):6.1f} ms: {cell.ratio:.2f}x; the bot's longest GC "
                f"pause {cell.gc_max_ms():.0f} ms (CPU {cell.gc_max_ms('max_cpu_ms'):.0f}"
                f" ms), {cell.heap[0]:,} objects tracked ({cell.heap[1]:,} frozen)"
            )

        await bot_vs_bare.measure_all(report, args, kinds, partial(measure, apps, args), line)
    report.load_after = os.getloadavg()
    return report


# ------------------------------------------------------------------------------ printing


def print_environment(args: argparse.Namespace) -> None:
    bot_vs_bare.print_environment_head(
        "releasebot ack benchmark (issue 10)",
        ("slack_bolt", "slack_sdk", "aiohttp", "mongomock-motor"),
        (
            "the bot (embedded engine, demo data), the bare Bolt app, the load client,",
            "each its own; the fake Slack in this one; logging at WARNING",
        ),
        args.pin,
    )
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
    bot_vs_bare.print_cells(
        report,
        "Time to HTTP 200 (ms) from the client process; target: bot p99 ≤ the target x bare "
        "Bolt p99",
    )
    print(
        "cpu ms/req: the server process's CPU per request, after-ack work included; bot busy "
        "after: the longest the bot took, after a round's last ack, to finish its after-ack "
        "work; bot gc: its longest garbage-collector pause (and how many full collections) "
        "while measured"
    )
    bot_vs_bare.print_load_and_profile(report)


# ----------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    bot_vs_bare.add_load_args(parser, QUICK)
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
    bot_vs_bare.add_bot_args(
        parser,
        list(KINDS),
        "let the OS place the processes (by default the server measured runs on the "
        "first CPU, this process, the fake Slack and the load client on the others)",
    )
    args = bot_vs_bare.parse_load_args(parser, argv, QUICK, DEFAULTS)
    if args.rate is not None and args.rate <= 0:
        parser.error("--rate must be positive")
    if args.releases < 0 or min(args.max_ratio, args.max_ratio_stored) <= 0:
        parser.error("need releases ≥ 0 and a positive --max-ratio and --max-ratio-stored")
    return args


def main(argv: list[str] | None = None) -> int:
    logging.getLogger("slack_bolt").setLevel(logging.ERROR)
    return run_and_report(parse_args(argv), print_environment, bench, print_report)


if __name__ == "__main__":
    sys.exit(main())
