"""`/release <subcommand> …`: parse the text, check who may run it, dispatch, report errors."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.answers import DeliveredRespond
from bot.deps import BotDeps
from bot.errors import NotLinked, SlackBusy, user_message
from core.errors import ValidationFailed
from core.rules.permissions import Actor

MAX_TEXT = 2000
_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")


def mentioned_user(token: str) -> str | None:
    """The Slack user id in a mention as Slack sends it: ``<@U123|name>``."""
    match = _MENTION.match(token)
    return match.group(1) if match else None


@dataclass(frozen=True)
class CommandRequest:
    """One `/release` invocation, parsed, with what a handler needs to answer it."""

    name: str
    args: list[str]
    body: dict[str, Any]
    actor: Actor | None
    tz: ZoneInfo
    client: AsyncWebClient
    respond: AsyncRespond
    deps: BotDeps

    @property
    def user(self) -> Actor:
        if self.actor is None:
            raise NotLinked()
        return self.actor

    @property
    def team_id(self) -> str:
        """The team part of identities: the served workspace (or org), one for everyone."""
        return self.deps.home.key

    @property
    def channel_id(self) -> str:
        return str(self.body.get("channel_id", ""))

    @property
    def trigger_id(self) -> str:
        return str(self.body.get("trigger_id", ""))

    def arg(self, index: int, what: str) -> str:
        if len(self.args) <= index:
            raise ValidationFailed(f"Missing {what}. Usage: `/release {self.usage}`")
        return self.args[index]

    @property
    def usage(self) -> str:
        spec = self.deps.router.get(self.name)
        return f"{self.name} {spec.usage}".strip() if spec else self.name


Handler = Callable[[CommandRequest], Awaitable[None]]


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    summary: str
    handler: Handler
    open_to_unlinked: bool = False
    queued: bool = False


@dataclass
class Router:
    """The subcommand table. Modules add theirs with ``@router.add(...)``."""

    commands: dict[str, Subcommand] = field(default_factory=dict)

    def add(
        self,
        name: str,
        usage: str,
        summary: str,
        *,
        open_to_unlinked: bool = False,
        queued: bool = False,
    ) -> Callable[[Handler], Handler]:
        """``queued``: answer from the after-ack workers (read-only answers; never a modal,
        whose trigger_id would expire while waiting)."""

        def decorate(handler: Handler) -> Handler:
            self.commands[name] = Subcommand(
                name, usage, summary, handler, open_to_unlinked, queued
            )
            return handler

        return decorate

    def get(self, name: str) -> Subcommand | None:
        return self.commands.get(name)


_WORD = re.compile(r'"([^"]*)"|(\S+)')


def split(text: str) -> list[str]:
    """Words of the command text; double quotes group words ("Security scan").

    Apostrophes and backslashes are ordinary characters (``list rhea's``)."""
    if len(text) > MAX_TEXT:
        raise ValidationFailed(
            f"That command is too long ({len(text)} characters; at most {MAX_TEXT})."
        )
    text = text.replace("“", '"').replace("”", '"')
    if text.count('"') % 2:
        raise ValidationFailed('A quote is not closed. Put names with spaces in "double quotes".')
    return [quoted if quoted or not bare else bare for quoted, bare in _WORD.findall(text)]


async def dispatch(
    deps: BotDeps,
    *,
    ack: AsyncAck,
    body: dict[str, Any],
    context: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    """Ack at once, then run the subcommand; every failure becomes an ephemeral message."""
    await ack()
    respond = DeliveredRespond(
        respond,
        client,
        channel_id=str(body.get("channel_id", "")),
        user_id=str(body.get("user_id", "")),
    )
    try:
        request, spec = _parse(deps, body, context, client, respond)
    except Exception as error:
        await respond(text=user_message(error), response_type="ephemeral", replace_original=False)
        return

    async def run() -> None:
        try:
            if request.actor is None and not spec.open_to_unlinked:
                if context.get("identity_uncertain"):
                    raise SlackBusy()
                raise NotLinked(guest=bool(context.get("identity_guest")))
            await spec.handler(request)
        except Exception as error:  # every failure is answered, never swallowed
            await respond(
                text=user_message(error), response_type="ephemeral", replace_original=False
            )

    if spec.queued:
        deps.after_ack.submit(run)
    else:
        await run()


def _parse(
    deps: BotDeps,
    body: dict[str, Any],
    context: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> tuple[CommandRequest, Subcommand]:
    words = split(str(body.get("text") or ""))
    name = words[0].lower() if words else "help"
    known = deps.router.get(name)
    spec = known or deps.router.get("help")
    assert spec is not None, "the help subcommand is always registered"
    request = CommandRequest(
        name=spec.name,
        args=words[1:] if known else [name],
        body=body,
        actor=context.get("actor"),
        tz=context.get("tz") or deps.default_tz,
        client=client,
        respond=respond,
        deps=deps,
    )
    return request, spec
