"""One workspace: the bot serves the Slack team (or Enterprise Grid org) it is installed in.

The team is learned at start-up from ``auth.test`` (or SLACK_TEAM_ID). Requests and events
from any other team are refused before identity runs, so nobody from another workspace is
ever looked up, linked by email or allowed to act.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.acks import empty_ack, ephemeral_ack
from bot.startup import StartupError

log = logging.getLogger(__name__)

REFUSAL = (
    "releasebot serves one Slack workspace and this request came from another one, "
    "so nothing was done. Ask the admins of the workspace that installed it for access."
)


@dataclass(frozen=True)
class Workspace:
    team_id: str
    enterprise_id: str | None = None
    enterprise_install: bool = False  # installed org-wide: every workspace of the org is home

    @property
    def key(self) -> str:
        """The team part of every stored Slack identity: the org for an org-wide install
        (its people come from any of its workspaces), else the workspace."""
        return (
            self.enterprise_id if self.enterprise_install and self.enterprise_id else self.team_id
        )

    def admits(self, team_id: str | None, enterprise_id: str | None) -> bool:
        if self.enterprise_install:
            return enterprise_id is not None and enterprise_id == self.enterprise_id
        return team_id is not None and team_id == self.team_id

    def is_home_person(self, profile: dict[str, Any]) -> bool:
        """Is this ``users.info`` profile a member of the home team (not a Slack Connect
        guest from another organisation)?"""
        if profile.get("is_stranger"):  # Slack's word for someone from another org
            return False
        team = profile.get("team_id")
        if self.enterprise_install:
            enterprise = (profile.get("enterprise_user") or {}).get("enterprise_id")
            return enterprise == self.enterprise_id
        return team is None or team == self.team_id


async def learn_workspace(client: AsyncWebClient, configured: str | None) -> Workspace:
    """The home team: SLACK_TEAM_ID if set (an ``E…`` id means an org-wide install), else
    ``auth.test`` with the bot token. Start-up fails if Slack refuses the token."""
    if configured:
        if configured.startswith("E"):
            return Workspace(team_id=configured, enterprise_id=configured, enterprise_install=True)
        return Workspace(team_id=configured)
    try:
        answer = await client.auth_test()
    except SlackApiError as error:
        reason = error.response.get("error") if error.response else "no answer"
        raise StartupError(
            "SLACK_BOT_TOKEN", f"was refused by Slack's auth.test ({reason})"
        ) from None
    except Exception as error:  # network: Slack not reachable at all
        raise StartupError(
            "SLACK_API_URL",
            f"did not answer auth.test ({type(error).__name__}); set SLACK_TEAM_ID to start "
            "without asking Slack",
        ) from None
    enterprise_id = answer.get("enterprise_id") or None
    return Workspace(
        team_id=str(answer.get("team_id") or ""),
        enterprise_id=enterprise_id,
        enterprise_install=bool(answer.get("is_enterprise_install")),
    )


def workspace_middleware(home: Workspace) -> Callable[..., Awaitable[BoltResponse | None]]:
    """Bolt middleware, first in line: refuse requests whose team is not the home team."""

    async def middleware(
        context: AsyncBoltContext,
        body: dict[str, Any],
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        if home.admits(context.team_id, context.enterprise_id):
            return await next()
        log.warning(
            "refused a request from team %r (enterprise %r): this bot serves %s",
            context.team_id,
            context.enterprise_id,
            home.enterprise_id if home.enterprise_install else home.team_id,
        )
        return refusal_response(body)

    return middleware


def refusal_response(body: dict[str, Any]) -> BoltResponse:
    """A 200 (so Slack does not retry) that shows the person why, where Slack shows text."""
    return ephemeral_ack(REFUSAL) if body.get("command") else empty_ack()
