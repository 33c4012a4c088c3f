"""The floor for the API benchmark: a bare aiohttp app answering the paths measured.

The same aiohttp server the bot runs on (bot/devtools/harness.py ``listen``), with one handler
per path measured, each answering a canned JSON body (``bodies``: the bot's own answer for that
path, so both send about as many bytes) without doing any work: no middleware, no token
check, no database, nothing after the answer (a POST's body is read, as any server must).
Run in its own process by scripts/bench/app_server.py (``app="bare_api"``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager

from aiohttp import web

from bot.devtools.harness import listen

# As bot/api/releases.py and bot/api/gates.py declare them.
SUMMARY_PATH = "/api/v1/releases/{release}/summary"
GATE_RESULT_PATH = "/api/v1/releases/{release}/products/{product}/gates/{gate}/results"

Handler = Callable[[web.Request], Awaitable[web.Response]]


def canned(body: str, *, read: bool) -> Handler:
    """A handler answering ``body`` as JSON (``read``: after reading the request's body)."""
    data = body.encode()

    async def answer(request: web.Request) -> web.Response:
        if read:
            await request.read()
        return web.Response(body=data, content_type="application/json", charset="utf-8")

    return answer


def bare_api_app(bodies: Mapping[str, str]) -> web.Application:
    """``bodies``: the answer to ``summary`` (GET) and to ``gate_result`` (POST)."""
    app = web.Application()
    app.router.add_get(SUMMARY_PATH, canned(bodies.get("summary", "{}"), read=False))
    app.router.add_post(GATE_RESULT_PATH, canned(bodies.get("gate_result", "{}"), read=True))
    return app


@asynccontextmanager
async def bare_api(bodies: Mapping[str, str]) -> AsyncIterator[str]:
    """Serve the bare app on a free port; its base URL."""
    runner, url = await listen(bare_api_app(bodies))
    try:
        yield url
    finally:
        await runner.cleanup()
