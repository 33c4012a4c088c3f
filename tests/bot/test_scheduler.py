"""Digests and reminders through the real bot against the fake Slack, clock injected."""

import asyncio
from datetime import UTC, datetime, timedelta

from blocks.reminders import SnoozeChoice, SnoozeRequest
from bot.devtools.harness import LocalBot, local_bot
from bot.notifier import NotAllDelivered
from bot.scheduler import Outcome
from core.models.notification import approval_key
from core.models.rbac import Permission
from core.services.approvals import pending_in
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

    assert kolkata_nine.outcomes[f"digest:person:{rhea.id}:2026-11-23"] is Outcome.SENT
    assert f"digest:person:{admin.id}:2026-11-23" not in kolkata_nine.outcomes
    assert new_york_nine.outcomes[f"digest:person:{admin.id}:2026-11-23"] is Outcome.SENT
    dm_to = [c.params["channel"] for c in bot.slack.of("chat.postMessage")]
    assert "URHEA" in dm_to and "UADMIN" in dm_to  # found by users.lookupByEmail, then linked
    assert (await users.get(rhea.id)).slack is not None


async def test_a_claim_whose_sender_died_is_retried_after_the_lease_once(db: Database) -> None:
    nine = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    clock = FrozenClock(nine)
    async with local_bot(db=db, clock=clock) as bot:
        rhea = await bot.runtime.repos.users.get_by_username("rhea")
        key = f"digest:person:{rhea.id}:2026-11-23"
        claims = bot.runtime.repos.claims
        await claims.claim(key, now=nine, ttl=timedelta(minutes=5), owner="replica-that-died")

        clock.now = nine + timedelta(minutes=1)
        during = await bot.runtime.deliveries.run_once()
        clock.now = nine + timedelta(minutes=5)
        after = await bot.runtime.deliveries.run_once()
        clock.now = nine + timedelta(minutes=20)
        later = await bot.runtime.deliveries.run_once()

        assert during.outcomes[key] is Outcome.SKIPPED
        assert after.outcomes[key] is Outcome.SENT
        # Not sent again (rhea's zone, learned with her Slack id, may no longer make it due).
        assert later.outcomes.get(key, Outcome.SKIPPED) is Outcome.SKIPPED
        # The dead replica cannot undo the takeover when it wakes up.
        await claims.release(key, owner="replica-that-died")
        assert not await claims.claim(key, now=nine + timedelta(hours=1), ttl=timedelta(minutes=5))


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


async def test_snooze_button_holds_back_reminders_until_it_ends(db: Database) -> None:
    clock = FrozenClock(MONDAY_0900_UTC)
    async with local_bot(db=db, clock=clock) as bot:
        services = bot.runtime.deps.services
        arjun = await services.identity.actor_for(
            await bot.runtime.repos.users.get_by_username("arjun")
        )
        await bot.runtime.repos.users.set_time_zone(arjun.user_id, "UTC")
        [pending, *_] = await services.approvals.pending_for(arjun)
        ref = pending.ref
        key = approval_key(
            pending.release_oid, ref.product_id, ref.gate_name, ref.milestone.milestone_key
        )
        assert ref.milestone.approval.requested_at is not None
        clock.now = (ref.milestone.approval.requested_at + timedelta(days=1)).replace(
            hour=10, minute=0
        )

        reply = await bot.driver.click(
            "UARJUN",
            "reminder_snooze_4h",
            SnoozeRequest(approval_key=key, choice=SnoozeChoice("4h")).encode(),
        )
        assert reply.status == 200
        assert "Snoozed" in str((await bot.slack.wait_for("response_url"))[-1].params)

        def arjuns(report: object) -> list[str]:
            outcomes = getattr(report, "outcomes", {})
            return [k for k in outcomes if k.startswith(f"reminder:{key}:{arjun.user_id}:")]

        clock.now += timedelta(hours=3, minutes=59)
        held = await bot.runtime.deliveries.run_once()
        clock.now += timedelta(minutes=1)  # the snooze is over
        resumed = await bot.runtime.deliveries.run_once()

        assert arjuns(held) == []
        assert len(arjuns(resumed)) == 1 and resumed.outcomes[arjuns(resumed)[0]] is Outcome.SENT


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


async def test_an_unlinked_person_gets_no_dm_until_linked_again(bot: LocalBot) -> None:
    """An admin's unlink stops digests and approval DMs, found by email or not."""
    await bot.driver.command("URHEA", "whoami")  # rhea links by email on first contact
    await bot.driver.command("UADMIN", "admin unlink <@URHEA|rhea>")
    await bot.slack.wait_for("response_url", 2)
    services = bot.runtime.deps.services
    rhea = await bot.runtime.repos.users.get_by_username("rhea")
    assert rhea.slack is None and not rhea.auto_link

    report = await bot.runtime.deliveries.run_once(datetime(2026, 11, 23, 3, 30, tzinfo=UTC))
    release = await services.releases.get(await services.identity.actor_for(rhea), "REL-2026.12")

    await bot.runtime.deps.notifier.request_decisions(
        bot.runtime.client, release, pending_in(release)
    )

    assert report.outcomes[f"digest:person:{rhea.id}:2026-11-23"] is Outcome.UNDELIVERABLE
    dm_to = [c.params.get("channel") for c in bot.slack.of("chat.postMessage")]
    assert "URHEA" not in dm_to


