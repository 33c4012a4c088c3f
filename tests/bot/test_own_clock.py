"""Issue 8, what people see: times on the reader's own clock, people and things by name,
counts in words, the digest's blockers named down to the milestone, rejections kept in view.

Everything goes through signed HTTP requests (or the scheduler and notifier the bot runs)
against the recording fake Slack; each test asserts the text the person reads. The demo
personas' Slack zones: arjun America/New_York, rhea Asia/Kolkata, dana Europe/Berlin, admin
Europe/London.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from blocks.ids import ActionId
from blocks.text import EveryReader, span, when
from bot.devtools.fake_slack import TEAM_ID
from bot.devtools.harness import LocalBot, local_bot
from bot.scheduler import Outcome
from core.models.rbac import SlackIdentity
from core.models.release import Decision, Environment, ReleaseDraft
from core.rules.readiness import summarize
from core.services.gates import GateDraft, MilestoneDraft
from storage.engine import Database
from tests.bot.test_approvals import SIGN_OFFS, ask, dms, in_dm, target, text_of
from tests.bot.test_reading import actor, answer, mrkdwn, shown
from tests.support import FrozenClock

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
BERLIN = ZoneInfo("Europe/Berlin")
GATE = "UAT sign-off"
SLACK_DATE = re.compile(r"<!date\^(\d+)\^\{date_short_pretty\} at \{time\}\|([^>|]+)>")


def slack_date(moment: datetime, fallback: ZoneInfo) -> str:
    """Slack's date formatting for a channel: every reader sees their own zone."""
    return when(moment, EveryReader(fallback))


def without_slack_dates(text: str) -> str:
    return SLACK_DATE.sub("", text)


async def stored_zone(bot: LocalBot, username: str) -> str | None:
    return (await bot.runtime.repos.users.get_by_username(username)).time_zone


# --- approvers found by email ------------------------------------------------------------


async def test_an_approver_found_by_email_gets_the_request_on_their_own_clock(
    bot: LocalBot,
) -> None:
    """arjun never wrote to the bot: Slack's lookupByEmail answer gives his zone."""
    assert await stored_zone(bot, "arjun") is None

    sent = await ask(bot, SIGN_OFFS)

    [to_arjun] = [
        c for c in sent if c.params["channel"] == "UARJUN" and "uat" in str(c.params.get("blocks"))
    ]
    release = await bot.runtime.repos.releases.get(SIGN_OFFS)
    uat = release.product("payments-api").gate(GATE).milestone("uat-signoff")
    assert f"*When:* {span(uat.start_date, uat.end_date, NEW_YORK)}" in text_of(to_arjun)
    assert "(New York time)" in text_of(to_arjun)
    assert await stored_zone(bot, "arjun") == "America/New_York"


async def test_the_decided_dm_shows_each_approver_the_time_in_their_own_zone(
    db: Database,
) -> None:
    """The admin never wrote to the bot: his copy is on London time, not DEFAULT_TIMEZONE."""
    async with local_bot(db=db, default_timezone="Asia/Tokyo") as bot:
        await ask(bot, SIGN_OFFS)
        copies = await dms(bot, SIGN_OFFS, "uat-signoff")
        value = await target(bot, "uat-signoff")

        await bot.driver.click(
            "UARJUN", ActionId.APPROVE, value, container=in_dm(copies["DUARJUN"])
        )

        updates = {
            c.params["channel"]: text_of(c) for c in await bot.slack.wait_for("chat.update", 2)
        }
        release = await bot.runtime.repos.releases.get(SIGN_OFFS)
        decided = release.product("payments-api").gate(GATE).milestone("uat-signoff").approval
        assert decided.approved_at is not None
        expected = "*Approved* by arjun (Approval Manager) at "
        assert expected + when(decided.approved_at, NEW_YORK) in updates["DUARJUN"]
        assert expected + when(decided.approved_at, LONDON) in updates["DUADMIN"]


async def test_a_late_click_is_told_who_decided_and_when_on_the_clickers_clock(
    bot: LocalBot,
) -> None:
    await ask(bot, SIGN_OFFS)
    copies = await dms(bot, SIGN_OFFS, "uat-signoff")
    admin = await actor(bot, "admin")
    release = await bot.runtime.deps.services.approvals.decide(
        admin, SIGN_OFFS, "payments-api", GATE, "uat-signoff", Decision.APPROVE
    )
    at = release.product("payments-api").gate(GATE).milestone("uat-signoff").approval.approved_at
    assert at is not None

    value = await target(bot, "uat-signoff")
    await bot.driver.click("UARJUN", ActionId.APPROVE, value, container=in_dm(copies["DUARJUN"]))

    [told] = await bot.slack.wait_for("response_url")
    assert told.params["text"] == (
        f":information_source: *UAT sign-off* was already approved by admin at "
        f"{when(at, NEW_YORK)}. Nothing changed."
    )


