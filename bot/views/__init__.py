"""Bolt listener for submitted forms: each submodule's ``forms(deps)`` maps the callback ids
of the forms it answers to their listeners, and one Bolt listener dispatches to them.

One listener, not one per form: Bolt tries listeners in order, building each one's arguments,
and a form's ack waits for its listener (it carries the form's errors). The views are
registered first, so a submission meets one matcher; commands and clicks are acked before
Bolt matches them (bot/acks.py), so the order costs their acks nothing.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import BotDeps
from bot.discovery import submodules
from bot.views.form_input import ViewListener


def register(app: AsyncApp, deps: BotDeps) -> None:
    listeners: dict[str, ViewListener] = {}
    for module in submodules(sys.modules[__name__], hook="forms"):
        listeners.update(module.forms(deps))
    known = re.compile("^(?:" + "|".join(map(re.escape, listeners)) + ")$")

    @app.view(known)
    async def submitted(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        callback_id = str((body.get("view") or {}).get("callback_id", ""))
        await listeners[callback_id](ack, body, context, client)
