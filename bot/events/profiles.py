"""`user_change`: Slack tells the app that a person's profile changed; keep their time zone.

Needs the `user_change` bot event in the manifest (scope `users:read`). Only linked people
are updated; nobody is linked or created from this event. Between events, the identity
resolver asks `users.info` again once a day.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.deps import BotDeps
from core.models.rbac import SlackIdentity


def register(app: AsyncApp, deps: BotDeps) -> None:
    @app.event("user_change")
    async def user_changed(event: dict[str, Any], context: dict[str, Any]) -> None:
        person = event.get("user")
        team_id = deps.home.key
        if not isinstance(person, dict) or person.get("is_bot") or person.get("deleted"):
            return
        user_id = str(person.get("id") or "")
        if not (user_id and team_id):
            return
        zone = person.get("tz")
        await deps.services.identity.time_zone_changed(
            SlackIdentity(team_id=team_id, user_id=user_id), zone if isinstance(zone, str) else None
        )
