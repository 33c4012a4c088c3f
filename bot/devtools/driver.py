"""Talk to the bot the way Slack does: signed HTTP requests to /slack/events."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.devtools.fake_slack import TEAM_ID, FakeSlack
from bot.devtools.payloads import (
    CHANNEL_ID,
    click_payload,
    command_payload,
    event_payload,
    submission_payload,
)
from bot.devtools.signing import form_body, payload_body, signed_headers

FORM = "application/x-www-form-urlencoded"


@dataclass
class Reply:
    status: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


@dataclass
class SlackDriver:
    """Sends slash commands, button clicks, modal submissions and events to the bot."""

    bot_url: str
    secret: str
    slack: FakeSlack
    session: aiohttp.ClientSession
    team_id: str = TEAM_ID
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def post(
        self,
        body: str,
        *,
        content_type: str = FORM,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        signed = signed_headers(self.secret, body, timestamp=timestamp, content_type=content_type)
        async with self.session.post(
            self.bot_url, data=body, headers={**signed, **(headers or {})}
        ) as response:
            return Reply(response.status, await response.text())

    def _trigger(self, n: int) -> str:
        """A fresh trigger_id; the fake Slack starts its 3 s (and one use) now, as Slack does."""
        trigger_id = f"trigger.{n}"
        self.slack.issue_trigger(trigger_id)
        return trigger_id

    async def command(self, user_id: str, text: str, *, channel_id: str = CHANNEL_ID) -> Reply:
        n = next(self._seq)
        fields = command_payload(
            team_id=self.team_id,
            user_id=user_id,
            text=text,
            channel_id=channel_id,
            response_url=self.slack.response_url(f"cmd{n}"),
            trigger_id=self._trigger(n),
        )
        return await self.post(form_body(fields))

    async def click(
        self,
        user_id: str,
        action_id: str,
        value: str,
        *,
        block_id: str = "actions",
        container: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
    ) -> Reply:
        n = next(self._seq)
        payload = click_payload(
            team_id=self.team_id,
            user_id=user_id,
            action_id=action_id,
            value=value,
            block_id=block_id,
            seq=n,
            response_url=self.slack.response_url(f"act{n}"),
            trigger_id=self._trigger(n),
            container=container,
            view=view,
        )
        return await self.post(payload_body(payload))

    async def submit(
        self, user_id: str, view: dict[str, Any], values: dict[str, dict[str, Any]]
    ) -> Reply:
        """Submit a modal the bot opened; ``values`` as Slack sends them: block → action → state."""
        payload = submission_payload(
            team_id=self.team_id,
            user_id=user_id,
            view=view,
            values=values,
            trigger_id=self._trigger(next(self._seq)),
        )
        return await self.post(payload_body(payload))

    async def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None
    ) -> Reply:
        body = json.dumps(event_payload(team_id=self.team_id, event=event, event_id=event_id))
        headers = (
            {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
            if retry_num
            else None
        )
        return await self.post(body, content_type="application/json", headers=headers)
