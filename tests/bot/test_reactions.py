"""Reactions to core events, end to end: whatever made the change, the DMs follow once,
even when Slack fails for a while."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.devtools.fake_slack import Call
from bot.devtools.harness import LocalBot, local_bot
from bot.notifier import LEASE, same_round
from core.models.notification import ApprovalMessage, approval_key
from core.models.rbac import UserStatus
from core.models.release import ApprovalStatus, Decision, Environment
from core.rules.readiness import MilestoneRef
from core.services.approvals import pending_in
from core.services.gates import MilestoneChange, MilestoneDraft
from storage.engine import Database
from tests.bot.test_admin import DANA, answer, shown
from tests.bot.test_approvals import _asks_for as _approvals_in, ask, dms, reacted
from tests.bot.test_home import approval_milestones
from tests.bot.test_outbox_restart import requests
from tests.bot.test_reading import actor
from tests.support import FrozenClock

REL = "REL-2026.12"


async def add_prod_signoff(bot: LocalBot) -> tuple[str, str]:
    """Through the core service, as an API or a script would: no Slack handler involved. rhea
    (a release manager, no approval manager) adds it, so both approval managers may decide."""
    release = await bot.runtime.repos.releases.get(REL)
    product, gate = release.gates()[0]
    start = datetime(2031, 1, 5, 9, 0)
    draft = MilestoneDraft(
        milestone_key="prod-signoff", milestone_name="Prod sign-off",
        environment=Environment.PROD, start_date=start, end_date=start + timedelta(hours=8),
        approval_required=True, requires_approval_manager=True,
    )  # fmt: skip
    await bot.runtime.deps.services.gates.add_milestone(
        await actor(bot, "rhea"), REL, product.product_id, gate.gate_name, draft
    )
    return product.product_id, gate.gate_name


async def test_a_change_made_outside_slack_asks_the_deciders_by_dm(bot: LocalBot) -> None:
    await add_prod_signoff(bot)
    await reacted(bot)

    assert sorted(requests(bot)) == ["UADMIN", "UARJUN"]  # the approval managers
    homes = {p.params["user_id"]: p for p in bot.slack.of("views.publish")}
    assert sorted(homes) == ["UADMIN", "UARJUN"]  # their Home lists it at once
    assert all("prod-signoff" in approval_milestones(home) for home in homes.values())
    assert (await bot.runtime.repos.releases.get(REL)).outbox == []


async def test_a_dm_slack_failed_is_sent_on_the_next_tick_and_nobody_gets_two(
    bot: LocalBot,
) -> None:
    # The first DM is answered 500: not sent again by the client (Slack may have posted it).
    bot.slack.fail("chat.postMessage", status=500, retry_after=None, times=1)
    await add_prod_signoff(bot)
    await reacted(bot)
    first = requests(bot)
    waiting = (await bot.runtime.repos.releases.get(REL)).outbox

    await bot.runtime.deliveries.run_once()
    await bot.runtime.deliveries.run_once()

    assert len(bot.slack.of("chat.postMessage!500")) == 1
    assert len(bot.slack.of("conversations.history")) == 1  # the retry looked first
    assert len(first) == 1  # the other decider was asked at once
    assert [entry.action for entry in waiting] == ["milestone.added"]  # kept for a retry
    assert sorted(requests(bot)) == ["UADMIN", "UARJUN"]  # each once
    assert (await bot.runtime.repos.releases.get(REL)).outbox == []


async def test_a_decision_made_outside_slack_updates_every_dm_copy(bot: LocalBot) -> None:
    product_id, gate = await add_prod_signoff(bot)
    await reacted(bot)
    copies = await dms(bot, REL, "prod-signoff")

    await bot.runtime.deps.services.approvals.decide(
        await actor(bot, "arjun"), REL, product_id, gate, "prod-signoff", Decision.APPROVE
    )
    await reacted(bot)

    updates = bot.slack.of("chat.update")
    assert sorted((u.params["channel"], u.params["ts"]) for u in updates) == sorted(
        (m.channel, m.ts) for m in copies.values()
    )
    assert all("*Approved* by arjun" in str(u.params["blocks"]) for u in updates)
    release = await bot.runtime.repos.releases.get(REL)
    signoff = release.product(product_id).gate(gate).milestone("prod-signoff")
    assert signoff.approval.status is ApprovalStatus.APPROVED


async def test_a_new_approval_manager_is_asked_for_what_waits_and_sees_it_on_home(
    bot: LocalBot,
) -> None:
    """An admin grants dana the Approval Manager role from Slack: the approvals waiting
    for an approval manager are DMed to her (nobody else is asked twice) and her Home is
    drawn again with them."""
    await ask(bot, REL)  # the approval managers were asked for what waits
    await bot.driver.command("UDANA", "whoami")  # dana is linked on first contact
    await bot.slack.wait_for("response_url")
    await reacted(bot)
    dmed_before = [c.params["channel"] for c in bot.slack.of("chat.postMessage")]
    start = len(bot.slack.of("chat.postMessage"))

    granted = shown(await answer(bot, "UADMIN", f'admin grant {DANA} "Approval Manager"'))
    await reacted(bot)

    posted = bot.slack.of("chat.postMessage")[start:]
    asked = [c for c in posted if "approval_approve" in str(c.params)]
    assert "Approval Manager" in granted
    assert "UDANA" not in dmed_before
    assert {c.params["channel"] for c in asked} == {"UDANA"}  # only the new decider
    waiting = [m.milestone.milestone_key for m in await pending_approvals(bot)]
    assert sorted(_asked_for(c) for c in asked) == sorted(waiting)
    [home] = [p for p in bot.slack.of("views.publish") if p.params["user_id"] == "UDANA"]
    assert sorted(approval_milestones(home)) == sorted(waiting)
    dana = await bot.runtime.repos.users.get_by_username("dana")
    assert dana.outbox == []


async def test_revoking_a_role_draws_home_without_it_and_asks_nobody(bot: LocalBot) -> None:
    await answer(bot, "UADMIN", f'admin grant {DANA} "Approval Manager"')
    await reacted(bot)
    asked = len(bot.slack.of("chat.postMessage"))

    await answer(bot, "UADMIN", f'admin revoke {DANA} "Approval Manager"')
    await reacted(bot)

    assert len(bot.slack.of("chat.postMessage")) == asked
    homes = [p for p in bot.slack.of("views.publish") if p.params["user_id"] == "UDANA"]
    assert approval_milestones(homes[0]) != []  # drawn with them once granted
    assert approval_milestones(homes[-1]) == []  # and without them once revoked


async def pending_approvals(bot: LocalBot) -> list[MilestoneRef]:
    release = await bot.runtime.repos.releases.get(REL)
    return [r for r in pending_in(release) if r.milestone.approval.requires_approval_manager]


def _asked_for(call: Call) -> str:
    [found] = _approvals_in(call)
    return found.split("|")[-1]


async def test_a_decider_another_attempt_still_holds_is_asked_once_it_lets_go(
    db: Database,
) -> None:
    """A crashed attempt left arjun's DM claimed (not finished): the entry is not cleared
    without him; once the claim's lease runs out, a tick asks him, and admin only once."""
    clock = FrozenClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    async with local_bot(db=db, clock=clock) as bot:
        release = await bot.runtime.repos.releases.get(REL)
        product, gate = release.gates()[0]
        key = approval_key(release.id, product.product_id, gate.gate_name, "prod-signoff")
        arjun = await bot.runtime.repos.users.get_by_username("arjun")
        held = f"request:{key}:{clock.now.isoformat()}:{arjun.id}"
        await bot.runtime.repos.claims.claim(held, now=clock.now, ttl=LEASE, owner="crashed")

        await add_prod_signoff(bot)
        await reacted(bot)
        first = requests(bot)
        waiting = (await bot.runtime.repos.releases.get(REL)).outbox
        clock.advance(minutes=20)  # both leases ran out: the crashed attempt's and the entry's
        await bot.runtime.deliveries.run_once()

        assert first == ["UADMIN"] and [e.action for e in waiting] == ["milestone.added"]
        assert sorted(requests(bot)) == ["UADMIN", "UARJUN"]
        assert (await bot.runtime.repos.releases.get(REL)).outbox == []


