"""Every scheduled Slack delivery exactly once, under failure: answers Slack gave late or
never, a replica whose clock runs ahead, a stop in the middle of a tick. Counted as Slack
sees it: the posts carrying each delivery's key."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.delivery import EVENT_TYPE, HISTORY_LIMIT, HISTORY_PAGES, delivery_key
from bot.devtools.fake_slack import FakeSlack
from bot.devtools.harness import LocalBot, local_bot
from bot.scheduler import Deliveries, Outcome
from core.models.release import Decision
from core.services.approvals import pending_in
from storage.db_clock import LocalClock, ServerClock, bind_clock
from storage.engine import Database
from storage.repositories.notifications import ClaimRepository
from tests.bot.test_approvals import dms, reacted
from tests.bot.test_outbox_restart import requests
from tests.bot.test_reactions import add_prod_signoff
from tests.bot.test_reading import actor
from tests.bot.test_scheduler import MONDAY_0900_UTC, mute_personal_digests
from tests.support import FrozenClock

CHANNEL_KEY = "digest:channel:T0DEMO:CREL:2026-11-23"
TIMEOUT = 1.0  # the client's, in seconds: Slack's late answers come after it


def posts_with(slack: FakeSlack, key: str) -> list[dict[str, Any]]:
    """The chat.postMessage calls Slack accepted that carry ``key`` in their metadata."""
    return [c.params for c in slack.of("chat.postMessage") if delivery_key(c.params) == key]


def kept(slack: FakeSlack, key: str) -> list[dict[str, Any]]:
    """The messages Slack holds that carry ``key`` (as history shows them)."""
    held = slack.conversations.values()
    return [m for messages in held for m in messages if delivery_key(m) == key]


def keys_posted(*fakes: FakeSlack) -> list[str]:
    return [k for f in fakes for c in f.of("chat.postMessage") if (k := delivery_key(c.params))]


async def subscribe(bot: LocalBot, *channels: str) -> None:
    """Channel digests at 09:00 UTC, subscribed by rhea (a release manager)."""
    services = bot.runtime.deps.services
    rhea = await services.identity.actor_for(await bot.runtime.repos.users.get_by_username("rhea"))
    for channel in channels:
        await services.digests.subscribe_channel(
            rhea,
            team_id="T0DEMO",
            channel_id=channel,
            at=MONDAY_0900_UTC.time(),
            time_zone="UTC",
        )


async def claim_of(db: Database, key: str) -> dict[str, Any] | None:
    return await db["claims"].find_one({"key": key})


def chatter(slack: FakeSlack, channel: str, count: int) -> None:
    """``count`` messages people post in ``channel`` after the last one there."""
    held = slack.conversations.setdefault(channel, [])
    last = float(held[-1]["ts"])
    held.extend(
        {"type": "message", "ts": f"{last + (n + 1) / 1000:.6f}", "user": "URHEA", "text": "hi"}
        for n in range(count)
    )


class CompleteFails(ClaimRepository):
    """The claims collection, but the database goes away when the next ``complete`` is
    sent: the delivery went out, its claim is not marked done."""

    def __init__(self, db: Database) -> None:
        super().__init__(db["claims"])
        self.failures = 1

    async def complete(self, key: str, *, now: datetime | None = None, owner: str = "") -> bool:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the database went away")
        return await super().complete(key, now=now, owner=owner)


# --- the fake Slack keeps what was posted ---------------------------------------------------


async def test_the_fake_slack_pages_history_with_a_cursor_as_slack_does(bot: LocalBot) -> None:
    client = bot.runtime.client
    for n in range(5):
        await client.chat_postMessage(channel="CREL", text=f"m{n}")

    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        page = await client.conversations_history(channel="CREL", limit=2, cursor=cursor)
        pages.append([m["text"] for m in page["messages"]])
        cursor = page["response_metadata"]["next_cursor"]
        if not page["has_more"]:
            break

    assert pages == [["m4", "m3"], ["m2", "m1"], ["m0"]] and cursor == ""


async def test_the_fake_slack_shows_posts_in_history_newest_first_with_their_metadata(
    bot: LocalBot,
) -> None:
    client, tagged = bot.runtime.client, {"event_type": EVENT_TYPE, "event_payload": {"key": "k"}}
    bot.slack.ts_clock = time.time
    first = await client.chat_postMessage(channel="UARJUN", text="one", metadata=tagged)
    await client.chat_postMessage(channel="UARJUN", text="two")
    opened = await client.conversations_open(users="UARJUN")

    plain = await client.conversations_history(channel=opened["channel"]["id"])
    full = await client.conversations_history(
        channel=first["channel"], include_all_metadata=True, oldest="0", limit=1
    )
    since = await client.conversations_history(channel=first["channel"], oldest=first["ts"])

    assert first["channel"] == opened["channel"]["id"] == "DUARJUN"
    assert [m["text"] for m in plain["messages"]] == ["two", "one"]
    assert not any("metadata" in m for m in plain["messages"])
    assert [m["text"] for m in full["messages"]] == ["two"] and full["has_more"] is True
    assert [m["text"] for m in since["messages"]] == ["two"]  # oldest is exclusive
    everything = await client.conversations_history(channel="DUARJUN", include_all_metadata=True)
    assert everything["messages"][-1]["metadata"] == tagged


# --- no duplicate after an answer Slack gave late or never ----------------------------------


async def test_a_first_attempt_reads_no_history_and_every_post_names_its_delivery(
    db: Database,
) -> None:
    clock = FrozenClock(MONDAY_0900_UTC)
    async with local_bot(db=db, clock=clock) as bot:
        await subscribe(bot, "CREL")

        report = await bot.runtime.deliveries.run_once()

    sent = [k for k, o in report.outcomes.items() if o is Outcome.SENT]
    assert CHANNEL_KEY in sent and len(sent) > 1  # the channel's, and managers' DMs
    assert sorted(keys_posted(bot.slack)) == sorted(sent)
    assert bot.slack.of("conversations.history") == bot.slack.of("conversations.open") == []


async def test_a_digest_slack_accepted_but_answered_late_is_adopted_not_posted_again(
    db: Database,
) -> None:
    clock = FrozenClock(MONDAY_0900_UTC)
    async with local_bot(db=db, clock=clock, slack_timeout_seconds=TIMEOUT) as bot:
        bot.slack.ts_clock = lambda: clock.now.timestamp()
        await mute_personal_digests(bot)
        await subscribe(bot, "CREL")
        bot.slack.answer_late("chat.postMessage", after=3.0)

        first = await bot.runtime.deliveries.run_once()
        looked_before = len(bot.slack.of("conversations.history"))
        clock.advance(minutes=1)
        second = await bot.runtime.deliveries.run_once()
        third = await bot.runtime.deliveries.run_once()

        assert first.outcomes[CHANNEL_KEY] is Outcome.FAILED  # the answer never came in time
        assert second.outcomes[CHANNEL_KEY] is Outcome.SENT  # found in the channel: adopted
        assert third.outcomes[CHANNEL_KEY] is Outcome.SKIPPED
        assert len(posts_with(bot.slack, CHANNEL_KEY)) == 1
        assert looked_before == 0 and len(bot.slack.of("conversations.history")) == 1
        claim = await claim_of(db, CHANNEL_KEY)
        assert claim is not None and claim["done"] is True


async def test_a_post_whose_connection_was_dropped_is_not_sent_again_by_the_client(
    db: Database,
) -> None:
    """slack_sdk's connection retry would send the post again at once (three posts); it is
    left to the delivery's retry, which finds it."""
    clock = FrozenClock(MONDAY_0900_UTC)
    async with local_bot(db=db, clock=clock) as bot:
        bot.slack.ts_clock = lambda: clock.now.timestamp()
        await mute_personal_digests(bot)
        await subscribe(bot, "CREL")
        bot.slack.hang_up("chat.postMessage")

        first = await bot.runtime.deliveries.run_once()
        posts_after_first = len(posts_with(bot.slack, CHANNEL_KEY))
        second = await bot.runtime.deliveries.run_once()

        assert first.outcomes[CHANNEL_KEY] is Outcome.FAILED and posts_after_first == 1
        assert second.outcomes[CHANNEL_KEY] is Outcome.SENT
        assert len(posts_with(bot.slack, CHANNEL_KEY)) == 1


