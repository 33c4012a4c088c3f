"""HTTP: Slack's requests at POST /slack/events, GET /health, and the portal API under /api."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot.acks import PromptAck
from bot.after_ack import pending_acks
from bot.slack_envelope import shape_error
from bot.slack_http import Authenticator, Refused, SlackRequest, parse_body, summary
from storage.engine import Database, ping

if TYPE_CHECKING:
    from bot.api.app import Api

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
    api: Api | None = None,
) -> web.Application:
    """/health always; /slack/events when serving Slack over HTTP, which needs the signing
    secret (Socket Mode serves only /health, for the container's health check); the portal
    API and its docs under /api when ``api`` is given, on the same port."""

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
    if api is not None:
        api.mount(web_app)
    return web_app


def _slack_events(
    bolt: AsyncApp, auth: Authenticator
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    # Dispatches still running after their ack was sent (Bolt polls until it sees the ack).
    running: set[asyncio.Task[BoltResponse]] = set()

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
        # Work after other acks waits for this one, from now on: not for a body still
        # arriving, nor for a request that is not Slack's.
        with pending_acks().pending():
            return await answer_slack(text, body, request)

    async def answer_slack(text: str, body: dict[str, Any], request: web.Request) -> web.Response:
        """The answer is sent as soon as a listener acks (or a middleware answers), while
        Bolt's dispatch, and the listener's work after its ack, go on in the background."""
        ack = PromptAck()
        try:
            bolt_request = SlackRequest(
                raw_body=text,
                body=body,
                query=request.query_string,
                headers=dict(request.headers),
                context={"ack": ack},
            )
            dispatch = asyncio.create_task(bolt.async_dispatch(bolt_request))
            running.add(dispatch)
            dispatch.add_done_callback(lambda task: _dispatched(task, ack, running))
            answer = await ack.given
        except Exception as error:  # Bolt's own parsing gave up on a shape not checked above
            log.warning("Bolt could not handle a signed payload: %r", error)
            return web.Response(status=400, text="malformed Slack payload")
        if answer is None:  # a listener that never acked: Bolt has logged it
            return web.Response(status=500)
        return await to_aiohttp_response(answer)

    return slack_events


def _dispatched(
    task: asyncio.Task[BoltResponse], ack: PromptAck, running: set[asyncio.Task[BoltResponse]]
) -> None:
    """Bolt's dispatch ended: its answer is the request's unless a listener acked first."""
    running.discard(task)
    if task.cancelled():
        if not ack.given.done():
            ack.given.cancel()
        return
    error = task.exception()
    if not ack.given.done():
        if error is not None:
            ack.given.set_exception(error)
        else:
            ack.given.set_result(task.result())
    elif error is not None:
        log.warning("Bolt failed after the ack was sent: %r", error)