async def test_reminder_dm_has_the_buttons_and_is_updated_once_decided(db: Database) -> None:
    clock = FrozenClock(MONDAY_0900_UTC)
    async with local_bot(db=db, clock=clock) as bot:
        services = bot.runtime.deps.services
        arjun = await services.identity.actor_for(
            await bot.runtime.repos.users.get_by_username("arjun")
        )
        await bot.runtime.repos.users.set_time_zone(arjun.user_id, "UTC")
        [pending, *_] = await services.approvals.pending_for(arjun)
        requested = pending.ref.milestone.approval.requested_at
        assert requested is not None
        clock.now = (requested + timedelta(days=1)).replace(hour=12, minute=0)  # daytime, due

        report = await bot.runtime.deliveries.run_once()

        mine = f":{arjun.user_id}:"
        sent = [
            k
            for k, o in report.outcomes.items()
            if k.startswith("reminder:") and mine in k and o is Outcome.SENT
        ]
        assert sent, report.outcomes
        reminder = next(
            c
            for c in bot.slack.of("chat.postMessage")
            if c.params["channel"] == "UARJUN" and "Still waiting" in str(c.params["blocks"])
        )
        buttons = [
            e["text"]["text"]
            for b in reminder.params["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
        ]
        assert buttons == ["Approve", "Reject", "Snooze 1 h", "Snooze 4 h", "Tomorrow"]

        value = next(
            e["value"]
            for b in reminder.params["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["text"]["text"] == "Approve"
        )
        await bot.driver.click(
            "UARJUN",
            "approval_approve",
            value,
            container={"type": "message", "channel_id": "DUARJUN", "message_ts": "1.0"},
        )

        # Every recorded copy of this approval (arjun's and the admin's reminders) is updated.
        approval = sent[0].split(":")[1]
        copies = await bot.runtime.repos.approval_messages.for_approval(approval)
        updates = await bot.slack.wait_for("chat.update", len(copies))
        updated = [u for u in updates if u.params["channel"] == "DUARJUN"]
        assert updated and "Approved" in str(updated[-1].params["blocks"])
        assert "actions" not in [b["type"] for b in updated[-1].params["blocks"]]


async def test_two_saves_noticing_the_same_new_approval_send_one_round_of_dms(
    bot: LocalBot,
) -> None:
    services = bot.runtime.deps.services
    admin = await services.identity.actor_for(
        await bot.runtime.repos.users.get_by_username("admin")
    )
    release = await services.releases.get(admin, "REL-2026.12")
    notifier, client = bot.runtime.deps.notifier, bot.runtime.client

    outcomes = await asyncio.gather(
        notifier.request_decisions(client, release, pending_in(release)),
        notifier.request_decisions(client, release, pending_in(release)),
        return_exceptions=True,
    )
    # Whoever finds a DM claimed by the other attempt, still running, says so (to be tried
    # again later, when it finds it done); nobody is asked twice.
    assert all(isinstance(o, int | NotAllDelivered) for o in outcomes)

    requests = [
        c
        for c in bot.slack.of("chat.postMessage")
        if "approval is requested" in str(c.params.get("blocks"))
    ]
    addressed = [(c.params["channel"], c.params["text"]) for c in requests]
    assert len(addressed) == len(set(addressed))  # nobody asked twice
    assert {channel for channel, _ in addressed} == {"UARJUN", "UADMIN"}  # the deciders
    assert len(addressed) == 2 * len(pending_in(release))  # one round: each decider, each approval


async def test_release_managers_get_an_escalation_dm_but_not_in_their_quiet_hours(
    db: Database,
) -> None:
    clock = FrozenClock(MONDAY_0900_UTC)
    async with local_bot(db=db, clock=clock) as bot:
        users = bot.runtime.repos.users
        rhea = await users.get_by_username("rhea")
        await users.set_time_zone(rhea.id, "Asia/Kolkata")
        release = await bot.runtime.deps.services.releases.get(
            await bot.runtime.deps.services.identity.actor_for(rhea), "REL-2026.12"
        )
        requested = pending_in(release)[0].milestone.approval.requested_at
        assert requested is not None
        due = requested + timedelta(hours=24)
        night = datetime.combine(due.date(), datetime.min.time(), UTC).replace(hour=17)  # 22:30 IST
        if night < due:
            night += timedelta(days=1)

        clock.now = night
        at_night = await bot.runtime.deliveries.run_once()
        clock.now = night + timedelta(hours=10)  # 08:30 the next morning in Kolkata
        morning = await bot.runtime.deliveries.run_once()

        def escalations(report: object) -> list[str]:
            return [
                k
                for k in getattr(report, "outcomes", {})
                if k.startswith("escalation:") and k.endswith(rhea.id)
            ]

        assert escalations(at_night) == []
        assert escalations(morning) and all(
            morning.outcomes[k] is Outcome.SENT for k in escalations(morning)
        )
        dms = [c for c in bot.slack.of("chat.postMessage") if c.params["channel"] == "URHEA"]
        assert any("Approval pending for" in str(c.params["blocks"]) for c in dms)