async def test_reminders_wait_for_the_morning_of_an_approver_found_by_email(
    db: Database,
) -> None:
    clock = FrozenClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    async with local_bot(db=db, clock=clock) as bot:
        release = await bot.runtime.repos.releases.get(SIGN_OFFS)
        requested = release.product("payments-api").gate(GATE).milestone("uat-signoff")
        assert requested.approval.requested_at is not None
        clock.now = requested.approval.requested_at
        await ask(bot, SIGN_OFFS)  # arjun is found by email: his zone comes with him
        arjun = await bot.runtime.repos.users.get_by_username("arjun")
        next_day = (requested.approval.requested_at + timedelta(days=1)).date()

        def new_york(hour: int) -> datetime:
            return datetime.combine(next_day, time(hour), NEW_YORK).astimezone(UTC)

        def reminded(outcomes: dict[str, Outcome]) -> list[str]:
            mine = [k for k in outcomes if k.startswith("reminder:") and arjun.id in k]
            return [k for k in mine if outcomes[k] is Outcome.SENT]

        clock.now = new_york(7)  # midday in UTC, 07:00 for arjun
        at_seven = await bot.runtime.deliveries.run_once()
        clock.now = new_york(10)
        at_ten = await bot.runtime.deliveries.run_once()

        assert reminded(at_seven.outcomes) == []
        assert len(reminded(at_ten.outcomes)) == 2  # the UAT and the stage sign-off


async def test_home_shows_an_approver_the_times_on_their_own_clock(bot: LocalBot) -> None:
    await bot.driver.event({"type": "app_home_opened", "user": "UARJUN", "tab": "home"})

    [published] = await bot.slack.wait_for("views.publish")
    text = "\n".join(mrkdwn(published.params))
    release = await bot.runtime.repos.releases.get(SIGN_OFFS)
    uat = release.product("payments-api").gate(GATE).milestone("uat-signoff")
    assert span(uat.start_date, uat.end_date, NEW_YORK) in text
    assert "Times are New York time" in text


# --- a stored zone follows the person ----------------------------------------------------


async def test_a_stored_zone_is_asked_again_after_a_day(db: Database) -> None:
    clock = FrozenClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    async with local_bot(db=db, clock=clock) as bot:
        assert "Europe/Berlin" in shown(await answer(bot, "UDANA", "whoami"))
        bot.slack.change_time_zone("UDANA", "Asia/Tokyo")  # dana flew to Tokyo

        clock.advance(hours=23)
        same_day = shown(await answer(bot, "UDANA", "whoami"))
        clock.advance(hours=2)
        next_day = shown(await answer(bot, "UDANA", "whoami"))
        clock.advance(hours=1)
        await answer(bot, "UDANA", "whoami")

        assert "Europe/Berlin" in same_day  # Slack is not asked on every request
        assert "Asia/Tokyo" in next_day
        assert await stored_zone(bot, "dana") == "Asia/Tokyo"
        assert len(bot.slack.of("users.info")) == 2


async def test_a_daily_check_slack_does_not_answer_keeps_the_zone_until_tomorrow(
    db: Database,
) -> None:
    clock = FrozenClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    async with local_bot(db=db, clock=clock) as bot:
        await answer(bot, "UDANA", "whoami")
        clock.advance(hours=25)
        bot.slack.fail("users.info", status=500, retry_after=None, times=10)

        during = shown(await answer(bot, "UDANA", "whoami"))
        asked = len(bot.slack.of("users.info!500"))
        after = shown(await answer(bot, "UDANA", "whoami"))

        assert "Europe/Berlin" in during and "Europe/Berlin" in after
        assert asked >= 1 and len(bot.slack.of("users.info!500")) == asked  # not every request


async def test_a_user_change_event_updates_the_stored_zone_at_once(bot: LocalBot) -> None:
    await answer(bot, "UDANA", "whoami")
    users_before = len(await bot.runtime.repos.users.all())

    moved = await bot.driver.event(bot.slack.change_time_zone("UDANA", "America/Sao_Paulo"))
    stranger = await bot.driver.event(bot.slack.change_time_zone("UNOBODY", "Asia/Tokyo"))
    who = shown(await answer(bot, "UDANA", "whoami"))

    assert moved.status == 200 and stranger.status == 200
    assert "America/Sao_Paulo" in who
    assert await stored_zone(bot, "dana") == "America/Sao_Paulo"
    assert len(bot.slack.of("users.info")) == 1  # the event said it all; nobody else asked
    assert len(await bot.runtime.repos.users.all()) == users_before
    nobody = SlackIdentity(team_id=TEAM_ID, user_id="UNOBODY")
    assert await bot.runtime.repos.users.find_by_slack(nobody) is None


# --- in a channel, everyone reads their own time -----------------------------------------


