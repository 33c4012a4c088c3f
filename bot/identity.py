"""Resolve each request's Slack person to a portal user (SPEC §5), on every request."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot import logs
from bot.acks import empty_ack
from bot.after_ack import AfterAck
from bot.errors import NotLinked
from bot.slack_client import slack_profile
from bot.unavailable import unavailable_response
from bot.workspace import Workspace
from core.errors import DomainError
from core.models.rbac import SlackIdentity
from core.models.schedule import zone_or
from core.rules.permissions import Actor
from core.services.identity import IdentityService
from storage.engine import is_unavailable

log = logging.getLogger(__name__)
LOOKUP_SECONDS = 2.0  # users.info, first contact or once a day (one 429 + Retry-After: 1 fits)
# Storage and Slack together, before a form submission's ack (commands and clicks are
# acked first, bot/acks.py): leaves room inside Slack's 3 s.
IDENTITY_SECONDS = 2.5


@dataclass(frozen=True)
class Resolved:
    actor: Actor | None
    time_zone: ZoneInfo
    is_bot: bool = False
    uncertain: bool = False  # Slack did not answer who this is: ask again next time
    guest: bool = False  # a Slack Connect guest from another organisation, not linked


class IdentityResolver:
    """Slack identity → Actor, read from storage on every request (no cache: permissions
    are never older than the last change, on any replica): one round trip. Slack's
    ``users.info`` is asked on first contact, and then at most once a day for the person's
    time zone (`IdentityService.time_zone_due`), so a traveller's times follow them.

    ``resolve`` serves the person who sent a request (``own``, the middleware) and people
    others mention (a delegate, an admin's link, an owner picked in a form): only the
    person's own first request accepts an invitation for them; a mention links a user who
    exists by email, never accepts one (a BOOTSTRAP_ADMIN_SLACK_IDS person is made Admin
    on either, as before)."""

    def __init__(
        self,
        identity: IdentityService,
        *,
        bootstrap_admins: list[str],
        default_tz: str,
        home: Workspace,
    ) -> None:
        self._identity = identity
        self._bootstrap = frozenset(bootstrap_admins)
        self._default_tz = ZoneInfo(default_tz)
        self._home = home

    async def resolve(self, client: AsyncWebClient, user_id: str, *, own: bool = False) -> Resolved:
        # The served team (or org) is the team part of every stored identity: one spelling
        # whichever workspace of an org the request came from.
        identity = SlackIdentity(team_id=self._home.key, user_id=user_id)
        actor = await self._identity.resolve(identity)
        if actor is not None and not self._identity.time_zone_due(actor.user):
            return Resolved(actor, self._zone(actor.user.time_zone))
        # May run before an ack: retries (429 after Retry-After) only within this budget.
        profile = await slack_profile(client, identity.user_id, seconds=LOOKUP_SECONDS)
        if profile is None:
            if actor is not None and actor.user.time_zone:
                # A daily check Slack did not answer: keep the zone, ask again tomorrow
                # rather than on every request while Slack is struggling.
                actor = await self._identity.remember_time_zone(actor, None)
            return Resolved(
                actor, self._zone(actor.user.time_zone if actor else None), uncertain=True
            )
        if profile.get("is_bot"):
            return Resolved(None, self._default_tz, is_bot=True)
        guest = bool(profile) and not self._home.is_home_person(profile)
        if actor is None and not guest:
            actor = await self._first_contact(identity, profile, own=own)
        zone = profile.get("tz")
        if actor is not None:
            actor = await self._identity.remember_time_zone(actor, zone)
        return Resolved(actor, self._zone(zone), guest=guest and actor is None)

    async def _first_contact(
        self, identity: SlackIdentity, profile: dict[str, Any], *, own: bool
    ) -> Actor | None:
        """Link by the Slack email (on their ``own`` request, an open invitation makes the
        user); a bootstrap admin also gets Admin (created if need be)."""
        email = (profile.get("profile") or {}).get("email")
        if identity.user_id not in self._bootstrap:
            name = str(profile.get("real_name") or "")  # an invited person's, from Slack
            return await self._identity.link_by_email(identity, email, full_name=name, join=own)
        try:
            return await self._identity.bootstrap_admin(
                identity,
                email=email,
                full_name=str(profile.get("real_name") or profile.get("name") or ""),
                username_hint=str(email or profile.get("name") or identity.user_id),
            )
        except DomainError as error:  # e.g. their email belongs to someone else's link
            log.warning("bootstrap admin %s refused: %s", identity.user_id, error.message)
            return None

    def _zone(self, name: str | None) -> ZoneInfo:
        return zone_or(name, self._default_tz)


def is_bot_event(body: dict[str, Any]) -> bool:
    event = body.get("event") or {}
    return bool(event.get("bot_id") or event.get("subtype") == "bot_message")


# Events about a person rather than by them: nobody to resolve (bot/events/profiles.py).
ABOUT_SOMEONE = frozenset({"user_change"})


def is_about_someone(body: dict[str, Any]) -> bool:
    return (body.get("event") or {}).get("type") in ABOUT_SOMEONE


def identity_middleware(
    resolver: IdentityResolver, after_ack: AfterAck
) -> Callable[..., Awaitable[BoltResponse | None]]:
    """Bolt middleware: put ``actor`` and ``tz`` in the context; drop bots' events."""

    async def middleware(
        context: AsyncBoltContext,
        body: dict[str, Any],
        client: AsyncWebClient,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        logs.request_id.set(logs.new_request_id())
        context["request_id"] = logs.request_id.get()
        if is_bot_event(body):
            return empty_ack()
        if is_about_someone(body):
            return await next()
        user_id = context.user_id
        if user_id:
            logs.slack_user.set(user_id)
            try:
                resolved = await asyncio.wait_for(
                    resolver.resolve(client, user_id, own=True), IDENTITY_SECONDS
                )
            except Exception as error:
                if not is_unavailable(error):
                    raise
                log.warning("identity of %s not resolved: %r", user_id, error)
                return unavailable_response(
                    body, after_ack, client, user_id=user_id, channel_id=context.channel_id
                )
            if resolved.is_bot:
                return empty_ack()
            context["actor"] = resolved.actor
            context["tz"] = resolved.time_zone
            logs.reader_zone.set(resolved.time_zone)
            context["identity_uncertain"] = resolved.uncertain
            context["identity_guest"] = resolved.guest
            logs.portal_user.set(resolved.actor.user.username if resolved.actor else "-")
        return await next()

    return middleware


def actor_of(context: dict[str, Any]) -> Actor:
    """The portal user the middleware put in the context; NotLinked when there is none."""
    actor = context.get("actor")
    if actor is None:
        raise NotLinked()
    assert isinstance(actor, Actor)
    return actor