@pytest.mark.parametrize("error", ["internal_error", "fatal_error"])
async def test_a_digest_slack_posted_but_answered_with_its_own_failure_is_adopted(
    db: Database, error: str
) -> None:
    """Slack documents these as "it's possible some aspect of the operation succeeded"."""
    clock = FrozenClock(MONDAY_0900_UTC)
    async with local_bot(db=db, clock=clock) as bot:
        bot.slack.ts_clock = lambda: clock.now.timestamp()
        await mute_personal_digests(bot)
        await subscribe(bot, "CREL")
        bot.slack.fail_after_doing("chat.postMessage", error=error)

        first = await bot.runtime.deliveries.run_once()
        clock.advance(minutes=1)
        second = await bot.runtime.deliveries.run_once()

        assert first.outcomes[CHANNEL_KEY] is Outcome.FAILED
        assert second.outcomes[CHANNEL_KEY] is Outcome.SENT  # found in the channel: adopted
        assert len(posts_with(bot.slack, CHANNEL_KEY)) == 1
        assert len(bot.slack.of("conversations.history")) == 1


async def test_a_post_slack_answered_500_is_not_sent_again_by_the_client_but_adopted(
    db: Database,
) -> None:
    """slack_sdk's 5xx retry would send it again at once: a 500 may come after the post."""
    clock = FrozenClock(MONDAY_0900_UTC)
    async with local_bot(db=db, clock=clock) as bot:
        bot.slack.ts_clock = lambda: clock.now.timestamp()
        await mute_personal_digests(bot)
        await subscribe(bot, "CREL")
        bot.slack.fail_after_doing("chat.postMessage", error="internal_error", status=500)

        first = await bot.runtime.deliveries.run_once()
        posts_after_first = len(posts_with(bot.slack, CHANNEL_KEY))
        second = await bot.runtime.deliveries.run_once()

        assert first.outcomes[CHANNEL_KEY] is Outcome.FAILED and posts_after_first == 1
        assert second.outcomes[CHANNEL_KEY] is Outcome.SENT
        assert len(posts_with(bot.slack, CHANNEL_KEY)) == 1
        assert len(bot.slack.of("conversations.history")) == 1


