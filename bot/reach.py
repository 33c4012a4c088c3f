"""Find a portal user's Slack id, linking it by email if they never wrote to the bot."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.models.rbac import SlackIdentity
from core.rules.permissions import Actor
from core.services.identity import IdentityService

log = logging.getLogger(__name__)


async def slack_id_of(
    client: AsyncWebClient, identity: IdentityService, team_id: str, actor: Actor
) -> str | None:
    """The person's Slack id; unknown ones are looked up (users.lookupByEmail) and linked."""
    if actor.user.slack is not None:
        return actor.user.slack.user_id
    try:
        found = await client.users_lookupByEmail(email=actor.user.email)
    except SlackApiError:
        log.info("no Slack account for %s; not notified", actor.user.username)
        return None
    slack_id = str(found["user"]["id"])
    identity_ = SlackIdentity(team_id=team_id, user_id=slack_id)
    if await identity.link_by_email(identity_, actor.user.email) is None:
        return None  # e.g. an admin unlinked this user: reach them only once linked again
    return slack_id
