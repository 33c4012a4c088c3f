"""The fake Slack holds trigger_ids to Slack's rule: valid 3 s from their request, used once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.devtools.fake_slack import TRIGGER_SECONDS, FakeSlack
from bot.devtools.harness import BOT_TOKEN, LocalBot

VIEW = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "Probe"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
}


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


def client_of(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)


async def refused(call: Awaitable[object], status: int = 200) -> dict[str, Any]:
    """Slack's answer to a refused call (HTTP 200 and ``ok: false`` for a spent trigger)."""
    with pytest.raises(SlackApiError) as raised:
        await call
    response = raised.value.response
    assert response.status_code == status
    assert isinstance(response.data, dict)
    return response.data


async def test_an_issued_trigger_opens_one_modal_only(slack: FakeSlack) -> None:
    client = client_of(slack)
    slack.issue_trigger("trigger.1")

    opened = await client.views_open(trigger_id="trigger.1", view=VIEW)
    again = await refused(client.views_open(trigger_id="trigger.1", view=VIEW))
    pushed = await refused(client.views_push(trigger_id="trigger.1", view=VIEW))

    assert opened["ok"] is True and opened["view"]["id"]
    assert again == pushed == {"ok": False, "error": "expired_trigger_id"}
    assert [c.method for c in slack.calls] == [
        "views.open",
        "views.open!expired_trigger_id",
        "views.push!expired_trigger_id",
    ]


async def test_a_trigger_used_after_its_time_is_refused(slack: FakeSlack) -> None:
    client = client_of(slack)
    assert slack.trigger_seconds == TRIGGER_SECONDS == 3.0
    slack.issue_trigger("trigger.open")
    slack.issue_trigger("trigger.push")
    await asyncio.sleep(0.3)

    slack.trigger_seconds = 0.2
    late = await refused(client.views_open(trigger_id="trigger.open", view=VIEW))
    push = await refused(client.views_push(trigger_id="trigger.push", view=VIEW))
    slack.trigger_seconds = TRIGGER_SECONDS  # the same age is in time under Slack's 3 s
    in_time = await client.views_open(trigger_id="trigger.open", view=VIEW)

    assert late == push == {"ok": False, "error": "expired_trigger_id"}
    assert in_time["ok"] is True
    assert [c.method for c in slack.calls] == [
        "views.open!expired_trigger_id",
        "views.push!expired_trigger_id",
        "views.open",
    ]


async def test_triggers_it_was_not_told_of_are_accepted(slack: FakeSlack) -> None:
    client = client_of(slack)
    slack.trigger_seconds = 0.0

    for _ in range(2):
        assert (await client.views_open(trigger_id="crafted.by.hand", view=VIEW))["ok"] is True

    assert len(slack.of("views.open")) == 2


async def test_a_rate_limited_attempt_does_not_spend_the_trigger(slack: FakeSlack) -> None:
    client = client_of(slack)  # no retry handler: the test retries itself, as the bot's does
    slack.issue_trigger("trigger.9")
    slack.fail("views.open", status=429, retry_after=0)

    limited = await refused(client.views_open(trigger_id="trigger.9", view=VIEW), 429)
    opened = await client.views_open(trigger_id="trigger.9", view=VIEW)

    assert limited["error"] == "ratelimited" and opened["ok"] is True


@pytest.mark.expired_trigger
async def test_the_driver_issues_the_triggers_it_sends(bot: LocalBot) -> None:
    await bot.driver.command("URHEA", "new")
    [opened] = await bot.slack.wait_for("views.open")
    trigger_id = opened.params["trigger_id"]

    reused = await refused(
        bot.runtime.client.views_open(trigger_id=trigger_id, view=VIEW)
    )  # the bot's own client, a second time

    assert trigger_id.startswith("trigger.")
    assert reused == {"ok": False, "error": "expired_trigger_id"}