async def test_a_digest_beyond_the_first_page_of_history_is_still_found(db: Database) -> None:
    clock = FrozenClock(MONDAY_0900_UTC)
    async with local_bot(db=db, clock=clock, slack_timeout_seconds=TIMEOUT) as bot:
        bot.slack.ts_clock = lambda: clock.now.timestamp()
        await mute_personal_digests(bot)
        await subscribe(bot, "CREL")
        bot.slack.answer_late("chat.postMessage", after=3.0)

        await bot.runtime.deliveries.run_once()
        chatter(bot.slack, "CREL", HISTORY_LIMIT + 50)  # the channel was busy meanwhile
        clock.advance(minutes=1)
        second = await bot.runtime.deliveries.run_once()

        assert second.outcomes[CHANNEL_KEY] is Outcome.SENT
        assert len(posts_with(bot.slack, CHANNEL_KEY)) == 1  # adopted from the second page
        assert len(bot.slack.of("conversations.history")) == 2


async def test_history_is_read_no_further_than_its_cap(db: Database) -> None:
    """Past ``HISTORY_PAGES`` pages the delivery is posted: a bound on the calls, and a
    conversation rarely gets that many messages between two attempts."""
    clock = FrozenClock(MONDAY_0900_UTC)
    async with local_bot(db=db, clock=clock, slack_timeout_seconds=TIMEOUT) as bot:
        bot.slack.ts_clock = lambda: clock.now.timestamp()
        await mute_personal_digests(bot)
        await subscribe(bot, "CREL")
        bot.slack.answer_late("chat.postMessage", after=3.0)

        await bot.runtime.deliveries.run_once()
        chatter(bot.slack, "CREL", HISTORY_PAGES * HISTORY_LIMIT)
        clock.advance(minutes=1)
        second = await bot.runtime.deliveries.run_once()

        assert second.outcomes[CHANNEL_KEY] is Outcome.SENT
        assert len(bot.slack.of("conversations.history")) == HISTORY_PAGES
        assert len(posts_with(bot.slack, CHANNEL_KEY)) == 2


