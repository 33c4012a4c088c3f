"""Socket Mode (SLACK_APP_TOKEN set): the bot opens a WebSocket to Slack instead of serving
HTTP. No public endpoint, so no request signatures: Slack authenticates the connection by
the app-level token.

slack_bolt's AsyncSocketModeHandler (aiohttp) asks for the socket's URL with
``apps.connections.open`` through the app's own Web API client, so SLACK_API_URL applies to
it too; every envelope runs through the same Bolt app as HTTP requests and is acknowledged on
the socket with its ``envelope_id`` (and the ack's body as ``payload``, e.g. modal errors).
"""

from __future__ import annotations

import asyncio
import logging

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.runtime import Runtime

log = logging.getLogger("bot")


def socket_mode_handler(runtime: Runtime) -> AsyncSocketModeHandler:
    """The handler for the runtime's Bolt app; build it inside the running event loop."""
    token = runtime.settings.slack_app_token
    if token is None:
        raise ValueError("Socket Mode needs SLACK_APP_TOKEN (an xapp- app-level token)")
    return AsyncSocketModeHandler(runtime.app, token.get_secret_value())


async def run_socket_mode(runtime: Runtime, stop: asyncio.Event) -> None:
    """Connect, serve Slack's envelopes until ``stop`` is set, then close the connection."""
    handler = socket_mode_handler(runtime)
    connecting = asyncio.ensure_future(handler.connect_async())  # type: ignore[no-untyped-call]
    stopping = asyncio.ensure_future(stop.wait())
    try:
        # The client retries an unreachable Slack forever: a SIGTERM meanwhile must still stop.
        await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if connecting.done():
            connecting.result()
            log.info("connected to Slack in Socket Mode")
            await stopping
    finally:
        for task in (connecting, stopping):
            task.cancel()
        await asyncio.gather(connecting, stopping, return_exceptions=True)
        await handler.close_async()  # type: ignore[no-untyped-call]
