"""A message sent to the bot in its DM (the Messages tab) gets a short helpful answer
instead of silence (issue 8) — once per message, and never for edits, bots or itself."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.devtools.harness import LocalBot

DM = "D0DANA"  # the app's DM with dana


def im(text: str, user: str = "UDANA", **extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "channel_type": "im",
        "channel": DM,
        "user": user,
        "text": text,
        "ts": "1700000100.000200",
        "event_ts": "1700000100.000200",
        **extra,
    }


async def answers(bot: LocalBot, count: int = 1) -> list[dict[str, Any]]:
    calls = await bot.slack.wait_for("chat.postMessage", count)
    return [c.params for c in calls]


async def no_answer(bot: LocalBot) -> None:
    await asyncio.sleep(0.2)
    assert bot.slack.of("chat.postMessage") == []


async def test_a_message_in_the_dm_is_answered_with_how_to_use_the_bot(bot: LocalBot) -> None:
    reply = await bot.driver.event(im("hi, is the December release ready?"))
    assert reply.status == 200

    [answer] = await answers(bot)

    assert answer["channel"] == DM
    assert answer["text"].startswith("I don't read messages here: I work through the /release")
    assert "/release help" in answer["text"] and "/release approvals" in answer["text"]
    assert "Home" in answer["text"]
    assert "not linked" not in str(answer["blocks"])


async def test_a_command_typed_as_a_message_is_shown_as_a_slash_command(bot: LocalBot) -> None:
    await bot.driver.event(im("status REL-2026.12"))

    [answer] = await answers(bot)

    assert answer["text"].startswith("To run that, type /release status REL-2026.12.")


async def test_a_message_in_a_thread_is_answered_in_that_thread(bot: LocalBot) -> None:
    await bot.driver.event(im("help", thread_ts="1700000000.000100"))

    [answer] = await answers(bot)

    assert answer["thread_ts"] == "1700000000.000100"


async def test_someone_not_linked_is_told_how_to_get_access(bot: LocalBot) -> None:
    await bot.driver.event(im("hello", user="UNOBODY"))

    [answer] = await answers(bot)

    assert "not linked to a releasebot user" in str(answer["blocks"])


async def test_a_retried_message_is_answered_once(bot: LocalBot) -> None:
    message = im("anyone there?")
    await bot.driver.event(message, event_id="EvDM1")
    await bot.driver.event(message, event_id="EvDM1", retry_num=1)

    await answers(bot)
    await asyncio.sleep(0.2)

    assert len(bot.slack.of("chat.postMessage")) == 1


async def test_edits_bots_and_its_own_messages_are_not_answered(bot: LocalBot) -> None:
    edited = im("", subtype="message_changed", message={"user": "UDANA", "text": "hi!"})
    del edited["user"]
    for event in (
        edited,
        im("", subtype="message_deleted"),
        im("build 42 passed", user="UROBOT", bot_id="BCI"),  # another app
        im("I don't read messages here", user="UBOT"),  # its own answer
        {**im("hello"), "channel_type": "channel", "channel": "C0RELEASE"},  # not the DM
    ):
        reply = await bot.driver.event(event)
        assert reply.status == 200

    await no_answer(bot)