async def test_an_approval_dm_answered_late_is_adopted_and_the_decision_updates_it(
    db: Database,
) -> None:
    async with local_bot(db=db, slack_timeout_seconds=TIMEOUT) as bot:
        bot.slack.ts_clock = time.time
        bot.slack.answer_late("chat.postMessage", after=3.0)  # the first decider's DM
        product_id, gate = await add_prod_signoff(bot)
        await reacted(bot)
        late = bot.slack.of("chat.postMessage")[0].params
        key = delivery_key(late)
        assert key is not None and key.startswith("request:")
        recorded_at_first = await dms(bot, "REL-2026.12", "prod-signoff")

        await bot.runtime.deliveries.run_once()  # the outbox entry kept for the retry
        await bot.runtime.deliveries.run_once()

        assert sorted(requests(bot)) == ["UADMIN", "UARJUN"]  # one DM each
        assert len(posts_with(bot.slack, key)) == 1
        copies = await dms(bot, "REL-2026.12", "prod-signoff")
        dm = f"D{late['channel']}"
        [message] = kept(bot.slack, key)
        assert dm not in recorded_at_first
        assert (copies[dm].channel, copies[dm].ts) == (dm, message["ts"])

        await bot.runtime.deps.services.approvals.decide(
            await actor(bot, "arjun"), "REL-2026.12", product_id, gate, "prod-signoff",
            Decision.APPROVE,
        )  # fmt: skip
        await reacted(bot)

        updated = {(u.params["channel"], u.params["ts"]) for u in bot.slack.of("chat.update")}
        assert (dm, message["ts"]) in updated
        assert "*Approved* by arjun" in str(message["blocks"])  # the adopted copy itself


async def test_a_reminder_answered_late_is_adopted_and_recorded_once(db: Database) -> None:
    clock = FrozenClock(MONDAY_0900_UTC)
    async with local_bot(db=db, clock=clock, slack_timeout_seconds=TIMEOUT) as bot:
        bot.slack.ts_clock = lambda: clock.now.timestamp()
        await mute_personal_digests(bot)
        await add_prod_signoff(bot)
        await reacted(bot)
        clock.advance(hours=5)  # past APPROVAL_REMINDER_HOURS
        bot.slack.answer_late("chat.postMessage", after=3.0)

        first = await bot.runtime.deliveries.run_once()
        [failed] = [k for k, o in first.outcomes.items() if o is Outcome.FAILED]
        second = await bot.runtime.deliveries.run_once()

        assert failed.startswith("reminder:") and second.outcomes[failed] is Outcome.SENT
        assert len(posts_with(bot.slack, failed)) == 1
        [message] = kept(bot.slack, failed)
        records = await db["approval_messages"].count_documents({"ts": message["ts"]})
        assert records == 1


