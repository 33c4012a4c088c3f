"""A local Slack Web API that records every call and answers like Slack.

Tests and the console point the bot's client at it (SLACK_API_URL) and send `response_url`s
to it. It listens on a free port (port 0). Failures are injected per method
(``fail(method, status=429, retry_after=1)``), as bolt-python's own mock server does.

Like Slack, it holds trigger_ids to their rule — valid 3 s from the request that carried
them, and once: the driver tells it of each one it sends (``issue_trigger``), and views.open /
views.push with such an id used late or twice answer ``expired_trigger_id`` (HTTP 200).
Ids it was never told of (crafted by hand) are accepted as before.

The bot is a member of every channel unless told otherwise: ``refuse_channel(channel,
"not_in_channel")`` (or ``channel_not_found``, ``is_archived``) makes chat.postMessage there
fail with that error and conversations.info answer as Slack would.

Like Slack, it keeps what was posted: conversations.history answers a channel's messages
(a DM's by its D-channel id, as conversations.open gives it), newest first, ``limit`` a page
with ``has_more`` and ``response_metadata.next_cursor`` for the next (``cursor``), their
``metadata`` only with ``include_all_metadata``. ``answer_late(method, after=seconds)``
makes Slack accept a call (recorded, its message kept) but answer only ``after`` seconds
later: past the client's timeout, the bot cannot tell whether it was accepted;
``hang_up(method)`` accepts it and closes the connection without an answer;
``fail_after_doing(method, error="fatal_error")`` accepts it and answers an error all the
same, as Slack may for its own failures (``internal_error``, ``fatal_error``, a 5xx).

Files go up as Slack's external upload flow has them (what slack_sdk's ``files_upload_v2``
does): files.getUploadURLExternal answers an ``upload_url`` on this server, a POST of the
bytes there stores them (``fail("upload_url", status=…)`` refuses it), and
files.completeUploadExternal shares the file in ``channel_id``. ``files`` keeps each one,
its bytes and where it was shared (``shared_files(channel)``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

TEAM_ID = "T0DEMO"
BOT_USER_ID = "UBOT"
TRIGGER_SECONDS = 3.0  # Slack: a trigger_id is valid 3 s, for one views.open / views.push
TRIGGERED = frozenset({"views.open", "views.push"})
# Methods Slack answers only for the app-level token (xapp-); all others take the bot token.
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
KEPT = ("text", "blocks", "metadata")  # what a posted message keeps, as history shows it


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class SlackPerson:
    user_id: str
    name: str
    email: str | None
    tz: str = "UTC"
    is_bot: bool = False
    team_id: str = TEAM_ID  # another team's id makes a Slack Connect guest


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    remaining: int


@dataclass
class _Done:
    """Done, and answered ``error`` with HTTP ``status`` all the same."""

    error: str
    status: int
    remaining: int


@dataclass
class _Late:
    seconds: float | None  # None: no answer at all, the connection is closed
    remaining: int


@dataclass
class SlackFile:
    """A file uploaded with the external upload flow: its bytes once POSTed, and the
    channels it was shared in once completed."""

    id: str
    filename: str
    length: int
    content: bytes | None = None
    title: str = ""
    channels: list[str] = field(default_factory=list)
    initial_comment: str | None = None


@dataclass
class FakeSlack:
    """Start with ``await fake.start()``; ``api_url`` goes into SLACK_API_URL."""

    people: dict[str, SlackPerson] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    on_call: Callable[[Call], Awaitable[None]] | None = None
    # More Web API methods, name → answer from the call's params (e.g. Socket Mode's
    # apps.connections.open, added by bot/devtools/socket_mode_fake.py).
    methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = field(default_factory=dict)
    _failures: dict[str, _Failure] = field(default_factory=dict)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    _changed: asyncio.Condition | None = None
    base_url: str = ""
    trigger_seconds: float = TRIGGER_SECONDS
    _triggers: dict[str, float] = field(default_factory=dict)  # id → when issued (monotonic)
    # Channels the bot cannot post in → Slack's error there.
    refused_channels: dict[str, str] = field(default_factory=dict)
    _spent: set[str] = field(default_factory=set)
    _late: dict[str, _Late] = field(default_factory=dict)
    _done_but_failed: dict[str, _Done] = field(default_factory=dict)
    # Channel (a DM by its D id) → the messages posted there, oldest first, as Slack keeps them.
    conversations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Seconds since the epoch for each message ts (as Slack's are); unset, ts count up from
    # 1700000000 by answered call (the console mirrors that numbering).
    ts_clock: Callable[[], float] | None = None
    _last_ts: float = 0.0
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # File id → the file, from files.getUploadURLExternal on.
    files: dict[str, SlackFile] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, key: str) -> str:
        return f"{self.base_url}/respond/{key}"

    def add_person(self, person: SlackPerson) -> None:
        self.people[person.user_id] = person

    def change_time_zone(self, user_id: str, tz: str) -> dict[str, Any]:
        """The person set another time zone in Slack: users.info and users.lookupByEmail
        answer it from now on. Returns the `user_change` event Slack sends subscribed apps."""
        person = self.people[user_id] = replace(self.people[user_id], tz=tz)  # not the shared one
        return {"type": "user_change", "user": _user_json(person), "event_ts": f"{time.time():.6f}"}

    def fail(
        self, method: str, *, status: int = 429, retry_after: int | None = 1, times: int = 1
    ) -> None:
        self._failures[method] = _Failure(status, retry_after, times)

    def answer_late(self, method: str, *, after: float, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` are accepted (recorded, their message kept
        and shown in history) but answered only ``after`` seconds later."""
        self._late[method] = _Late(after, times)

    def hang_up(self, method: str, *, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` are accepted (recorded, their message kept),
        then the connection is closed without an answer, as a proxy cut off mid-answer."""
        self._late[method] = _Late(None, times)

    def fail_after_doing(
        self, method: str, *, error: str = "fatal_error", status: int = 200, times: int = 1
    ) -> None:
        """The next ``times`` calls of ``method`` are done (recorded, their message kept),
        then answered ``{"ok": false, "error": error}`` with HTTP ``status``."""
        self._done_but_failed[method] = _Done(error, status, times)

    def refuse_channel(self, channel: str, error: str | None = "not_in_channel") -> None:
        """From now on the bot cannot post in ``channel`` (``None``: it can again)."""
        if error is None:
            self.refused_channels.pop(channel, None)
        else:
            self.refused_channels[channel] = error

    def issue_trigger(self, trigger_id: str) -> None:
        """A request carrying ``trigger_id`` is being sent now: from now it lives
        ``trigger_seconds``, for one use."""
        self._triggers[trigger_id] = time.monotonic()
        self._spent.discard(trigger_id)

    def _trigger_error(self, method: str, params: dict[str, Any]) -> str | None:
        """Slack's answer to a spent or late trigger_id; ids never issued pass unchecked."""
        trigger_id = str(params.get("trigger_id") or "")
        if method not in TRIGGERED or trigger_id not in self._triggers:
            return None
        late = time.monotonic() - self._triggers[trigger_id] > self.trigger_seconds
        if late or trigger_id in self._spent:
            return "expired_trigger_id"
        self._spent.add(trigger_id)
        return None

    def shared_files(self, channel: str) -> list[SlackFile]:
        """The files shared in ``channel`` (a DM by its D id), in the order shared."""
        return [f for f in self.files.values() if channel in f.channels]

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until ``count`` calls of ``method`` were made (work done after the ack)."""
        assert self._changed is not None, "start() the fake first"
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.of(method)) >= count), timeout
            )
        return self.of(method)

    async def start(self) -> None:
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{key}", self._respond)
        app.router.add_post("/upload/{file_id}", self._upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        self._stopping.set()  # late answers still waiting are given at once
        if self._runner is not None:
            await self._runner.cleanup()

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        if self.on_call is not None:
            await self.on_call(call)
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        failure = self._failures.get(method)
        if failure and failure.remaining > 0:
            failure.remaining -= 1
            await self._record(Call(f"{method}!{failure.status}", params))
            headers = (
                {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            )
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=failure.status, headers=headers
            )
        token = "Bearer xapp-" if method in APP_TOKEN_METHODS else "Bearer xoxb-"
        if not str(request.headers.get("Authorization", "")).startswith(token):
            return web.json_response({"ok": False, "error": "not_authed"})
        trigger_error = self._trigger_error(method, params)
        if trigger_error is not None:  # recorded as e.g. "views.open!expired_trigger_id"
            await self._record(Call(f"{method}!{trigger_error}", params))
            return web.json_response({"ok": False, "error": trigger_error})
        await self._record(Call(method, params))
        body = self._answer(method, params)
        done = self._done_but_failed.get(method)
        if done and done.remaining > 0 and body.get("ok"):
            done.remaining -= 1
            return web.json_response({"ok": False, "error": done.error}, status=done.status)
        late = self._late.get(method)
        if late and late.remaining > 0:  # accepted and done; only the answer is late or lost
            late.remaining -= 1
            if late.seconds is None and request.transport is not None:
                request.transport.close()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), late.seconds)
        return web.json_response(body)

    async def _respond(self, request: web.Request) -> web.Response:
        params = await _params(request)
        failure = self._failures.get("response_url")
        if failure and failure.remaining > 0:  # e.g. 404 "expired_url", as Slack answers
            failure.remaining -= 1
            await self._record(Call(f"response_url!{failure.status}", params))
            return web.Response(status=failure.status, text="expired_url")
        await self._record(Call("response_url", {**params, "key": request.match_info["key"]}))
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload_url: the file's bytes, as the body of a POST (no token: the URL is it)."""
        file = self.files.get(request.match_info["file_id"])
        data = await request.read()
        failure = self._failures.get("upload_url")
        if failure and failure.remaining > 0:
            failure.remaining -= 1
            await self._record(Call(f"upload_url!{failure.status}", {"length": len(data)}))
            return web.Response(status=failure.status, text="upload failed")
        if file is None:
            return web.Response(status=404, text="not found")
        file.content = data
        await self._record(Call("upload_url", {"file_id": file.id, "length": len(data)}))
        return web.Response(text=f"OK - {len(data)}")

    def _upload_url(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        """files.getUploadURLExternal: a file id and where to POST its bytes."""
        filename = str(params.get("filename") or "")
        try:
            length = int(params.get("length") or 0)
        except ValueError:
            length = 0
        if not filename or length <= 0:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{ts.replace('.', '')}"
        self.files[file_id] = SlackFile(file_id, filename, length)
        return {"upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        """files.completeUploadExternal: the uploaded files, shared in ``channel_id``."""
        try:
            listed = json.loads(str(params.get("files") or "[]"))
        except json.JSONDecodeError:
            return {"ok": False, "error": "invalid_arguments"}
        named = params.get("channel_id") or params.get("channels") or ""
        channels = [c for c in str(named).split(",") if c]
        refused = next(filter(None, map(self.refused_channels.get, channels)), None)
        if refused is not None:
            return {"ok": False, "error": refused}
        done: list[SlackFile] = []
        for item in listed if isinstance(listed, list) else []:
            file = self.files.get(str(item.get("id") if isinstance(item, dict) else ""))
            if file is None or file.content is None:  # never issued, or its bytes never came
                return {"ok": False, "error": "file_not_found"}
            file.title = str(item.get("title") or file.filename)
            done.append(file)
        if not done:
            return {"ok": False, "error": "invalid_arguments"}
        for file in done:
            file.channels += channels
            file.initial_comment = params.get("initial_comment")
        return {
            "files": [
                {"id": f.id, "name": f.filename, "title": f.title, "size": f.length} for f in done
            ]
        }

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        ts = self._next_ts()
        answers: dict[str, Callable[[], dict[str, Any]]] = {
            "auth.test": lambda: {
                "user_id": BOT_USER_ID,
                "bot_id": "BBOT",
                "team_id": TEAM_ID,
                "team": "Demo",
                "url": "https://demo.slack.com/",
            },
            "users.info": lambda: self._user_info(str(params.get("user", ""))),
            "users.lookupByEmail": lambda: self._lookup(str(params.get("email", ""))),
            "conversations.open": lambda: {
                "channel": {"id": "D" + str(params.get("users", "")).split(",")[0]}
            },
            "chat.postMessage": lambda: self._post(params, ts),
            "chat.postEphemeral": lambda: {"message_ts": ts},
            "conversations.info": lambda: self._conversation(str(params.get("channel", ""))),
            "chat.update": lambda: self._update(params),
            "conversations.history": lambda: self._history(params),
            "views.open": lambda: {"view": {"id": f"V{ts}", **_view(params)}},
            "views.update": lambda: {
                "view": {"id": params.get("view_id") or f"V{ts}", **_view(params)}
            },
            "views.push": lambda: {"view": {"id": f"V{ts}", **_view(params)}},
            "views.publish": lambda: {"view": {"id": f"V{ts}", **_view(params)}},
            "files.getUploadURLExternal": lambda: self._upload_url(params, ts),
            "files.completeUploadExternal": lambda: self._complete_upload(params),
        }
        refused = self.refused_channels.get(str(params.get("channel", "")))
        if refused is not None and method in ("chat.postMessage", "chat.postEphemeral"):
            return {"ok": False, "error": refused}
        extra = self.methods.get(method)
        answer = answers.get(method)
        if extra is not None:
            body = extra(params)
        elif answer is not None:
            body = answer()
        else:
            return {"ok": False, "error": "unknown_method"}
        return body if body.get("ok") is False else {"ok": True, **body}

    def _next_ts(self) -> str:
        n = next(self._ts)
        if self.ts_clock is None:
            return f"{1700000000 + n}.000100"
        self._last_ts = max(self.ts_clock(), self._last_ts + 0.000001)  # unique, as Slack's
        return f"{self._last_ts:.6f}"

    def _post(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        """chat.postMessage: kept in its channel (a user id lands in the app's DM)."""
        channel = str(_dm_channel(params.get("channel")))
        message: dict[str, Any] = {
            "type": "message",
            "ts": ts,
            "user": BOT_USER_ID,
            "bot_id": "BBOT",
            **{k: params[k] for k in KEPT if k in params},
        }
        self.conversations.setdefault(channel, []).append(message)
        return {"channel": channel, "ts": ts, "message": message}

    def _update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel")), str(params.get("ts"))
        for message in self.conversations.get(channel, []):
            if message["ts"] == ts:
                message.update({k: params[k] for k in KEPT if k in params})
        return {"channel": channel, "ts": ts, "text": params.get("text")}

    def _history(self, params: dict[str, Any]) -> dict[str, Any]:
        """conversations.history: messages after ``oldest``, newest first, ``limit`` a page
        (Slack's default 100, at most 999), the next page from ``cursor``. A user id is no
        conversation: Slack wants the DM's D id."""
        channel = str(params.get("channel", ""))
        refused = self.refused_channels.get(channel)
        if not channel or channel.startswith(("U", "W")) or refused == "channel_not_found":
            return {"ok": False, "error": "channel_not_found"}
        if refused == "not_in_channel":
            return {"ok": False, "error": "not_in_channel"}
        oldest = float(params.get("oldest") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 999)
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        kept = self.conversations.get(channel, [])
        newer = [m for m in reversed(kept) if float(m["ts"]) > oldest]
        if params.get("cursor"):
            up_to = _cursor_ts(str(params["cursor"]))
            if up_to is None:
                return {"ok": False, "error": "invalid_cursor"}
            newer = [m for m in newer if float(m["ts"]) <= up_to]
        messages = [
            m if with_metadata else {k: v for k, v in m.items() if k != "metadata"}
            for m in newer[:limit]
        ]
        more = len(newer) > limit
        cursor = _cursor(str(newer[limit]["ts"])) if more else ""
        return {
            "messages": messages,
            "has_more": more,
            "response_metadata": {"next_cursor": cursor},
        }

    def _conversation(self, channel: str) -> dict[str, Any]:
        """conversations.info: a private channel the bot is not in reads as not found."""
        refused = self.refused_channels.get(channel)
        if refused == "channel_not_found":
            return {"ok": False, "error": refused}
        return {
            "channel": {
                "id": channel,
                "is_channel": True,
                "is_member": refused != "not_in_channel",
                "is_archived": refused == "is_archived",
            }
        }

    def _user_info(self, user_id: str) -> dict[str, Any]:
        person = self.people.get(user_id)
        if person is None:
            return {"ok": False, "error": "user_not_found"}
        return {"user": _user_json(person)}

    def _lookup(self, email: str) -> dict[str, Any]:
        for person in self.people.values():
            if person.email and person.email.lower() == email.lower():
                return {"user": _user_json(person)}
        return {"ok": False, "error": "users_not_found"}


def _cursor(ts: str) -> str:
    """A page's cursor, as Slack's: base64 of the ts its first message has."""
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def _cursor_ts(cursor: str) -> float | None:
    try:
        prefix, _, ts = base64.b64decode(cursor, validate=True).decode().partition(":")
        return float(ts) if prefix == "next_ts" else None
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _dm_channel(channel: object) -> object:
    """Posting to a user id lands in the app's DM with that person, whose id Slack returns."""
    return f"D{channel}" if isinstance(channel, str) and channel.startswith("U") else channel


def _user_json(person: SlackPerson) -> dict[str, Any]:
    profile = {"real_name": person.name.title(), "display_name": person.name}
    if person.email:
        profile["email"] = person.email
    return {
        "id": person.user_id,
        "team_id": person.team_id,
        "name": person.name,
        "real_name": person.name.title(),
        "is_bot": person.is_bot,
        "tz": person.tz,
        "profile": profile,
    }


def _view(params: dict[str, Any]) -> dict[str, Any]:
    view = params.get("view")
    if isinstance(view, str):
        view = json.loads(view)
    return view if isinstance(view, dict) else {}


async def _params(request: web.Request) -> dict[str, Any]:
    """Query string and body together: slack_sdk sends some methods' arguments in either."""
    params: dict[str, Any] = dict(request.query)
    if request.method == "GET":
        return params
    raw = await request.text()
    if request.content_type == "application/json":
        data = json.loads(raw or "{}")
        return {**params, **data} if isinstance(data, dict) else params
    params.update(parse_qsl(raw))
    for key in ("blocks", "view", "attachments", "metadata"):
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params
