"""The `/release` slash command and its subcommands."""

from __future__ import annotations

import sys
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands.router import Router, dispatch
from bot.deps import BotDeps
from bot.discovery import submodules

COMMAND = "/release"


def build_router() -> Router:
    """Every subcommand of the modules of this package that define ``register(router)``."""
    router = Router()
    for module in submodules(sys.modules[__name__]):
        if module.__name__ != f"{__name__}.router":
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