async def test_an_approval_dm_adopted_by_a_takeover_is_recorded_once(db: Database) -> None:
    """One attempt's DM is answered late, past its lease; another attempt takes the claim
    over and finds the DM in history while the first records it: one record, not two."""
    clock = FrozenClock(MONDAY_0900_UTC)
    async with local_bot(db=db, clock=clock) as bot:
        bot.slack.ts_clock = lambda: clock.now.timestamp()
        bot.slack.answer_late("chat.postMessage", after=0.3)  # the first decider's DM
        bot.slack.answer_late("conversations.history", after=0.8)  # seen before it is recorded
        await add_prod_signoff(bot)  # the reaction asks the deciders: the first attempt
        [first] = await bot.slack.wait_for("chat.postMessage")
        clock.advance(minutes=6)  # past its lease
        release = await bot.runtime.repos.releases.get("REL-2026.12")
        refs = [r for r in pending_in(release) if r.milestone.milestone_key == "prod-signoff"]

        takeover = await bot.runtime.deps.notifier.request_decisions(
            bot.runtime.client, release, refs
        )
        await reacted(bot)

        key = delivery_key(first.params)
        assert key is not None and len(posts_with(bot.slack, key)) == 1
        assert takeover == 1 and len(bot.slack.of("conversations.history")) == 1  # adopted
        [message] = kept(bot.slack, key)
        assert await db["approval_messages"].count_documents({"ts": message["ts"]}) == 1


async def test_a_sent_digest_whose_claim_storage_failed_to_complete_is_not_sent_twice(
    db: Database,
) -> None:
    """The tick goes on (its purge too); the claim expires with its lease, and the next
    attempt finds the digest in the channel."""
    clock = FrozenClock(MONDAY_0900_UTC)
    async with local_bot(db=db, clock=clock) as bot:
        bot.slack.ts_clock = lambda: clock.now.timestamp()
        await mute_personal_digests(bot)
        await subscribe(bot, "CREL")
        runtime = bot.runtime
        repos = dataclasses.replace(runtime.repos, claims=CompleteFails(db))
        deliveries = Deliveries(dataclasses.replace(runtime.deps, repos=repos), runtime.client)
        long_done = clock.now - timedelta(days=30)
        await db["claims"].insert_one(
            {"key": "old", "owner": "", "expires_at": long_done, "done": True, "done_at": long_done}
        )

        first = await deliveries.run_once()
        claim = await claim_of(db, CHANNEL_KEY)
        clock.advance(minutes=6)  # past the lease
        second = await deliveries.run_once()

        assert first.outcomes[CHANNEL_KEY] is Outcome.SENT
        assert claim is not None and claim["done"] is False  # not marked done
        assert await claim_of(db, "old") is None  # the tick went on to purge
        assert second.outcomes[CHANNEL_KEY] is Outcome.SENT  # adopted, not posted again
        assert len(posts_with(bot.slack, CHANNEL_KEY)) == 1
        assert len(bot.slack.of("conversations.history")) == 1
        done = await claim_of(db, CHANNEL_KEY)
        assert done is not None and done["done"] is True


# --- leases judged by the database's clock ----------------------------------------------------


async def test_a_replica_whose_clock_runs_six_minutes_ahead_doubles_no_digest(
    db: Database,
) -> None:
    """60 channel digests due; two replicas tick at once, one with a clock 6 minutes ahead
    (past the 5-minute lease): judged by its own clock it would take over every claim the
    other still holds."""
    truth = FrozenClock(MONDAY_0900_UTC)
    ahead = FrozenClock(MONDAY_0900_UTC + timedelta(minutes=6))
    bind_clock(db, LocalClock(truth))  # the database's
    channels = [f"C{n:03d}" for n in range(60)]
    async with local_bot(db=db, clock=truth) as one, local_bot(db=db, clock=ahead) as two:
        await mute_personal_digests(one)
        await subscribe(one, *channels)
        for fake in (one.slack, two.slack):  # Slack takes its time: claims stay live a while
            fake.answer_late("chat.postMessage", after=0.05, times=1000)

        first, second = await asyncio.gather(
            one.runtime.deliveries.run_once(), two.runtime.deliveries.run_once()
        )

    posted = keys_posted(one.slack, two.slack)
    expected = {f"digest:channel:T0DEMO:{c}:2026-11-23" for c in channels}
    assert len(posted) == len(set(posted)) == 60 and set(posted) == expected
    for key in expected:
        assert sorted([first.outcomes[key], second.outcomes[key]]) == [
            Outcome.SENT,
            Outcome.SKIPPED,
        ]


