"""The API benchmark's load generator, in its own process: portal API calls, timed to their answer.

    python -m scripts.bench.api_client '{}'    # started by a benchmark (scripts/bench/child.py)

Each ``{"cmd": "load", "plan": <ApiPlan>}`` sends ``count`` requests of one kind to
``base_url + path`` with ``concurrency`` in flight (closed loop: the next starts when one is
answered) over kept-alive connections, and answers each request's time to its whole answer in
milliseconds, the statuses, the answers' sizes and the wall time. With ``check``, each answer
is also checked (after its clock stopped) and the wrong ones described.

The kinds, as a portal or a CI job sends them, with ``token`` as the Bearer token:

- ``summary``: ``GET <path>`` (a release's readiness summary); right when it names the release;
- ``gate_result``: ``POST <path>`` (a CI run's result on a gate), request ``n`` reporting
  PASSED when ``n`` is even and FAILED when odd, from a run of its own (its link, commit and
  summary name the request), with its own ``Idempotency-Key``: each is a real change. Right
  when the answer shows the gate as reported and is not a replay.

Only aiohttp and the child protocol are imported: the load is generated outside the servers'
processes.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import aiohttp

from scripts.bench.child import serve_loads

KINDS = ("summary", "gate_result")
IDEMPOTENCY_KEY = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
WRONG_KEPT = 5  # descriptions of wrong answers sent back (all are counted)
MODULE = "scripts.bench.api_client"  # run it with scripts.bench.child.load_handle


@dataclass(frozen=True)
class ApiPlan:
    base_url: str
    path: str
    token: str
    count: int
    concurrency: int
    kind: str = "summary"  # see KINDS
    tag: str = "bench"
    check: bool = False  # check each answer (the bot's; the bare app's are canned)

    def key(self, n: int) -> str:
        return f"{self.tag}{n}"

    def status(self, n: int) -> str:
        """The gate status request ``n`` reports."""
        return "PASSED" if n % 2 == 0 else "FAILED"

    def request(self, n: int) -> tuple[str, bytes | None, dict[str, str]]:
        """Method, body and headers of request ``n``."""
        headers = {"Authorization": f"Bearer {self.token}"}
        if self.kind == "summary":
            return "GET", None, headers
        if self.kind == "gate_result":
            key = self.key(n)
            report = {
                "status": self.status(n),
                "url": f"https://ci.example.com/bench/runs/{key}",
                "commit": f"{n:012x}",
                "summary": f"Bench run {key}: {self.status(n).lower()}",
            }
            headers |= {IDEMPOTENCY_KEY: key, "Content-Type": "application/json"}
            return "POST", json.dumps(report).encode(), headers
        raise ValueError(f"unknown request kind {self.kind!r}")

    def wrong(self, n: int, status: int, headers: Any, raw: bytes) -> str | None:
        """Why request ``n``'s answer is wrong; None when it is right (or not a 200)."""
        if status != 200:
            return None  # counted among the statuses
        try:
            body = json.loads(raw)
        except ValueError:
            return f"{self.key(n)}: not JSON: {raw[:200]!r}"
        if self.kind == "summary" and not body.get("release_id"):
            return f"{self.key(n)}: no release_id in {raw[:200]!r}"
        if self.kind == "gate_result":
            if headers.get(REPLAYED):
                return f"{self.key(n)}: answered as a replay"
            if body.get("gate_status") != self.status(n):
                return f"{self.key(n)}: sent {self.status(n)}, answered {raw[:200]!r}"
        return None


async def send(plan: ApiPlan) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    sizes: list[int] = []
    wrong: list[str] = []
    wrong_n = 0
    numbers = iter(range(plan.count))
    url = plan.base_url + plan.path
    connector = aiohttp.TCPConnector(limit=plan.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal wrong_n
            for n in numbers:
                method, body, headers = plan.request(n)
                started = time.perf_counter()
                async with session.request(method, url, data=body, headers=headers) as response:
                    raw = await response.read()
                    latencies.append((time.perf_counter() - started) * 1000)
                    statuses[response.status] += 1
                    sizes.append(len(raw))
                    why = (
                        plan.wrong(n, response.status, response.headers, raw)
                        if plan.check
                        else None
                    )
                    if why is not None:
                        wrong_n += 1
                        if len(wrong) < WRONG_KEPT:
                            wrong.append(why)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(plan.concurrency)))
        wall = time.perf_counter() - began
    return {
        "latencies_ms": latencies,
        "statuses": {str(k): v for k, v in statuses.items()},
        "bytes": round(sum(sizes) / max(1, len(sizes))),
        "wrong": wrong,
        "wrong_n": wrong_n,
        "wall_s": wall,
    }


def main(argv: list[str]) -> int:
    asyncio.run(serve_loads(lambda plan: send(ApiPlan(**plan))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