async def test_status_in_the_channel_shows_times_per_reader_and_keeps_a_rejection(
    bot: LocalBot,
) -> None:
    arjun = await actor(bot, "arjun")
    release = await bot.runtime.deps.services.approvals.decide(
        arjun, SIGN_OFFS, "payments-api", GATE, "uat-signoff", Decision.REJECT,
        "Evidence for the\nrefund flow is missing",
    )  # fmt: skip
    rejected = release.product("payments-api").gate(GATE).milestone("uat-signoff").approval
    assert rejected.approved_at is not None
    first = summarize(release).next_milestones[0].milestone

    posted = await answer(bot, "UDANA", f"status {SIGN_OFFS}")

    text = shown(posted)
    assert posted.params["response_type"] == "in_channel"
    assert f"{slack_date(first.start_date, BERLIN)} → {slack_date(first.end_date, BERLIN)}" in text
    assert (
        "*Rejected approvals*\n:x: Payments API / UAT sign-off / UAT sign-off — *rejected* by "
        f"Arjun Mehta · {slack_date(rejected.approved_at, BERLIN)} · "
        "“Evidence for the refund flow is missing”"
    ) in text
    assert "time)" not in without_slack_dates(text)  # no time on one zone's clock


async def test_the_digest_names_the_milestone_of_each_blocker_and_times_per_reader(
    bot: LocalBot,
) -> None:
    await bot.driver.command("URHEA", "digest now", channel_id="CREL")

    [posted] = await bot.slack.wait_for("response_url")
    text = shown(posted)
    assert posted.params["response_type"] == "in_channel"
    # Two blockers of one gate, no longer read as the same line twice.
    assert (
        ":no_entry: Ledger Service / Regression suite is *FAILED* — 3 reconciliation tests fail"
    ) in text
    assert ":no_entry: Ledger Service / Regression suite / Hotfix on stage is *BLOCKED*" in text
    fallback = str(posted.params["text"])
    assert (
        "blockers: Regression suite (FAILED), Regression suite / Hotfix on stage (BLOCKED)"
    ) in fallback
    assert "2 approvals pending" in fallback
    assert ":hourglass: approval pending: Payments API / UAT sign-off / UAT sign-off" in text
    assert SLACK_DATE.search(text) and "time)" not in without_slack_dates(text)


async def test_a_scheduled_channel_digest_shows_times_per_reader(db: Database) -> None:
    nine = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    clock = FrozenClock(nine - timedelta(minutes=5))
    async with local_bot(db=db, clock=clock) as bot:
        await bot.driver.command("URHEA", "digest subscribe 09:00 Europe/London", channel_id="CREL")
        await bot.slack.wait_for("response_url")

        clock.now = nine
        await bot.runtime.deliveries.run_once()

        [digest] = [c for c in bot.slack.of("chat.postMessage") if c.params["channel"] == "CREL"]
        text = text_of(digest)
        found = SLACK_DATE.search(text)
        assert found is not None, text
        moment = datetime.fromtimestamp(int(found.group(1)), UTC)
        assert found.group(2) == when(moment, LONDON)  # the fallback: the channel's zone


# --- counts and history ------------------------------------------------------------------


async def test_counts_read_right_for_one_and_for_many(bot: LocalBot) -> None:
    admin = await actor(bot, "admin")
    services = bot.runtime.deps.services
    draft = ReleaseDraft(
        release_id="REL-ONE", release_name="One gate", release_date=date(2031, 1, 10),
        squad_ids=["payments"],
    )  # fmt: skip
    await services.releases.create(admin, draft)
    await services.releases.add_product(
        admin, "REL-ONE", application_id="payments", product_id="payments-api"
    )
    await services.gates.add_gate(admin, "REL-ONE", "payments-api", GateDraft(gate_name="Smoke"))
    await services.approvals.decide(
        admin, SIGN_OFFS, "payments-api", GATE, "uat-signoff", Decision.APPROVE
    )

    one_gate = shown(await answer(bot, "UDANA", "status REL-ONE"))
    one_left = await answer(bot, "UARJUN", "approvals")

    assert "*Not ready* — 0 of 1 gate passed" in one_gate
    assert one_left.params["text"] == "1 approval waiting for you"
    assert "*1 approval* waiting for you" in shown(one_left)


async def test_history_names_people_and_parts_never_database_ids(bot: LocalBot) -> None:
    admin = await actor(bot, "admin")
    rhea = await actor(bot, "rhea")
    start = datetime(2031, 1, 5, 9, 0, tzinfo=UTC)
    await bot.runtime.deps.services.gates.add_milestone(
        admin, SIGN_OFFS, "payments-api", GATE,
        MilestoneDraft(
            milestone_key="prod-signoff", milestone_name="Prod sign-off",
            environment=Environment.PROD, start_date=start, end_date=start + timedelta(hours=8),
            owner_id=rhea.user_id, approval_required=True, requires_approval_manager=True,
        ),
    )  # fmt: skip

    history = shown(await answer(bot, "UARJUN", "history REL-2026.12"))

    assert "*Alex Admin* added a milestone · Payments API / UAT sign-off / Prod sign-off" in history
    assert "owner: Rhea Kapoor" in history
    assert "needs an approval manager: yes" in history
    assert f"start: {when(start, NEW_YORK, zone=False)}" in history
    assert "times are New York time" in history
    assert not re.search(r"\b[0-9a-f]{24}\b", history), "a database id is shown"
