"""The floor for the ack benchmarks: a Bolt app that only acks.

Same Bolt AsyncApp and signing secret as the bot, served by Bolt's own aiohttp adapter
(Bolt verifies the signature itself); one listener per kind of request measured, `/release`,
any button click and any modal submission, each only calling ``ack()``: no middleware, no
database work, nothing after the ack. Its one Web API call, the ``auth.test`` Bolt makes on
the first request, goes to ``api_url`` (a fake Slack). Run in its own process by
scripts/bench/app_server.py.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.devtools.harness import BOT_TOKEN, SIGNING_SECRET, listen
from bot.server import EVENTS_PATH

ANY = re.compile(".*")


def ack_only_app(client: AsyncWebClient, signing_secret: str) -> AsyncApp:
    app = AsyncApp(
        client=client, signing_secret=signing_secret, logger=logging.getLogger("bare_bolt")
    )

    async def ack_only(ack: AsyncAck) -> None:
        await ack()

    app.command("/release")(ack_only)
    app.action(ANY)(ack_only)
    app.view(ANY)(ack_only)
    return app


@asynccontextmanager
async def bare_bolt(api_url: str) -> AsyncIterator[str]:
    """Serve the ack-only app on a free port; its events URL."""
    client = AsyncWebClient(token=BOT_TOKEN, base_url=api_url)
    bolt = ack_only_app(client, SIGNING_SECRET)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post(EVENTS_PATH, events)
    runner, url = await listen(web_app)
    try:
        yield f"{url}{EVENTS_PATH}"
    finally:
        await runner.cleanup()
