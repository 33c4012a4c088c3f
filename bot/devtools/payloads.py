"""What Slack sends the app, whatever the transport: the same payload goes over signed
HTTP (bot/devtools/driver.py) or in a Socket Mode envelope (bot/devtools/socket_mode_fake.py)."""

from __future__ import annotations

import uuid
from typing import Any

APP_ID = "A0RELEASEBOT"
CHANNEL_ID = "C0RELEASE"


def command_payload(
    *, team_id: str, user_id: str, text: str, channel_id: str, response_url: str, trigger_id: str
) -> dict[str, str]:
    """A `/release` slash command's fields."""
    return {
        "token": "legacy-unused",
        "team_id": team_id,
        "team_domain": "demo",
        "channel_id": channel_id,
        "channel_name": "releases",
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": "/release",
        "text": text,
        "api_app_id": APP_ID,
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def click_payload(
    *,
    team_id: str,
    user_id: str,
    action_id: str,
    value: str,
    block_id: str,
    seq: int,
    response_url: str,
    trigger_id: str,
    container: dict[str, Any] | None = None,
    view: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A button click (block_actions) in a message or a view."""
    where = container or {"type": "message", "channel_id": CHANNEL_ID, "message_ts": "1.0"}
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": team_id, "domain": "demo"},
        "user": {"id": user_id, "team_id": team_id},
        "api_app_id": APP_ID,
        "trigger_id": trigger_id,
        "response_url": response_url,
        "container": where,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "action_ts": f"{seq}.0",
            }
        ],
    }
    if view is not None:
        payload["view"] = view
    if "channel_id" in where:
        payload["channel"] = {"id": where["channel_id"]}
    return payload


def submission_payload(
    *, team_id: str, user_id: str, view: dict[str, Any], values: dict[str, Any], trigger_id: str
) -> dict[str, Any]:
    """A modal submitted with ``values`` as Slack sends them: block → action → state."""
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "demo"},
        "user": {"id": user_id, "team_id": team_id},
        "api_app_id": APP_ID,
        "trigger_id": trigger_id,
        "view": {**view, "id": view.get("id", "V1"), "state": {"values": values}},
    }


def event_payload(
    *, team_id: str, event: dict[str, Any], event_id: str | None = None
) -> dict[str, Any]:
    """An Events API callback."""
    return {
        "token": "legacy-unused",
        "type": "event_callback",
        "team_id": team_id,
        "api_app_id": APP_ID,
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:12].upper()}",
        "event_time": 1700000000,
        "event": event,
    }
