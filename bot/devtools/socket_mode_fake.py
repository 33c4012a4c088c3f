"""Slack's side of Socket Mode, next to a FakeSlack: for tests of the bot over a WebSocket.

As Slack does it: the app calls ``apps.connections.open`` with its app-level token (xapp-) and
gets a URL (here ws://127.0.0.1:<port>/link); it opens a WebSocket there and is greeted with
``{"type": "hello", …}``. Slack then sends envelopes — ``{"envelope_id", "type":
"slash_commands" | "interactive" | "events_api", "payload", "accepts_response_payload"}`` —
and the app must answer each on the socket with ``{"envelope_id"}`` (and an optional
``"payload"``) within 3 seconds. ``disconnect`` asks the app to reconnect, as Slack does
before it recycles a connection.

The payloads are the ones Slack sends over HTTP (the same fields as SlackDriver's), so the
same Bolt listeners answer them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from bot.devtools.fake_slack import TEAM_ID, FakeSlack
from bot.devtools.harness import BOT_TOKEN, DEMO_PEOPLE, local_settings
from bot.devtools.payloads import (
    APP_ID,
    CHANNEL_ID,
    click_payload,
    command_payload,
    event_payload,
    submission_payload,
)
from bot.runtime import Runtime, build_runtime
from core.clock import Clock, utc_now
from storage.engine import Database

APP_TOKEN = "xapp-1-A0RELEASEBOT-1-local-fake-app-token"
ACK_SECONDS = 3.0  # Slack's limit for an envelope's acknowledgement
LINK_PATH = "/link"


@dataclass(frozen=True)
class Ack:
    """The app's answer to one envelope."""

    envelope_id: str
    payload: dict[str, Any] | None
    seconds: float  # from sending the envelope to receiving the answer


