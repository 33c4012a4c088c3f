"""Approval policies as people see them in Slack: progress in every DM copy, a double click
counted once, votes withdrawn when their evidence changes, expiry, and delegates asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from blocks.ids import ActionId
from bot.devtools.harness import LocalBot, local_bot
from core.models.approval import Policy, QuorumRule
from core.models.rbac import Permission
from core.models.release import ApprovalStatus, Environment, Release
from core.models.statuses import GateStatus
from core.services.gates import GateChange, MilestoneDraft
from storage.engine import Database
from tests.bot.test_approvals import (
    GATE,
    SIGN_OFFS,
    approval,
    dms,
    has_buttons,
    in_dm,
    reacted,
    target,
    text_of,
)
from tests.bot.test_reading import actor
from tests.support import FrozenClock

TWO_MANAGERS = Policy(rules=[QuorumRule(flags=[Permission.IS_APPROVAL_MANAGER], count=2)])
KEY = "prod-go"


async def add(bot: LocalBot, policy: Policy) -> Release:
    """rhea adds a prod milestone needing ``policy`` to the UAT sign-off gate; its request
    DMs are sent by the reaction, waited for."""
    rhea = await actor(bot, "rhea")
    start = datetime(2031, 1, 5, 9, 0)
    draft = MilestoneDraft(
        milestone_key=KEY, milestone_name="Prod go", environment=Environment.PROD,
        start_date=start, end_date=start + timedelta(hours=4),
        approval_required=True, approval_policy=policy,
    )  # fmt: skip
    release = await bot.runtime.deps.services.gates.add_milestone(
        rhea, SIGN_OFFS, "payments-api", GATE, draft
    )
    await reacted(bot)
    return release


async def vote(bot: LocalBot, slack_id: str) -> None:
    copies = await dms(bot, SIGN_OFFS, KEY)
    channel = f"D{slack_id}"
    await bot.driver.click(
        slack_id, ActionId.APPROVE, await target(bot, KEY),
        block_id="approval", container=in_dm(copies[channel]),
    )  # fmt: skip
    await reacted(bot)


def updates_of(bot: LocalBot, channel: str) -> list[str]:
    return [text_of(c) for c in bot.slack.of("chat.update") if c.params["channel"] == channel]


async def test_every_copy_shows_the_progress_and_the_voter_loses_the_buttons(
    bot: LocalBot,
) -> None:
    await add(bot, TWO_MANAGERS)
    copies = await dms(bot, SIGN_OFFS, KEY)
    assert sorted(copies) == ["DUADMIN", "DUARJUN"]
    [request] = [c for c in bot.slack.of("chat.postMessage") if c.params["channel"] == "UARJUN"]
    assert "*Needs:* 2 × Approval Manager" in text_of(request)

    await vote(bot, "UARJUN")

    assert (await approval(bot, KEY)).status is ApprovalStatus.PENDING
    [reply] = bot.slack.of("response_url")
    assert "Your vote is in" in text_of(reply) and not has_buttons(reply.params)
    by_channel = {c.params["channel"]: c.params for c in bot.slack.of("chat.update")}
    assert not has_buttons(by_channel["DUARJUN"])
    assert has_buttons(by_channel["DUADMIN"])  # admin may still decide
    assert "Approval Manager 1/2" in "\n".join(updates_of(bot, "DUADMIN"))
    assert "arjun approved" in "\n".join(updates_of(bot, "DUADMIN"))

    await vote(bot, "UADMIN")

    assert (await approval(bot, KEY)).status is ApprovalStatus.APPROVED
    for channel in ("DUADMIN", "DUARJUN"):
        assert "*Approved* by admin" in updates_of(bot, channel)[-1]


async def test_a_second_click_by_the_same_voter_is_counted_once_and_told(bot: LocalBot) -> None:
    await add(bot, TWO_MANAGERS)
    await vote(bot, "UARJUN")
    before = len(bot.slack.of("response_url"))

    await vote(bot, "UARJUN")

    told = bot.slack.of("response_url")[before:]
    assert told and "is in already" in text_of(told[-1])
    assert [v.username for v in (await approval(bot, KEY)).votes] == ["arjun"]


async def test_a_vote_withdrawn_by_a_failing_gate_is_said_in_its_dm_and_asked_again(
    bot: LocalBot,
) -> None:
    rhea = await actor(bot, "rhea")
    gates = bot.runtime.deps.services.gates
    await gates.update_gate(
        rhea, SIGN_OFFS, "payments-api", GATE, GateChange(gate_status=GateStatus.PASSED)
    )
    await add(bot, TWO_MANAGERS)
    await vote(bot, "UARJUN")
    asked = len(bot.slack.of("chat.postMessage"))

    await gates.update_gate(
        rhea, SIGN_OFFS, "payments-api", GATE, GateChange(gate_status=GateStatus.FAILED)
    )
    await reacted(bot)

    withdrawn = updates_of(bot, "DUARJUN")[-1]
    assert "*Withdrawn*: UAT sign-off PASSED → FAILED" in withdrawn
    again = [c.params["channel"] for c in bot.slack.of("chat.postMessage")[asked:]]
    assert sorted(again) == ["UADMIN", "UARJUN"]  # a new round for everyone
    assert (await approval(bot, KEY)).votes == []


async def test_an_expired_approval_updates_its_dms_tells_who_asked_once_and_can_be_asked_again(
    db: Database,
) -> None:
    clock = FrozenClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    async with local_bot(db=db, clock=clock) as bot:
        policy = Policy(
            rules=[QuorumRule(flags=[Permission.IS_APPROVAL_MANAGER])], expires_after_hours=4
        )
        await add(bot, policy)
        clock.now += timedelta(hours=5)

        await bot.runtime.deliveries.run_once()
        await reacted(bot)
        await bot.runtime.deliveries.run_once()  # a second tick expires and tells nothing more
        await reacted(bot)

        assert (await approval(bot, KEY)).status is ApprovalStatus.EXPIRED
        for channel in ("DUADMIN", "DUARJUN"):
            [update] = updates_of(bot, channel)
            assert "*Expired*" in update
        notices = [
            c for c in bot.slack.of("chat.postMessage") if "Approval expired" in c.params["text"]
        ]
        # rhea asked; she and admin are release managers: each told once
        assert sorted(c.params["channel"] for c in notices) == ["UADMIN", "URHEA"]
        [notice] = [c for c in notices if c.params["channel"] == "URHEA"]
        [button] = [
            e for b in notice.params["blocks"] if b["type"] == "actions" for e in b["elements"]
        ]
        asked = len(bot.slack.of("chat.postMessage"))

        await bot.driver.click("URHEA", ActionId.REQUEST_AGAIN, button["value"])
        await reacted(bot)

        assert (await approval(bot, KEY)).status is ApprovalStatus.PENDING
        again = [c.params["channel"] for c in bot.slack.of("chat.postMessage")[asked:]]
        assert sorted(again) == ["UADMIN", "UARJUN"]


async def test_a_delegate_is_asked_and_votes_in_place_of_who_is_away(bot: LocalBot) -> None:
    admin = await actor(bot, "admin")
    services = bot.runtime.deps.services
    in_three_weeks = bot.runtime.deps.clock().date() + timedelta(days=21)
    # dana holds none of arjun's roles: an admin names her (and thereby approves it)
    await services.delegation.delegate(
        admin, "dana", in_three_weeks, bot.runtime.deps.default_tz, for_user="arjun"
    )
    await reacted(bot)
    await add(bot, TWO_MANAGERS)

    copies = await dms(bot, SIGN_OFFS, KEY)
    assert sorted(copies) == ["DUADMIN", "DUARJUN", "DUDANA"]

    await vote(bot, "UDANA")

    [cast] = (await approval(bot, KEY)).votes
    assert (cast.username, cast.cast_by_username) == ("arjun", "dana")
    assert "dana for arjun approved" in updates_of(bot, "DUADMIN")[-1]
    before = len(bot.slack.of("response_url"))
    await vote(bot, "UARJUN")  # his vote is in already, cast by his delegate
    assert "is in already" in text_of(bot.slack.of("response_url")[before])
