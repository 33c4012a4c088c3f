"""The ack benchmark's load generator, run in its own process.

    python -m scripts.bench.ack_client '<json config>'

Sends ``count`` signed `/release` slash commands to ``url`` with ``concurrency`` requests in
flight (closed loop: the next starts when one is answered; or, with ``rate``, open loop:
they start at that rate), over kept-alive connections, and prints one JSON line: each
request's time to the HTTP answer (the ack) in milliseconds, the statuses, the wall time.
Each request is signed (with the current timestamp) before its clock starts. Only aiohttp
and the signing helper are imported; the load is generated outside the server's process.
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

from bot.devtools.signing import form_body, signed_headers

FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class LoadPlan:
    url: str
    secret: str
    count: int
    concurrency: int
    user_id: str
    text: str
    response_url: str  # each request gets "<response_url><n>"
    tag: str = "bench"
    rate: float | None = None  # open loop: requests start at this rate (per second)

    def body(self, n: int) -> str:
        return form_body(
            {
                "token": "legacy-unused",
                "team_id": "T0DEMO",
                "team_domain": "demo",
                "channel_id": "C0RELEASE",
                "channel_name": "releases",
                "user_id": self.user_id,
                "user_name": self.user_id.lower(),
                "command": "/release",
                "text": self.text,
                "api_app_id": "A0RELEASEBOT",
                "response_url": f"{self.response_url}{self.tag}{n}",
                "trigger_id": f"trigger.{self.tag}.{n}",
            }
        )


async def send(plan: LoadPlan) -> dict[str, Any]:
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
    plan = LoadPlan(**json.loads(argv[0]))
    print(json.dumps(asyncio.run(send(plan))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