async def test_a_decider_slack_refuses_for_good_is_not_asked_again(bot: LocalBot) -> None:
    bot.slack.refuse_channel("UARJUN", "cannot_dm_bot")
    await add_prod_signoff(bot)
    await reacted(bot)
    await bot.runtime.deliveries.run_once()

    to_arjun = [c for c in bot.slack.of("chat.postMessage") if c.params["channel"] == "UARJUN"]
    assert len(to_arjun) == 1  # tried once, refused for good, not retried every tick
    assert "UADMIN" in requests(bot)
    assert (await bot.runtime.repos.releases.get(REL)).outbox == []


async def test_a_deactivated_person_sees_why_their_home_is_empty(bot: LocalBot) -> None:
    await answer(bot, "UADMIN", f'admin grant {DANA} "Approval Manager"')
    await reacted(bot)

    await bot.runtime.deps.services.users.set_status(
        await actor(bot, "admin"), "dana", UserStatus.DISABLED
    )
    await reacted(bot)

    homes = [p for p in bot.slack.of("views.publish") if p.params["user_id"] == "UDANA"]
    assert approval_milestones(homes[0]) != []
    assert approval_milestones(homes[-1]) == []
    assert "Your account 'dana' is disabled" in str(homes[-1].params["view"])


async def test_an_unlinked_slack_person_sees_a_home_for_someone_unknown(bot: LocalBot) -> None:
    await answer(bot, "UADMIN", f'admin grant {DANA} "Approval Manager"')
    await reacted(bot)

    await answer(bot, "UADMIN", f"admin unlink {DANA}")
    await reacted(bot)

    homes = [p for p in bot.slack.of("views.publish") if p.params["user_id"] == "UDANA"]
    assert approval_milestones(homes[-1]) == []
    assert "is not linked to a releasebot user" in str(homes[-1].params["view"])


