"""HTTP: Slack's requests at POST /slack/events, and GET /health."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from storage.engine import Database, ping

EVENTS_PATH = "/slack/events"


def app_version() -> str:
    try:
        return version("releasebot")
    except PackageNotFoundError:
        return "unknown"


def build_web_app(bolt: AsyncApp, db: Database) -> web.Application:
    async def slack_events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def health(_request: web.Request) -> web.Response:
        reachable = await ping(db)
        body = {
            "status": "ok" if reachable else "degraded",
            "version": app_version(),
            "database": reachable,
        }
        return web.json_response(body, status=200 if reachable else 503)

    web_app = web.Application(client_max_size=1024**2)
    web_app.router.add_post(EVENTS_PATH, slack_events)
    web_app.router.add_get("/health", health)
    return web_app
