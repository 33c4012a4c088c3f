"""Digests and reminders through the real bot against the fake Slack, clock injected."""

import asyncio
from datetime import UTC, datetime, timedelta

from blocks.reminders import SnoozeRequest
from bot.devtools.harness import LocalBot, local_bot
from bot.scheduler import Outcome
from core.models.notification import approval_key
from core.models.rbac import Permission
from storage.engine import Database
from tests.support import FrozenClock

# The demo seed dates releases from "today"; pin today so the digest window is predictable.
MONDAY_0900_UTC = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def mute_personal_digests(bot: LocalBot) -> None:
    for user in await bot.runtime.repos.users.all():
        actor = await bot.runtime.deps.services.identity.actor_for(user)
        if actor.has(Permission.CAN_CREATE_RELEASE):
            await bot.runtime.deps.services.digests.set_personal(actor, enabled=False)


def posts_to(bot: LocalBot, channel: str) -> list[dict[str, object]]:
    return [
        c.params for c in bot.slack.of("chat.postMessage") if c.params.get("channel") == channel
    ]


async def test_subscribed_channel_gets_one_digest_even_with_two_replicas(db: Database) -> None:
    clock = FrozenClock(MONDAY_0900_UTC - timedelta(minutes=5))
    async with local_bot(db=db, clock=clock) as one, local_bot(db=db, clock=clock) as two:
        await mute_personal_digests(one)
        reply = await one.driver.command("URHEA", "digest subscribe 09:00 UTC", channel_id="CREL")
        assert reply.status == 200
        [confirmation] = await one.slack.wait_for("response_url")
        assert "09:00 UTC" in str(confirmation.params)

        clock.now = MONDAY_0900_UTC
        first, second = await asyncio.gather(
            one.runtime.deliveries.run_once(), two.runtime.deliveries.run_once()
        )

        key = "digest:channel:T0DEMO:CREL:2026-11-23"
        assert sorted([first.outcomes[key], second.outcomes[key]]) == [
            Outcome.SENT,
            Outcome.SKIPPED,
        ]
        assert len(posts_to(one, "CREL")) + len(posts_to(two, "CREL")) == 1
        # Every other delivery of that tick also went out exactly once between the two.
        for other in set(first.outcomes) | set(second.outcomes):
            assert [first.outcomes.get(other), second.outcomes.get(other)].count(Outcome.SENT) == 1
        later = await one.runtime.deliveries.run_once(MONDAY_0900_UTC + timedelta(minutes=30))
        assert key not in later.outcomes or later.outcomes[key] is Outcome.SKIPPED


async def test_release_managers_get_the_dm_at_nine_in_their_own_zone(bot: LocalBot) -> None:
    users = bot.runtime.repos.users
    rhea = await users.get_by_username("rhea")
    admin = await users.get_by_username("admin")
    await users.set_time_zone(rhea.id, "Asia/Kolkata")
    await users.set_time_zone(admin.id, "America/New_York")
    deliveries = bot.runtime.deliveries

    kolkata_nine = await deliveries.run_once(datetime(2026, 11, 23, 3, 30, tzinfo=UTC))
    new_york_nine = await deliveries.run_once(datetime(2026, 11, 23, 14, 0, tzinfo=UTC))

    assert f"digest:person:{rhea.id}:2026-11-23" in kolkata_nine.outcomes
    assert f"digest:person:{admin.id}:2026-11-23" not in kolkata_nine.outcomes
    assert new_york_nine.outcomes[f"digest:person:{admin.id}:2026-11-23"] is Outcome.SENT
    opened = [c.params["users"] for c in bot.slack.of("conversations.open")]
    assert "URHEA" in opened and "UADMIN" in opened  # found by users.lookupByEmail, then linked
    assert (await users.get(rhea.id)).slack is not None


