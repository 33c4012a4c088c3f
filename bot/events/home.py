"""App Home: published on `app_home_opened`, and again after a decision made from it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from blocks.ids import ActionId
from blocks.modals.reject import notice_modal
from bot.answers import post_elsewhere
from bot.deps import BotDeps
from bot.errors import NotLinked, user_message
from bot.home_tab import publish_home
from bot.modals import FormNotShown, show_modal
from bot.new_release import open_new_release


def register(app: AsyncApp, deps: BotDeps) -> None:
    @app.event("app_home_opened")
    async def home_opened(
        event: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if event.get("tab", "home") != "home":
            return
        tz = context.get("tz") or deps.default_tz
        await publish_home(deps, client, str(event["user"]), context.get("actor"), tz)

    @app.action(ActionId.OPEN_NEW_RELEASE)
    async def new_release(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """The same modal as `/release new` (the editing modals own it)."""
        await ack()
        trigger_id = str(body.get("trigger_id") or "")
        actor = context.get("actor")
        if actor is None:
            view = notice_modal("releasebot", user_message(NotLinked()))
            await show_modal(client, trigger_id, view)
            return
        try:
            await open_new_release(client, deps, actor, trigger_id)
        except FormNotShown as error:  # Home has no place for an answer: a DM
            user_id = str(body["user"]["id"])
            await post_elsewhere(
                client, {"text": user_message(error)}, user_id=user_id, channel=None
            )