class SocketModeFake:
    """Start with ``await link.start()`` (after ``slack.start()``); it answers the fake's
    ``apps.connections.open`` from then on."""

    def __init__(self, slack: FakeSlack, *, app_id: str = APP_ID) -> None:
        self.slack = slack
        self.app_id = app_id
        self.connections = 0  # sockets opened and greeted with hello
        self.received: list[dict[str, Any]] = []  # everything the app sent, in order
        self.base_url = ""
        self._sockets: list[web.WebSocketResponse] = []
        self._sent_at: dict[str, float] = {}
        self._answered_at: dict[str, float] = {}
        self._runner: web.AppRunner | None = None
        self._changed: asyncio.Condition | None = None
        self._seq: itertools.count[int] = itertools.count(1)

    @property
    def url(self) -> str:
        return f"{self.base_url}{LINK_PATH}"

    @property
    def acks(self) -> list[dict[str, Any]]:
        return [message for message in self.received if "envelope_id" in message]

    async def start(self) -> None:
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_get(LINK_PATH, self._link)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"ws://127.0.0.1:{port}"
        self.slack.methods["apps.connections.open"] = self._open

    async def stop(self) -> None:
        self.slack.methods.pop("apps.connections.open", None)
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_connected(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until the app opened ``count`` connections in all and one is open now."""
        await self._wait(lambda: self.connections >= count and bool(self._sockets), timeout)

    async def wait_closed(self, timeout: float = 2.0) -> None:
        """Wait until no socket is open (the app closed its connection)."""
        await self._wait(lambda: not self._sockets, timeout)

    # --- envelopes ------------------------------------------------------------------------

    async def send(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool = False,
        **extra: Any,
    ) -> str:
        """Send one envelope on the newest open socket; its envelope_id."""
        if not self._sockets:
            raise RuntimeError("the app is not connected")
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            **extra,
        }
        self._sent_at[envelope_id] = time.monotonic()
        await self._sockets[-1].send_str(json.dumps(envelope))
        return envelope_id

    async def ack(self, envelope_id: str, timeout: float = ACK_SECONDS) -> Ack:
        """The app's answer to the envelope; TimeoutError if it is later than Slack waits."""
        await self._wait(lambda: envelope_id in self._answered_at, timeout)
        answer = next(m for m in self.acks if m["envelope_id"] == envelope_id)
        seconds = self._answered_at[envelope_id] - self._sent_at[envelope_id]
        return Ack(envelope_id, answer.get("payload"), seconds)

    async def request(
        self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool, **extra: Any
    ) -> Ack:
        envelope_id = await self.send(
            kind, payload, accepts_response_payload=accepts_response_payload, **extra
        )
        return await self.ack(envelope_id)

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the app to reconnect, as Slack does before it recycles a connection."""
        await self._sockets[-1].send_str(
            json.dumps({"type": "disconnect", "reason": reason, "debug_info": {"host": "fake"}})
        )

    # --- what Slack sends (the same payloads as over HTTP) ----------------------------------

    def _trigger(self, n: int) -> str:
        """A fresh trigger_id: the fake Slack holds it to 3 s and one use from now."""
        trigger_id = f"trigger.socket.{n}"
        self.slack.issue_trigger(trigger_id)
        return trigger_id

    async def command(self, user_id: str, text: str, *, channel_id: str = CHANNEL_ID) -> Ack:
        n = next(self._seq)
        payload = command_payload(
            team_id=TEAM_ID,
            user_id=user_id,
            text=text,
            channel_id=channel_id,
            response_url=self.slack.response_url(f"socket-cmd{n}"),
            trigger_id=self._trigger(n),
        )
        payload["is_enterprise_install"] = "false"  # what Socket Mode adds to a command
        return await self.request("slash_commands", payload, accepts_response_payload=True)

    async def click(
        self,
        user_id: str,
        action_id: str,
        value: str,
        *,
        block_id: str = "actions",
        container: dict[str, Any] | None = None,
    ) -> Ack:
        n = next(self._seq)
        payload = click_payload(
            team_id=TEAM_ID,
            user_id=user_id,
            action_id=action_id,
            value=value,
            block_id=block_id,
            seq=n,
            response_url=self.slack.response_url(f"socket-act{n}"),
            trigger_id=self._trigger(n),
            container=container,
        )
        return await self.request("interactive", payload, accepts_response_payload=False)

    async def submit(
        self, user_id: str, view: dict[str, Any], values: dict[str, dict[str, Any]]
    ) -> Ack:
        """Submit a modal; ``values`` as Slack sends them: block → action → state."""
        payload = submission_payload(
            team_id=TEAM_ID,
            user_id=user_id,
            view=view,
            values=values,
            trigger_id=self._trigger(next(self._seq)),
        )
        return await self.request("interactive", payload, accepts_response_payload=True)

    async def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry_attempt: int = 0
    ) -> Ack:
        payload = event_payload(team_id=TEAM_ID, event=event, event_id=event_id)
        return await self.request(
            "events_api",
            payload,
            accepts_response_payload=False,
            retry_attempt=retry_attempt,
            retry_reason="timeout" if retry_attempt else "",
        )

    # --- the server ---------------------------------------------------------------------------

    def _open(self, _params: dict[str, Any]) -> dict[str, Any]:
        ticket = uuid.uuid4().hex
        return {"url": f"{self.url}?ticket={ticket}&app_id={self.app_id}"}

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()  # answers the app's pings (autoping)
        await socket.prepare(request)
        await socket.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": len(self._sockets) + 1,
                    "debug_info": {"host": "fake", "approximate_connection_time": 18060},
                    "connection_info": {"app_id": self.app_id},
                }
            )
        )
        self._sockets.append(socket)
        self.connections += 1
        await self._notify()
        try:
            async for message in socket:
                if message.type is WSMsgType.TEXT:
                    data = json.loads(message.data)
                    if isinstance(data, dict):
                        self.received.append(data)
                        if "envelope_id" in data:
                            self._answered_at.setdefault(str(data["envelope_id"]), time.monotonic())
                        await self._notify()
        finally:
            self._sockets.remove(socket)
            await self._notify()
        return socket

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    async def _wait(self, done: Callable[[], bool], timeout: float) -> None:
        assert self._changed is not None, "start() the fake first"
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(done), timeout)


@dataclass
class SocketModeBot:
    runtime: Runtime
    slack: FakeSlack
    link: SocketModeFake


@asynccontextmanager
async def local_socket_bot(
    *, db: Database | None = None, clock: Clock = utc_now, **overrides: object
) -> AsyncIterator[SocketModeBot]:
    """The bot in Socket Mode (no signing secret, no HTTP server), connected to a fake Slack."""
    from bot.socket_mode import run_socket_mode

    slack = FakeSlack()
    for person in DEMO_PEOPLE:
        slack.add_person(person)
    await slack.start()
    link = SocketModeFake(slack)
    await link.start()
    values: dict[str, object] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_app_token": APP_TOKEN,
        "slack_signing_secret": None,
        **overrides,
    }
    runtime = await build_runtime(local_settings(slack, **values), clock=clock, db=db)
    stop = asyncio.Event()
    running = asyncio.create_task(run_socket_mode(runtime, stop))
    try:
        await link.wait_connected()
        yield SocketModeBot(runtime, slack, link)
    finally:
        stop.set()
        try:
            await asyncio.wait_for(running, 5)
            await link.wait_closed()  # the app itself closed its socket
        finally:
            await runtime.deps.settle()
            await link.stop()
            await slack.stop()
            runtime.close()
