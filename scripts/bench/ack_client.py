"""The benchmarks' load generator, in its own process: signed requests, timed to their ack.

    python -m scripts.bench.ack_client '{}'    # started by a benchmark (scripts/bench/child.py)

Each ``{"cmd": "load", "plan": <LoadPlan>}`` sends ``count`` requests of one kind to ``url``
with ``concurrency`` in flight (closed loop: the next starts when one is answered; or, with
``rate``, open loop: they start at that rate) over kept-alive connections, and answers each
request's time to the HTTP answer (the ack) in milliseconds, the statuses and the wall time.
Each request is built and signed (with the current timestamp) before its clock starts.

The kinds, built as Slack sends them (bot/devtools/payloads.py, as the tests' driver does):

- ``command``: the `/release` slash command ``text``; its answer goes to
  ``<response_url><tag><n>``;
- ``click``: a button click (block_actions) on ``action_id`` in a message, request ``n`` with
  ``values[n]`` (a fresh approval each); answer to ``<response_url><tag><n>``;
- ``submission``: the modal ``view`` submitted with ``state`` (Slack's block → action → state
  format), every ``{key}`` in it replaced by ``<tag><n>`` so each request is its own.

Only aiohttp, the signing helper and the payload builders are imported: the load is
generated outside the servers' processes.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.devtools.payloads import CHANNEL_ID, click_payload, command_payload, submission_payload
from bot.devtools.signing import form_body, payload_body, signed_headers
from scripts.bench.child import serve_loads

FORM = "application/x-www-form-urlencoded"
KEY = "{key}"  # in a submission's state: replaced by the request's own key
MODULE = "scripts.bench.ack_client"  # run it with scripts.bench.child.load_handle


@dataclass(frozen=True)
class LoadPlan:
    url: str
    secret: str
    team_id: str
    count: int
    concurrency: int
    user_id: str
    kind: str = "command"  # "command" | "click" | "submission"
    text: str = ""  # command
    action_id: str = ""  # click
    values: list[str] = field(default_factory=list)  # click: request n clicks values[n]
    view: dict[str, Any] = field(default_factory=dict)  # submission
    state: dict[str, Any] = field(default_factory=dict)  # submission
    response_url: str = ""  # request n answers "<response_url><tag><n>"
    tag: str = "bench"
    rate: float | None = None  # open loop: requests start at this rate (per second)

    def key(self, n: int) -> str:
        return f"{self.tag}{n}"

    def body(self, n: int) -> str:
        key = self.key(n)
        if self.kind == "command":
            return form_body(
                command_payload(
                    team_id=self.team_id,
                    user_id=self.user_id,
                    text=self.text,
                    channel_id=CHANNEL_ID,
                    response_url=f"{self.response_url}{key}",
                    trigger_id=f"trigger.{key}",
                )
            )
        if self.kind == "click":
            payload = click_payload(
                team_id=self.team_id,
                user_id=self.user_id,
                action_id=self.action_id,
                value=self.values[n],
                block_id="approval",
                seq=n + 1,
                response_url=f"{self.response_url}{key}",
                trigger_id=f"trigger.{key}",
            )
        elif self.kind == "submission":
            payload = submission_payload(
                team_id=self.team_id,
                user_id=self.user_id,
                view=self.view,
                values=_keyed(self.state, key),
                trigger_id=f"trigger.{key}",
            )
        else:
            raise ValueError(f"unknown request kind {self.kind!r}")
        return payload_body(payload)


def _keyed(value: Any, key: str) -> Any:
    if isinstance(value, str):
        return value.replace(KEY, key)
    if isinstance(value, dict):
        return {k: _keyed(v, key) for k, v in value.items()}
    if isinstance(value, list):
        return [_keyed(v, key) for v in value]
    return value


async def send(plan: LoadPlan) -> dict[str, Any]:
    if plan.kind == "click" and len(plan.values) < plan.count:
        raise ValueError(f"{plan.count} clicks need as many values, not {len(plan.values)}")
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    numbers = iter(range(plan.count))
    connector = aiohttp.TCPConnector(limit=plan.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            for n in numbers:
                body = plan.body(n)
                headers = signed_headers(plan.secret, body, content_type=FORM)
                started = time.perf_counter()
                if plan.rate:
                    # open loop: the clock starts when the request was due, so waiting for
                    # a free connection behind slow answers counts too
                    started = began + n / plan.rate
                    await asyncio.sleep(max(0.0, started - time.perf_counter()))
                async with session.post(plan.url, data=body, headers=headers) as response:
                    await response.read()
                    latencies.append((time.perf_counter() - started) * 1000)
                    statuses[response.status] += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(plan.concurrency)))
        wall = time.perf_counter() - began
    return {
        "latencies_ms": latencies,
        "statuses": {str(k): v for k, v in statuses.items()},
        "wall_s": wall,
    }


def main(argv: list[str]) -> int:
    asyncio.run(serve_loads(lambda plan: send(LoadPlan(**plan))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
