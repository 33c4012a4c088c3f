"""The floor for the ack benchmark: a Bolt app that only acks `/release`.

Same Bolt AsyncApp and signing secret as the bot, served by Bolt's own aiohttp adapter
(Bolt verifies the signature itself); no middleware, no database work, nothing after the ack. Its
one Web API call, the ``auth.test`` Bolt makes on the first request, goes to a fake Slack
of its own.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.devtools.fake_slack import FakeSlack
from bot.devtools.harness import BOT_TOKEN, SIGNING_SECRET
from bot.server import EVENTS_PATH


@dataclass(frozen=True)
class BareBolt:
    url: str  # the events endpoint
    slack: FakeSlack


def ack_only_app(client: AsyncWebClient, signing_secret: str) -> AsyncApp:
    app = AsyncApp(
        client=client, signing_secret=signing_secret, logger=logging.getLogger("bare_bolt")
    )

    @app.command("/release")
    async def ack_only(ack: AsyncAck) -> None:
        await ack()

    return app


@asynccontextmanager
async def bare_bolt() -> AsyncIterator[BareBolt]:
    slack = FakeSlack()
    await slack.start()
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
    bolt = ack_only_app(client, SIGNING_SECRET)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post(EVENTS_PATH, events)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield BareBolt(f"http://127.0.0.1:{port}{EVENTS_PATH}", slack)
    finally:
        await runner.cleanup()
        await slack.stop()
