"""help, whoami, status, signatures: through signed HTTP requests."""

import time

from bot.devtools.harness import LocalBot


async def test_status_is_posted_in_the_channel_with_readiness(bot: LocalBot) -> None:
    reply = await bot.driver.command("UDANA", "status REL-2026.11-HF1")

    assert reply.status == 200
    [posted] = await bot.slack.wait_for("response_url")
    assert posted.params["response_type"] == "in_channel"
    text = str(posted.params["blocks"])
    assert "REL-2026.11-HF1" in text and "Blocked" in text


async def test_forged_signature_is_refused(bot: LocalBot) -> None:
    before = list(bot.slack.calls)  # auth.test at start-up, to learn the workspace
    reply = await bot.driver.post("text=help", headers={"X-Slack-Signature": "v0=" + "0" * 64})
    assert reply.status == 401
    assert bot.slack.calls == before


async def test_stale_timestamp_is_refused(bot: LocalBot) -> None:
    reply = await bot.driver.post("text=help", timestamp=int(time.time()) - 600)
    assert reply.status == 401


async def test_help_for_one_command_and_for_an_unknown_one(bot: LocalBot) -> None:
    await bot.driver.command("UDANA", "help status")
    [one] = await bot.slack.wait_for("response_url")
    await bot.driver.command("UDANA", "frobnicate REL-1")
    unknown = (await bot.slack.wait_for("response_url", 2))[1]

    assert "/release status" in str(one.params["blocks"]) and "/release list" not in str(
        one.params["blocks"]
    )
    assert "Unknown subcommand `frobnicate`" in str(unknown.params["blocks"])
    assert "/release list" in str(unknown.params["blocks"])


async def test_apostrophes_are_ordinary_characters_in_a_search(bot: LocalBot) -> None:
    await bot.driver.command("UDANA", "list rhea's")
    [reply] = await bot.slack.wait_for("response_url")
    assert "quote is not closed" not in str(reply.params)