async def test_dropping_a_pending_approval_updates_every_dm_copy(bot: LocalBot) -> None:
    await ask(bot, REL)
    copies = await dms(bot, REL, "uat-signoff")
    release = await bot.runtime.repos.releases.get(REL)
    [ref] = [r for r in pending_in(release) if r.milestone.milestone_key == "uat-signoff"]

    await bot.runtime.deps.services.gates.update_milestone(
        await actor(bot, "admin"), REL, ref.product_id, ref.gate_name, "uat-signoff",
        MilestoneChange(approval_required=False),
    )  # fmt: skip
    await reacted(bot)

    updates = bot.slack.of("chat.update")
    assert sorted((u.params["channel"], u.params["ts"]) for u in updates) == sorted(
        (m.channel, m.ts) for m in copies.values()
    )
    for update in updates:
        assert "No longer needs approval" in str(update.params["blocks"])
        assert "approval_approve" not in str(update.params["blocks"])


def test_a_dm_recorded_before_rounds_were_counts_for_the_round_it_was_sent_in() -> None:
    asked_at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    legacy = ApprovalMessage(
        approval_key="k", user_id="u", channel="D1", ts="1.0", sent_at=asked_at
    )
    recorded = legacy.model_copy(update={"round": asked_at})

    assert same_round(legacy, asked_at) and same_round(recorded, asked_at)
    assert not same_round(legacy, asked_at + timedelta(hours=1))  # asked again since
    assert not same_round(recorded, asked_at + timedelta(hours=1))
