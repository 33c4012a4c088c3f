"""An answer reaches the person even when Slack refuses its response_url."""

from __future__ import annotations

from bot.devtools.harness import LocalBot
from bot.devtools.payloads import CHANNEL_ID


async def test_an_expired_response_url_is_answered_ephemerally_in_the_channel(
    bot: LocalBot,
) -> None:
    bot.slack.fail("response_url", status=404, retry_after=None, times=1)

    reply = await bot.driver.command("UDANA", "whoami")

    [posted] = await bot.slack.wait_for("chat.postEphemeral")
    assert reply.status == 200
    assert len(bot.slack.of("response_url!404")) == 1 and bot.slack.of("response_url") == []
    assert (posted.params["user"], posted.params["channel"]) == ("UDANA", CHANNEL_ID)
    assert "dana" in str(posted.params["blocks"])


async def test_a_public_answer_goes_to_the_channel_else_by_dm(bot: LocalBot) -> None:
    bot.slack.fail("response_url", status=404, retry_after=None, times=2)

    await bot.driver.command("UDANA", "status REL-2026.12")  # answered in the channel
    [public] = await bot.slack.wait_for("chat.postMessage")
    bot.slack.refuse_channel(CHANNEL_ID, "channel_not_found")
    await bot.driver.command("UDANA", "status REL-2026.12")
    posts = await bot.slack.wait_for("chat.postMessage", 3)

    assert public.params["channel"] == CHANNEL_ID
    assert [p.params["channel"] for p in posts] == [CHANNEL_ID, CHANNEL_ID, "UDANA"]
    assert all("REL-2026.12" in str(p.params["blocks"]) for p in posts)
