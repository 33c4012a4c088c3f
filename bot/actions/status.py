"""Buttons on reading messages: the status message's Refresh and History, the list's More.

Each is answered through the click's response_url, or, when Slack does not take it, to the
clicker in the channel or by DM (bot/answers.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from blocks.ids import ActionId
from blocks.message import Message
from blocks.releases import ListPage
from bot.answers import delivered
from bot.deps import BotDeps
from bot.errors import user_message
from bot.identity import actor_of
from bot.release_messages import release_history, release_page, status_message
from core.rules.permissions import Actor

# (deps, actor, button value, viewer's time zone) → the message to answer with
Answer = Callable[[BotDeps, Actor, str, ZoneInfo], Awaitable[Message]]


async def refreshed_status(deps: BotDeps, actor: Actor, release_id: str, tz: ZoneInfo) -> Message:
    return await status_message(deps.services, actor, release_id, tz)


async def history(deps: BotDeps, actor: Actor, release_id: str, tz: ZoneInfo) -> Message:
    return await release_history(deps, actor, release_id, tz)


async def next_page(deps: BotDeps, actor: Actor, value: str, _tz: ZoneInfo) -> Message:
    where = ListPage.decode(value)
    return await release_page(deps, actor, query=where.query, cursor=where.cursor, page=where.page)


# action → (how to answer, whether the answer replaces the clicked message)
BUTTONS: dict[ActionId, tuple[Answer, bool]] = {
    ActionId.REFRESH_STATUS: (refreshed_status, True),
    ActionId.SHOW_HISTORY: (history, False),
    ActionId.MORE_RELEASES: (next_page, False),
}


def register(app: AsyncApp, deps: BotDeps) -> None:
    for action_id, (answer, replace) in BUTTONS.items():
        app.action(action_id)(_listener(deps, answer, replace=replace))


def _listener(deps: BotDeps, answer: Answer, *, replace: bool) -> Callable[..., Awaitable[None]]:
    async def clicked(
        ack: AsyncAck,
        body: dict[str, Any],
        context: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        respond = delivered(respond, client, body)
        value = str(((body.get("actions") or [{}])[0]).get("value") or "")
        tz = context.get("tz") or deps.default_tz
        try:
            message = await answer(deps, actor_of(context), value, tz)
        except Exception as error:  # refused or failed: only the clicker hears about it
            await respond(
                text=user_message(error), response_type="ephemeral", replace_original=False
            )
            return
        if replace:
            await respond(**message.to_dict(), replace_original=True)
        else:
            await respond(**message.to_dict(), response_type="ephemeral", replace_original=False)

    return clicked
