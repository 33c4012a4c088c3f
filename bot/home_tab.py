"""The App Home tab, drawn from storage and published: on `app_home_opened`
(bot/events/home.py) and again after a decision made from it (bot/approval_flow.py)."""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

from slack_sdk.web.async_client import AsyncWebClient

from blocks.home import home_view, notice_home_view, unlinked_home_view
from bot.deps import BotDeps
from bot.errors import user_message
from core.errors import DomainError
from core.models.rbac import Permission
from core.rules.permissions import Actor
from core.services.approvals import Home

HOME_RELEASES = 20


async def publish_home(
    deps: BotDeps,
    client: AsyncWebClient,
    user_id: str,
    actor: Actor | None,
    tz: ZoneInfo,
    *,
    notice: str | None = None,
    home: Home | None = None,
) -> None:
    """Draw the person's Home tab from storage and publish it (views.publish).

    ``notice`` (escaped mrkdwn) goes in a banner on top: how a click made on Home ended. It is
    how Home answers a click once work was done — never a modal, whose trigger_id (3 s, once)
    may have expired by then. ``home``: what to draw when it is known already (read before
    the decision, the decided release in it: ``ApprovalService.after``), else it is read."""
    if actor is None:
        view = unlinked_home_view(user_id, notice=notice)
        await client.views_publish(user_id=user_id, view=view.to_dict())
        return
    try:
        if home is None:
            home = await deps.services.approvals.home(actor, releases=HOME_RELEASES)
    except DomainError as error:  # e.g. a deactivated account
        view = notice_home_view(user_message(error), notice=notice)
        await client.views_publish(user_id=user_id, view=view.to_dict())
        return
    # Who decides in the person's place, and for whom they decide; with the freeze windows,
    # as kept for display (core/kept.py): no read most of the time.
    standing = await deps.services.delegation.standing(actor)
    view = home_view(
        actor.user,
        home.pending,
        [(card, card.summary) for card in home.releases],
        tz,
        more_releases=home.more_releases,
        can_create_release=new_release_button(actor),
        notice=notice,
        standing=standing,
        freezes=await deps.services.freezes.outlook(),
    )
    # A Home of dozens of approvals and releases takes milliseconds to check and encode:
    # off the event loop, so other requests' acks do not wait for it.
    await client.views_publish(user_id=user_id, view=await asyncio.to_thread(view.to_dict))


def new_release_button(actor: Actor) -> bool:
    """Show "New release" to those who may create one (the core checks again on submit)."""
    return actor.has(Permission.CAN_CREATE_RELEASE)
