"""Channel digests that arrive (issue 8): `digest subscribe` only where the bot can post,
and a digest Slack refuses later is told to the subscriber once and paused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.devtools.fake_slack import Call
from bot.devtools.harness import LocalBot, local_bot
from bot.scheduler import Outcome
from core.models.schedule import DigestSubscription
from storage.engine import Database
from tests.bot.test_scheduler import MONDAY_0900_UTC, mute_personal_digests
from tests.support import FrozenClock

TARGET = DigestSubscription.channel_target("T0DEMO", "CREL")


async def subscribe(bot: LocalBot, text: str, channel: str = "CREL", user: str = "URHEA") -> Call:
    answered = len(bot.slack.of("response_url"))
    reply = await bot.driver.command(user, f"digest subscribe {text}", channel_id=channel)
    assert reply.status == 200
    return (await bot.slack.wait_for("response_url", answered + 1))[answered]


async def stored(bot: LocalBot) -> list[dict[str, Any]]:
    """The channels' subscriptions (people's own digest settings left out)."""
    found = bot.runtime.db["digest_subscriptions"].find({"kind": "CHANNEL"})
    return await found.to_list(length=None)


def dms_to(bot: LocalBot, user: str, containing: str) -> list[str]:
    return [
        str(c.params["text"])
        for c in bot.slack.of("chat.postMessage")
        if c.params.get("channel") == user and containing in str(c.params.get("text"))
    ]


# --- subscribing ------------------------------------------------------------------------------


async def test_subscribing_a_channel_the_bot_is_not_in_asks_to_invite_it(bot: LocalBot) -> None:
    bot.slack.refuse_channel("CREL", "not_in_channel")

    refused = await subscribe(bot, "09:30 Europe/Paris")

    assert refused.params["response_type"] == "ephemeral"  # not "done" for the whole channel
    text = refused.params["text"]
    assert "Not subscribed: I am not a member of this channel" in text
    assert "/invite @releasebot" in text
    assert "/release digest subscribe 09:30 Europe/Paris" in text
    assert await stored(bot) == []
    [asked] = bot.slack.of("conversations.info")
    assert asked.params["channel"] == "CREL"


async def test_a_private_channel_the_bot_is_not_in_is_refused_the_same_way(
    bot: LocalBot,
) -> None:
    bot.slack.refuse_channel("GSECRET", "channel_not_found")

    refused = await subscribe(bot, "", channel="GSECRET")

    assert "this channel is private and I am not in it" in refused.params["text"]
    assert "/invite @releasebot" in refused.params["text"]
    assert await stored(bot) == []


async def test_an_archived_channel_and_a_direct_message_are_refused(bot: LocalBot) -> None:
    bot.slack.refuse_channel("COLD", "is_archived")

    archived = await subscribe(bot, "", channel="COLD")
    direct = await subscribe(bot, "", channel="DRHEA")

    assert "archived" in archived.params["text"]
    assert "A direct message cannot get the channel digest" in direct.params["text"]
    assert "/release digest me 09:00" in direct.params["text"]
    assert await stored(bot) == []


async def test_a_channel_the_bot_is_in_is_subscribed_and_told_in_the_channel(
    bot: LocalBot,
) -> None:
    confirmed = await subscribe(bot, "09:30 Europe/Paris")

    assert confirmed.params["response_type"] == "in_channel"
    assert "every day at 09:30 Europe/Paris" in confirmed.params["text"]
    assert "*09:30 Europe/Paris*" in str(confirmed.params["blocks"])
    assert "could not check" not in confirmed.params["text"]
    [subscription] = await stored(bot)
    assert (subscription["channel_id"], subscription["enabled"]) == ("CREL", True)


async def test_when_slack_cannot_say_the_channel_is_subscribed_with_a_hint(bot: LocalBot) -> None:
    bot.slack.methods["conversations.info"] = lambda _params: {
        "ok": False,
        "error": "missing_scope",
    }

    confirmed = await subscribe(bot, "")

    assert confirmed.params["response_type"] == "in_channel"
    assert "I could not check that I can post here" in confirmed.params["text"]
    assert "/invite @releasebot" in confirmed.params["text"]
    assert len(await stored(bot)) == 1


async def test_someone_who_may_not_subscribe_is_refused_before_slack_is_asked(
    bot: LocalBot,
) -> None:
    refused = await subscribe(bot, "09:00", user="UDANA")

    assert "permission to subscribe a channel to the daily digest" in refused.params["text"]
    assert bot.slack.of("conversations.info") == []
    assert await stored(bot) == []


# --- a digest refused later -------------------------------------------------------------------


async def test_a_refused_digest_is_told_to_the_subscriber_once_and_paused(db: Database) -> None:
    clock = FrozenClock(MONDAY_0900_UTC - timedelta(minutes=5))
    async with local_bot(db=db, clock=clock) as one, local_bot(db=db, clock=clock) as two:
        await mute_personal_digests(one)
        await subscribe(one, "09:00 UTC")
        for replica in (one, two):  # the bot was removed from the channel since
            replica.slack.refuse_channel("CREL", "not_in_channel")

        clock.now = MONDAY_0900_UTC
        first, second = await asyncio.gather(
            one.runtime.deliveries.run_once(), two.runtime.deliveries.run_once()
        )

        key = "digest:channel:T0DEMO:CREL:2026-11-23"
        assert sorted([first.outcomes[key], second.outcomes[key]]) == [
            Outcome.SKIPPED,
            Outcome.UNDELIVERABLE,
        ]
        told = dms_to(one, "URHEA", "paused") + dms_to(two, "URHEA", "paused")
        assert told == [
            "I could not post today's release digest in <#CREL>: I am not a member of that "
            "channel. I paused its daily digest so it does not fail every day.\n"
            "To resume it: Type /invite @releasebot in <#CREL>, then "
            "/release digest subscribe 09:00 UTC there."
        ]
        [paused] = await stored(one)
        assert (paused["enabled"], paused["paused_reason"]) == (False, "not_in_channel")

        # The next day nothing is tried, and nobody is told again.
        clock.now = MONDAY_0900_UTC + timedelta(days=1)
        tuesday = await one.runtime.deliveries.run_once()
        assert not any(k.startswith("digest:channel:") for k in tuesday.outcomes)
        posts = [
            c
            for replica in (one, two)
            for c in replica.slack.of("chat.postMessage")
            if c.params.get("channel") == "CREL"
        ]
        assert len(posts) == 1  # Monday's, refused

        # Invited again and subscribed again: Wednesday's digest arrives.
        one.slack.refuse_channel("CREL", None)
        clock.now = MONDAY_0900_UTC + timedelta(days=1, hours=1)
        await subscribe(one, "09:00 UTC")
        [resumed] = await stored(one)
        assert (resumed["enabled"], resumed["paused_reason"]) == (True, None)
        clock.now = MONDAY_0900_UTC + timedelta(days=2)
        wednesday = await one.runtime.deliveries.run_once()
        assert wednesday.outcomes["digest:channel:T0DEMO:CREL:2026-11-25"] is Outcome.SENT


async def test_a_channel_gone_is_told_with_what_to_do(bot: LocalBot) -> None:
    await mute_personal_digests(bot)
    await subscribe(bot, "09:00 UTC")
    bot.slack.refuse_channel("CREL", "channel_not_found")

    report = await bot.runtime.deliveries.run_once(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))

    assert report.outcomes["digest:channel:T0DEMO:CREL:2026-11-23"] is Outcome.UNDELIVERABLE
    [told] = dms_to(bot, "URHEA", "paused")
    assert "the channel no longer exists, or it is private and I am not in it" in told
    assert "If it still exists, type /invite @releasebot there" in told
    [paused] = await stored(bot)
    assert paused["paused_reason"] == "channel_not_found"
