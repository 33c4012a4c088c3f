"""What the bot said, from the fake Slack's recorded calls: messages, DMs, modals, Home tabs.

The transcript reads every recorded call once, in order, and turns it into printable lines.
It remembers where each message or view lives (its *surface*: channel and ts, or view id),
who may see it, and the buttons on it by number, so a click can be sent back with the
container Slack would send. Modals are kept as a stack per person, as Slack keeps them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.console.render import (
    JSON,
    ButtonRef,
    indent,
    render_message,
    render_view,
    summarize_call,
)
from bot.devtools.driver import Reply
from bot.devtools.fake_slack import Call

# The fake Slack answers its n-th answered Web API call with ts "{FAKE_TS_BASE + n}.000100";
# the console mirrors that to know each posted message's ts and each view's id.
FAKE_TS_BASE = 1700000000
CHANNEL_NAMES = {"C0RELEASE": "releases"}


@dataclass
class Surface:
    """A message or view that buttons live on."""

    key: str
    where: str
    owner: str | None  # the one person who sees it; None: everyone in the channel
    container: JSON
    view: JSON | None = None


@dataclass(frozen=True)
class Button:
    number: int
    ref: ButtonRef
    surface: Surface


@dataclass(frozen=True)
class Origin:
    """What led to a batch of calls: who acted, where, and (for a click) on what."""

    user_id: str
    channel_id: str = "C0RELEASE"
    surface: Surface | None = None


@dataclass
class Transcript:
    names: Mapping[str, str]  # Slack user id → persona name
    buttons: dict[int, Button] = field(default_factory=dict)
    retired: set[int] = field(default_factory=set)
    modals: dict[str, list[JSON]] = field(default_factory=dict)
    homes: dict[str, Surface] = field(default_factory=dict)
    _surfaces: dict[str, Surface] = field(default_factory=dict)
    _on_surface: dict[str, list[int]] = field(default_factory=dict)
    seen: int = 0
    _answered: int = 0
    _replies: int = 0
    _pushed: int = 0
    _next_button: int = 1

    # --- reading the fake's calls -----------------------------------------------------

    def absorb(self, calls: Sequence[Call], origin: Origin) -> list[str]:
        """Lines for every call recorded since the last time, attributed to ``origin``."""
        lines: list[str] = []
        for call in calls[self.seen :]:
            lines += self._one(call, origin)
        self.seen = len(calls)
        return lines

    def _one(self, call: Call, origin: Origin) -> list[str]:
        method, params = call.method, call.params
        if "!" in method:
            name, _, status = method.partition("!")
            if not status.isdigit():  # e.g. expired_trigger_id: Slack's "ok": false, no retry
                return [f"· slack {name} → refused: {status}"]
            return [f"· slack {name} → HTTP {status} (the bot's client retries)"]
        if method == "response_url":
            return self._response(params, origin)
        self._answered += 1
        ts = f"{FAKE_TS_BASE + self._answered}.000100"
        if method in ("chat.postMessage", "chat.postEphemeral"):
            return self._posted(method, params, ts)
        if method == "chat.update":
            return self._updated(params)
        if method == "chat.delete":
            return self._deleted(
                f"msg:{self.dm_channel(str(params.get('channel')))}:{params.get('ts')}"
            )
        if method in ("views.open", "views.push", "views.update"):
            return self._modal(method, params, ts, origin)
        if method == "views.publish":
            return self._home(params, ts)
        return [summarize_call(method, params)]

    def show_ack(self, body: JSON, origin: Origin) -> list[str]:
        """A message carried by a slash command's ack itself (``ack(text=…)``)."""
        return self._response(body, origin)

    # --- messages -----------------------------------------------------------------------

    def _response(self, params: JSON, origin: Origin) -> list[str]:
        clicked = origin.surface if origin.surface and origin.surface.view is None else None
        if params.get("delete_original") and clicked:
            return self._deleted(clicked.key)
        if params.get("replace_original") and clicked:
            return self._show(clicked, f"updated message · {clicked.where}", params)
        self._replies += 1
        channel = str(clicked.container["channel_id"]) if clicked else origin.channel_id
        ts = f"{FAKE_TS_BASE + 100000000 + self._replies}.000000"
        ephemeral = params.get("response_type", "ephemeral") != "in_channel"
        owner = origin.user_id if ephemeral or self.is_dm(channel) else None
        if self.is_dm(channel):
            where = self.channel_label(channel)
        elif ephemeral:
            where = f"only {self.name(origin.user_id)} sees this (ephemeral)"
        else:
            where = f"in {self.channel_label(channel)} (everyone sees it)"
        surface = self._surface(f"msg:{channel}:{ts}", where, owner, channel, ts, ephemeral)
        return self._show(surface, where, params)

    def _posted(self, method: str, params: JSON, ts: str) -> list[str]:
        channel = str(params.get("channel", ""))
        owner = self.dm_owner(channel)
        where = self.channel_label(channel) if owner else f"in {self.channel_label(channel)}"
        ephemeral = method == "chat.postEphemeral"
        if ephemeral:
            owner = str(params.get("user", ""))
            where = f"only {self.name(owner)} sees this, {where} (ephemeral)"
        if params.get("thread_ts"):
            where += " · reply in thread"
        key = f"msg:{self.dm_channel(channel)}:{ts}"
        return self._show(self._surface(key, where, owner, channel, ts, ephemeral), where, params)

    def _updated(self, params: JSON) -> list[str]:
        channel, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        key = f"msg:{self.dm_channel(channel)}:{ts}"
        surface = self._surfaces.get(key) or self._surface(
            key, self.channel_label(channel), self.dm_owner(channel), channel, ts, False
        )
        return self._show(surface, f"updated message · {surface.where}", params)

    def _deleted(self, key: str) -> list[str]:
        surface = self._surfaces.get(key)
        self._retire(key)
        return [f"── deleted message · {surface.where if surface else key} ──"]

    # --- views --------------------------------------------------------------------------

    def _modal(self, method: str, params: JSON, ts: str, origin: Origin) -> list[str]:
        view = dict(params.get("view") or {})
        user = origin.user_id
        if method == "views.update":
            view_id = str(params.get("view_id") or "")
            home = next((h for h in self.homes.values() if h.container["view_id"] == view_id), None)
            if home is not None and home.owner is not None:
                return self._home({"user_id": home.owner, "view": view}, ts, view_id)
            user, index = self._find_modal(view_id, str(params.get("external_id") or ""))
            if index is None:
                return [f"· slack views.update of a modal that is not open ({view_id or '?'})"]
            view["id"] = self.modals[user][index]["id"]
            self.modals[user][index] = view
            verb = "updated"
        else:
            view["id"] = f"V{ts}"
            stack = self.modals.setdefault(user, [])
            if method == "views.open":
                stack.clear()
            stack.append(view)
            verb = "opened" if method == "views.open" else "pushed"
        return self.show_modal(user, view, verb)

    def show_modal(self, user: str, view: JSON, verb: str) -> list[str]:
        where = f"modal {verb} for {self.name(user)}"
        surface = Surface(
            f"view:{view['id']}", where, user, {"type": "view", "view_id": view["id"]}, view
        )
        return self._show(surface, where, None, view=view)

    def _find_modal(self, view_id: str, external_id: str) -> tuple[str, int | None]:
        for user, stack in self.modals.items():
            for index, view in enumerate(stack):
                if view.get("id") == view_id or (
                    external_id and view.get("external_id") == external_id
                ):
                    return user, index
        return "", None

    def replace_top(self, user: str, view: JSON, *, push: bool) -> JSON:
        """After a submission answered ``response_action: update`` or ``push``."""
        stack = self.modals.setdefault(user, [])
        if push or not stack:
            self._pushed += 1
            view = {**view, "id": f"VPUSHED{self._pushed}"}
            stack.append(view)
        else:
            view = {**view, "id": stack[-1]["id"]}
            stack[-1] = view
        return view

    def close_modal(self, user: str, *, all_views: bool = False) -> None:
        stack = self.modals.get(user, [])
        closing = stack[:] if all_views else stack[-1:]
        for view in closing:
            self._retire(f"view:{view['id']}")
            stack.remove(view)

    def _home(self, params: JSON, ts: str, view_id: str | None = None) -> list[str]:
        user = str(params.get("user_id", ""))
        view = {**dict(params.get("view") or {}), "id": view_id or f"V{ts}"}
        where = f"App Home of {self.name(user)}"
        surface = Surface(
            f"home:{user}", where, user, {"type": "view", "view_id": view["id"]}, view
        )
        self.homes[user] = surface
        return self._show(surface, where, None, view=view)

    # --- surfaces and buttons -------------------------------------------------------------

    def _surface(
        self, key: str, where: str, owner: str | None, channel: str, ts: str, ephemeral: bool
    ) -> Surface:
        container = {
            "type": "message",
            "channel_id": self.dm_channel(channel),
            "message_ts": ts,
            "is_ephemeral": ephemeral,
        }
        return Surface(key, where, owner, container)

    def _show(
        self, surface: Surface, title: str, params: JSON | None, *, view: JSON | None = None
    ) -> list[str]:
        self._retire(surface.key)
        self._surfaces[surface.key] = surface
        numbers = self._on_surface.setdefault(surface.key, [])

        def number(ref: ButtonRef) -> int:
            button = Button(self._next_button, ref, surface)
            self.buttons[button.number] = button
            numbers.append(button.number)
            self._next_button += 1
            return button.number

        body = (
            render_view(view, number, self.names)
            if view
            else render_message(params or {}, number, self.names)
        )
        return [f"── {title} ──", *indent(body)]

    def _retire(self, key: str) -> None:
        for number in self._on_surface.pop(key, []):
            self.buttons.pop(number, None)
            self.retired.add(number)

    # --- names ------------------------------------------------------------------------

    def name(self, user_id: str) -> str:
        return self.names.get(user_id, user_id)

    def dm_owner(self, channel: str) -> str | None:
        """The person a DM channel belongs to (the fake opens ``D<user id>``), else None."""
        if channel.startswith("D") and channel[1:] in self.names:
            return channel[1:]
        return channel if channel in self.names else None

    def dm_channel(self, channel: str) -> str:
        """Posting to a user id lands in the DM with them."""
        return f"D{channel}" if channel in self.names else channel

    def is_dm(self, channel: str) -> bool:
        return self.dm_owner(channel) is not None

    def channel_label(self, channel: str) -> str:
        owner = self.dm_owner(channel)
        if owner is not None:
            return f"DM to {self.name(owner)}"
        return f"#{CHANNEL_NAMES.get(channel, channel)}"

    def visible_buttons(self, user_id: str) -> list[Button]:
        return [b for b in self.buttons.values() if b.surface.owner in (None, user_id)]


def reply_note(reply: Reply, what: str) -> str | None:
    """What to tell the person when the bot's HTTP answer was not a plain 200."""
    if reply.status == 200:
        return None
    if reply.status == 404:
        return f"(the bot has no listener for {what} yet)"
    if reply.status == 401:
        return "(the bot refused the request's signature)"
    return f"(the bot answered HTTP {reply.status}: {reply.text[:200]})"


def ack_message(body: Any) -> JSON | None:
    """A message carried by the ack itself (``ack(text=…)``), if any."""
    if isinstance(body, dict) and (body.get("text") or body.get("blocks")):
        return body
    return None
