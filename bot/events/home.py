"""App Home: published on `app_home_opened`, and again after a decision made from it."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from blocks.home import home_view, notice_home_view, unlinked_home_view
from blocks.ids import ActionId
from blocks.modals_reject import notice_modal
from bot.commands.editing import open_new_release
from bot.deps import BotDeps
from bot.errors import NotLinked, user_message
from core.errors import DomainError
from core.models.rbac import Permission
from core.rules.permissions import Actor
from core.rules.readiness import summarize

HOME_RELEASES = 20


async def publish_home(
    deps: BotDeps,
    client: AsyncWebClient,
    user_id: str,
    actor: Actor | None,
    tz: ZoneInfo,
    *,
    notice: str | None = None,
) -> None:
    """Draw the person's Home tab from storage and publish it (views.publish).

    ``notice`` (escaped mrkdwn) goes in a banner on top: how a click made on Home ended. It is
    how Home answers a click once work was done — never a modal, whose trigger_id (3 s, once)
    may have expired by then."""
    if actor is None:
        view = unlinked_home_view(user_id, notice=notice)
        await client.views_publish(user_id=user_id, view=view.to_dict())
        return
    try:
        pending = await deps.services.approvals.pending_for(actor)
        page = await deps.services.releases.list_releases(actor, limit=HOME_RELEASES)
    except DomainError as error:  # e.g. a deactivated account
        view = notice_home_view(user_message(error), notice=notice)
        await client.views_publish(user_id=user_id, view=view.to_dict())
        return
    view = home_view(
        actor.user,
        pending,
        [(release, summarize(release)) for release in page.items],
        tz,
        more_releases=page.next_cursor is not None,
        can_create_release=new_release_button(actor),
        notice=notice,
    )
    await client.views_publish(user_id=user_id, view=view.to_dict())


def new_release_button(actor: Actor) -> bool:
    """Show "New release" to those who may create one (the core checks again on submit)."""
    return actor.has(Permission.CAN_CREATE_RELEASE)


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
            view = notice_modal("releasebot", user_message(NotLinked())).to_dict()
            await client.views_open(trigger_id=trigger_id, view=view)
            return
        await open_new_release(client, deps, actor, trigger_id)
