"""Build the Bolt app: no module-global app, client or database."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import actions, commands, events, views
from bot.acks import ack_first_middleware
from bot.dedupe import dedupe_middleware
from bot.deps import BotDeps
from bot.errors import user_message
from bot.identity import identity_middleware
from bot.workspace import workspace_middleware

log = logging.getLogger(__name__)


def create_app(deps: BotDeps, client: AsyncWebClient) -> AsyncApp:
    settings = deps.settings
    secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    )
    app = AsyncApp(
        client=client,
        signing_secret=secret or "",
        # Without a signing secret (Socket Mode only) there is nothing to verify against.
        request_verification_enabled=secret is not None,
        logger=logging.getLogger("slack_bolt"),
    )
    app.use(workspace_middleware(deps.home))  # other teams are refused before identity runs
    app.use(ack_first_middleware())  # commands and clicks: acked before storage is read
    app.use(identity_middleware(deps.identities, deps.after_ack))
    app.use(dedupe_middleware(deps.repos.claims, deps.clock))  # Slack's retries run once
    for module in (views, commands, actions, events):  # views first: see bot/views
        module.register(app, deps)

    @app.event(re.compile(".*"))  # last: events no listener wants get a 200, so no retries
    async def unwanted_event(ack: AsyncAck) -> None:
        await ack()

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        user_message(error)  # logs it with the request's ref

    return app
