"""A message sent to the bot in its DM (the Messages tab; `message.im`) gets a short answer
on how to use `/release`, once per message.

Only what a person typed is answered: edits, deletions and other subtypes, bots' messages
(dropped by the identity middleware) and the bot's own are not. Slack's retries of one
event are answered once by the dedupe middleware (bot/dedupe.py).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from blocks.messages_tab import messages_tab_answer
from bot.deps import BotDeps

log = logging.getLogger(__name__)

# A person's own message (and one with files attached); not edits, deletions, joins.
ANSWERED_SUBTYPES = frozenset({None, "file_share"})


def _as_command(deps: BotDeps, text: str) -> str | None:
    """The message as a `/release` command, when its first word is one."""
    words = text.strip().removeprefix("/release").split()
    if not words or deps.router.get(words[0].lower()) is None:
        return None
    return " ".join(words)


def register(app: AsyncApp, deps: BotDeps) -> None:
    @app.event("message")
    async def direct_message(
        event: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") not in ANSWERED_SUBTYPES:
            return
        user, channel = event.get("user"), event.get("channel")
        if not user or event.get("bot_id") or user == context.get("bot_user_id"):
            return
        if not isinstance(channel, str) or not channel:
            return
        answer = messages_tab_answer(
            command=_as_command(deps, str(event.get("text") or "")),
            linked=getattr(context.get("actor"), "is_active", False),
        )
        thread = event.get("thread_ts")
        try:
            await client.chat_postMessage(
                channel=channel,
                thread_ts=str(thread) if thread else None,
                **answer.to_dict(),
            )
        except SlackApiError as error:
            log.warning("could not answer a DM from %s: %s", user, error)
