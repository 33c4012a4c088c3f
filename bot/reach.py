"""Find a portal user's Slack id, linking it by email if they never wrote to the bot.

Slack's answer also carries the person's time zone: it is stored, so the DM about to be sent,
the update once the approval is decided and the quiet hours of reminders are all on that
person's clock, not on DEFAULT_TIMEZONE until they first type a command.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack_client import error_code, slack_profile
from bot.workspace import Workspace
from core.models.rbac import SlackIdentity
from core.rules.permissions import Actor
from core.services.identity import IdentityService

log = logging.getLogger(__name__)
PROFILE_SECONDS = 3.0  # a refresh of the zone must not hold a DM up for long


@dataclass(frozen=True)
class Reached:
    """Where to DM a person, and the person as stored now (with Slack's time zone)."""

    slack_id: str
    actor: Actor


async def reach(
    client: AsyncWebClient, identity: IdentityService, home: Workspace, actor: Actor
) -> Reached | None:
    """The person's Slack id and stored self; unknown ones are looked up by email
    (users.lookupByEmail) and linked. Their time zone is taken from Slack's answer, and for
    people already linked asked again (users.info) at most once a day."""
    if actor.user.slack is not None:
        slack_id = actor.user.slack.user_id
        if identity.time_zone_due(actor.user):
            profile = await slack_profile(client, slack_id, seconds=PROFILE_SECONDS)
            if profile:  # an answer with a user in it (no answer keeps the stored zone)
                actor = await identity.remember_time_zone(actor, _zone(profile))
        return Reached(slack_id, actor)
    try:
        found = await client.users_lookupByEmail(email=actor.user.email)
    except SlackApiError as error:
        if error_code(error) != "users_not_found":
            raise  # Slack failed for now: the caller retries
        log.info("no Slack account for %s; not notified", actor.user.username)
        return None
    person = found.get("user")
    if not isinstance(person, dict) or not person.get("id"):
        return None
    slack_id = str(person["id"])
    if person.get("deleted") or person.get("is_bot") or not home.is_home_person(person):
        # A Slack Connect guest (or a stranger) is never linked by email: only an admin's
        # explicit link connects them.
        log.warning("%s (found by email) is not a member here; not linked", slack_id)
        return None
    linked = await identity.link_by_email(
        SlackIdentity(team_id=home.key, user_id=slack_id), actor.user.email
    )
    if linked is None:
        return None  # e.g. an admin unlinked this user: reach them only once linked again
    return Reached(slack_id, await identity.remember_time_zone(linked, _zone(person)))


async def slack_id_of(
    client: AsyncWebClient, identity: IdentityService, home: Workspace, actor: Actor
) -> str | None:
    """The person's Slack id (see ``reach``)."""
    reached = await reach(client, identity, home, actor)
    return reached.slack_id if reached else None


def _zone(user: dict[str, Any]) -> str | None:
    zone = user.get("tz")
    return zone if isinstance(zone, str) else None