async def test_mongodb_time_is_read_from_hello_and_carried_forward() -> None:
    class Server:  # MongoDB's answer to hello, with a clock far from this process's
        def __init__(self) -> None:
            self.asked = 0

        async def command(self, name: str) -> dict[str, Any]:
            self.asked += 1
            return {"isWritablePrimary": True, "localTime": MONDAY_0900_UTC}

    server = Server()
    clock = ServerClock(server, resample=timedelta(seconds=0.2))

    first = await clock.now()
    await asyncio.sleep(0.05)
    later = await clock.now()
    await asyncio.sleep(0.25)
    await clock.now()

    assert abs(first - MONDAY_0900_UTC) < timedelta(seconds=0.05)
    assert timedelta(seconds=0.04) < later - first < timedelta(seconds=0.2)
    assert server.asked == 2  # sampled once, then again when the sample grew old


# --- SIGTERM drains the tick under way -------------------------------------------------------


async def test_shutdown_lets_the_tick_under_way_finish_its_post_and_starts_no_other(
    db: Database,
) -> None:
    clock = FrozenClock(MONDAY_0900_UTC)
    async with local_bot(db=db, clock=clock, scheduler_tick_seconds=3600) as bot:
        await mute_personal_digests(bot)
        await subscribe(bot, "C001", "C002", "C003")
        runtime = bot.runtime
        runtime.deliveries = Deliveries(runtime.deps, runtime.client, concurrency=1)
        bot.slack.answer_late("chat.postMessage", after=0.5)  # slow, within the timeout

        runtime.start_scheduler()
        [in_flight] = await bot.slack.wait_for("chat.postMessage")
        await runtime.drain()  # SIGTERM

        key = delivery_key(in_flight.params)
        assert key is not None
        claim = await claim_of(db, key)
        assert claim is not None and claim["done"] is True  # its answer came: completed
        others = {f"digest:channel:T0DEMO:{c}:2026-11-23" for c in ("C001", "C002", "C003")}
        others.discard(key)
        assert len(others) == 2
        assert [await claim_of(db, k) for k in others] == [None, None]  # never started

        after = await Deliveries(runtime.deps, runtime.client).run_once()  # the next replica

    assert after.outcomes[key] is Outcome.SKIPPED
    assert all(after.outcomes[k] is Outcome.SENT for k in others)
    assert sorted(keys_posted(bot.slack)) == sorted({key} | others)


async def test_a_drain_past_its_bound_cuts_the_send_off_and_the_next_replica_adopts_it(
    db: Database,
) -> None:
    clock = FrozenClock(MONDAY_0900_UTC)
    async with local_bot(
        db=db, clock=clock, scheduler_tick_seconds=3600, shutdown_drain_seconds=0.3
    ) as bot:
        bot.slack.ts_clock = lambda: clock.now.timestamp()
        await mute_personal_digests(bot)
        await subscribe(bot, "CREL")
        runtime = bot.runtime
        bot.slack.answer_late("chat.postMessage", after=5.0)  # posted, answered far too late

        runtime.start_scheduler()
        await bot.slack.wait_for("chat.postMessage")
        started = time.monotonic()
        await runtime.drain()
        took = time.monotonic() - started

        claim = await claim_of(db, CHANNEL_KEY)
        assert took < 2.0
        assert claim is not None and claim["done"] is False  # let go, unsure
        assert claim["expires_at"] <= clock.now
        after = await Deliveries(runtime.deps, runtime.client).run_once()

    assert after.outcomes[CHANNEL_KEY] is Outcome.SENT  # found in the channel: adopted
    assert len(posts_with(bot.slack, CHANNEL_KEY)) == 1
    assert len(bot.slack.of("conversations.history")) == 1