async def test_a_claim_whose_sender_died_is_retried_after_the_lease_once(bot: LocalBot) -> None:
    rhea = await bot.runtime.repos.users.get_by_username("rhea")
    key = f"digest:person:{rhea.id}:2026-11-23"
    nine = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    await bot.runtime.repos.claims.claim(key, now=nine, ttl=timedelta(minutes=5))  # then "died"

    during = await bot.runtime.deliveries.run_once(nine + timedelta(minutes=1))
    after = await bot.runtime.deliveries.run_once(nine + timedelta(minutes=5))
    later = await bot.runtime.deliveries.run_once(nine + timedelta(minutes=20))

    assert during.outcomes[key] is Outcome.SKIPPED
    assert after.outcomes[key] is Outcome.SENT
    assert later.outcomes[key] is Outcome.SKIPPED


async def test_slack_429_is_retried_after_retry_after_and_sent_once(bot: LocalBot) -> None:
    rhea = await bot.runtime.repos.users.get_by_username("rhea")
    await mute_personal_digests(bot)
    await bot.runtime.deps.services.digests.set_personal(
        await bot.runtime.deps.services.identity.actor_for(rhea), enabled=True
    )
    bot.slack.fail("chat.postMessage", status=429, retry_after=1, times=1)

    report = await bot.runtime.deliveries.run_once(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))

    assert report.outcomes[f"digest:person:{rhea.id}:2026-11-23"] is Outcome.SENT
    assert bot.slack.of("chat.postMessage!429")
    digests = [
        c
        for c in bot.slack.of("chat.postMessage")
        if "Release readiness" in str(c.params.get("blocks"))
    ]
    assert len(digests) == 1


async def test_digest_now_shows_a_blocked_release_with_its_blocker(bot: LocalBot) -> None:
    await bot.driver.command("URHEA", "digest now", channel_id="CREL")

    [posted] = await bot.slack.wait_for("response_url")
    assert posted.params["response_type"] == "in_channel"
    blocks = str(posted.params["blocks"])
    assert "REL-2026.11-HF1" in blocks and "Blocked" in blocks and "FAILED" in blocks
    assert "REL-2026.11-HF1" in str(posted.params["text"])  # the Jinja2 text fallback


async def test_snooze_button_holds_back_reminders_until_it_ends(bot: LocalBot) -> None:
    services = bot.runtime.deps.services
    arjun = await services.identity.actor_for(
        await bot.runtime.repos.users.get_by_username("arjun")
    )
    [pending, *_] = await services.approvals.pending_for(arjun)
    ref = pending.ref
    key = approval_key(
        pending.release_oid, ref.product_id, ref.gate_name, ref.milestone.milestone_key
    )
    await bot.driver.command("UARJUN", "whoami")  # first contact links arjun
    await bot.slack.wait_for("response_url")

    reply = await bot.driver.click(
        "UARJUN", "reminder_snooze_4h", SnoozeRequest(approval_key=key, choice="4h").encode()
    )

    assert reply.status == 200
    [snoozes] = [await bot.runtime.repos.snoozes.active(now=bot.runtime.deps.clock())]
    assert [(s.user_id, s.approval_key) for s in snoozes] == [(arjun.user_id, key)]
    assert "Snoozed" in str((await bot.slack.wait_for("response_url", 2))[-1].params)


async def test_live_scheduler_fires_a_subscription_for_the_next_minute_once(db: Database) -> None:
    """Real APScheduler and a real, advancing clock, shifted to a second before the minute."""
    start = datetime.now(UTC)
    next_minute = (start + timedelta(minutes=1)).replace(second=0, microsecond=0)
    offset = next_minute - timedelta(seconds=1) - start

    def shifted() -> datetime:
        return datetime.now(UTC) + offset

    async with local_bot(db=db, clock=shifted, scheduler_tick_seconds=0.2) as bot:
        await mute_personal_digests(bot)
        await bot.driver.command(
            "URHEA", f"digest subscribe {next_minute:%H:%M} UTC", channel_id="CLIVE"
        )
        await bot.slack.wait_for("response_url")
        bot.runtime.start_scheduler()
        for _ in range(50):
            if posts_to(bot, "CLIVE"):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1)  # several more ticks: still exactly one
        assert len(posts_to(bot, "CLIVE")) == 1
