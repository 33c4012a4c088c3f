"""The `/release` slash command and its subcommands."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands import basics
from bot.commands.router import Router, dispatch
from bot.deps import BotDeps

COMMAND = "/release"


def build_router() -> Router:
    router = Router()
    for module in (basics,):
        module.register(router)
    return router


def register(app: AsyncApp, deps: BotDeps) -> None:
    @app.command(COMMAND)
    async def release_command(
        ack: AsyncAck,
        body: dict[str, Any],
        context: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await dispatch(deps, ack=ack, body=body, context=context, client=client, respond=respond)
