"""HTTP: Slack's requests at POST /slack/events, and GET /health."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from importlib.metadata import PackageNotFoundError, version

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp

from bot.slack_envelope import shape_error
from bot.slack_http import Authenticator, Refused, SlackRequest, parse_body, summary
from storage.engine import Database, ping

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_BODY_BYTES = 1024**2  # Slack's payloads are far smaller; beyond this aiohttp answers 413


def app_version() -> str:
    try:
        return version("releasebot")
    except PackageNotFoundError:
        return "unknown"


def build_web_app(
    bolt: AsyncApp | None,
    db: Database,
    *,
    signing_secret: str | None,
    engine: str = "embedded",
    database_name: str = "releasebot",
) -> web.Application:
    """/health always; /slack/events when serving Slack over HTTP, which needs the signing
    secret (Socket Mode serves only /health, for the container's health check)."""

    async def health(_request: web.Request) -> web.Response:
        reachable = await ping(db)
        body = {
            "status": "ok" if reachable else "degraded",
            "version": app_version(),
            "database": reachable,
            "engine": engine,
            "database_name": database_name,
        }
        return web.json_response(body, status=200 if reachable else 503)

    web_app = web.Application(client_max_size=MAX_BODY_BYTES)
    web_app.router.add_get("/health", health)
    if bolt is not None:
        if not signing_secret:
            raise ValueError("serving Slack over HTTP needs SLACK_SIGNING_SECRET")
        web_app.router.add_post(EVENTS_PATH, _slack_events(bolt, Authenticator(signing_secret)))
    return web_app


def _slack_events(
    bolt: AsyncApp, auth: Authenticator
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def slack_events(request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            text = auth.check(raw, headers)
            body = parse_body(text, request.content_type)
        except Refused as refused:
            log.warning("refused a request (%s): %s", refused.reason, summary(raw, headers))
            return web.Response(status=refused.status, text=refused.reason)
        problem = shape_error(body)
        if problem is not None:
            log.warning("refused a signed payload of the wrong shape: %s", problem[:200])
            return web.Response(status=400, text="malformed Slack payload")
        if body.get("type") == "app_rate_limited":  # Slack's notice: nothing to run
            log.warning("Slack is rate-limiting events to this app: %s", summary(raw, headers))
            return web.Response(status=200)
        try:
            bolt_request = SlackRequest(
                raw_body=text,
                body=body,
                query=request.query_string,
                headers=dict(request.headers),
            )
            answer = await bolt.async_dispatch(bolt_request)
        except Exception as error:  # Bolt's own parsing gave up on a shape not checked above
            log.warning("Bolt could not handle a signed payload: %r", error)
            return web.Response(status=400, text="malformed Slack payload")
        return await to_aiohttp_response(answer)

    return slack_events
