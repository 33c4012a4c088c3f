"""Reactions to core events, end to end: whatever made the change, the DMs follow once,
even when Slack fails for a while."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.devtools.fake_slack import Call
from bot.devtools.harness import LocalBot
from core.models.release import ApprovalStatus, Decision, Environment
from core.rules.permissions import Actor
from core.rules.readiness import MilestoneRef
from core.services.approvals import pending_in
from core.services.gates import MilestoneDraft
from tests.bot.test_admin import DANA, answer, shown
from tests.bot.test_approvals import _asks_for as _approvals_in, ask, dms, reacted
from tests.bot.test_home import approval_milestones
from tests.bot.test_outbox_restart import requests

REL = "REL-2026.12"


async def person(bot: LocalBot, username: str) -> Actor:
    user = await bot.runtime.repos.users.get_by_username(username)
    return await bot.runtime.deps.services.identity.actor_by_id(user.id)


async def add_prod_signoff(bot: LocalBot) -> tuple[str, str]:
    """Through the core service, as an API or a script would: no Slack handler involved."""
    release = await bot.runtime.repos.releases.get(REL)
    product, gate = release.gates()[0]
    start = datetime(2031, 1, 5, 9, 0)
    draft = MilestoneDraft(
        milestone_key="prod-signoff", milestone_name="Prod sign-off",
        environment=Environment.PROD, start_date=start, end_date=start + timedelta(hours=8),
        approval_required=True, requires_approval_manager=True,
    )  # fmt: skip
    await bot.runtime.deps.services.gates.add_milestone(
        await person(bot, "admin"), REL, product.product_id, gate.gate_name, draft
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
    # Every attempt at the first DM fails (the call and the client's two retries): 500s.
    bot.slack.fail("chat.postMessage", status=500, retry_after=None, times=3)
    await add_prod_signoff(bot)
    await reacted(bot)
    first = requests(bot)
    waiting = (await bot.runtime.repos.releases.get(REL)).outbox

    await bot.runtime.deliveries.run_once()
    await bot.runtime.deliveries.run_once()

    assert len(bot.slack.of("chat.postMessage!500")) == 3
    assert len(first) == 1  # the other decider was asked at once
    assert [entry.action for entry in waiting] == ["milestone.added"]  # kept for a retry
    assert sorted(requests(bot)) == ["UADMIN", "UARJUN"]  # each once
    assert (await bot.runtime.repos.releases.get(REL)).outbox == []


async def test_a_decision_made_outside_slack_updates_every_dm_copy(bot: LocalBot) -> None:
    product_id, gate = await add_prod_signoff(bot)
    await reacted(bot)
    copies = await dms(bot, REL, "prod-signoff")

    await bot.runtime.deps.services.approvals.decide(
        await person(bot, "arjun"), REL, product_id, gate, "prod-signoff", Decision.APPROVE
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
