"""Approvals end to end: the DMs, Approve / Reject from a DM or the list, the reject modal."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from blocks.approvals import ApprovalTarget
from blocks.ids import ActionId, CallbackId, Origin, RejectField
from blocks.text import when
from bot.actions.approvals import Click
from bot.devtools.fake_slack import Call, SlackPerson
from bot.devtools.harness import LocalBot, local_bot
from core.models.notification import ApprovalMessage, approval_key
from core.models.release import (
    ApprovalStatus,
    Decision,
    Environment,
    MilestoneApproval,
    QualityGate,
    Release,
    ReleaseDraft,
)
from core.models.timeline import TimelineEvent
from core.services.approvals import key_of, pending_in
from core.services.gates import GateDraft, MilestoneDraft
from storage.engine import Database
from tests.bot.test_reading import ESCAPED, INJECTION, actor, answer, mrkdwn

SIGN_OFFS = "REL-2026.12"
GATE = "UAT sign-off"


# --- helpers --------------------------------------------------------------------------------


async def ask(bot: LocalBot, release_id: str, before: Release | None = None) -> list[Call]:
    """Approval request DMs. After a change (``before`` given): the ones the reaction to it
    sent, waited for. Without: every pending approval of the seeded data (seeds record no
    events) is asked for now, through the same notifier the reaction uses."""
    release = await bot.runtime.repos.releases.get(release_id)
    if before is not None:
        await reacted(bot)
        keys = {key_of(release.id, r) for r in pending_in(release)}
        keys -= {key_of(before.id, r) for r in pending_in(before)}
        return [c for c in bot.slack.of("chat.postMessage") if _asks_for(c) & keys]
    start = len(bot.slack.of("chat.postMessage"))
    await bot.runtime.deps.notifier.request_decisions(
        bot.runtime.client, release, pending_in(release)
    )
    return bot.slack.of("chat.postMessage")[start:]


async def reacted(bot: LocalBot) -> None:
    """Wait for the reactions to the changes made so far (they run after the ack)."""
    await bot.runtime.deps.settle()


def _asks_for(call: Call) -> set[str]:
    """The approvals a posted message has buttons for."""
    found: set[str] = set()
    for block in call.params.get("blocks") or []:
        for element in block.get("elements") or [] if block.get("type") == "actions" else []:
            if element.get("action_id") == ActionId.APPROVE:
                t = ApprovalTarget.decode(element.get("value"))
                found.add(approval_key(t.release, t.product, t.gate, t.milestone))
    return found


async def add_milestone(
    bot: LocalBot, release_id: str, *, owner: str, manager: bool, key: str = "prod-signoff"
) -> tuple[Release, Release]:
    """rhea (a release manager) adds a milestone needing approval, so she asked for it (and
    is never asked to decide it unless self-approval is allowed); returns the release before
    and after."""
    author = await actor(bot, "rhea")
    owner_id = (await bot.runtime.repos.users.get_by_username(owner)).id
    before = await bot.runtime.repos.releases.get(release_id)
    start = datetime(2031, 1, 5, 9, 0)
    draft = MilestoneDraft(
        milestone_key=key, milestone_name="Prod sign-off", environment=Environment.PROD,
        start_date=start, end_date=start + timedelta(hours=8), owner_id=owner_id,
        approval_required=True, requires_approval_manager=manager,
    )  # fmt: skip
    product, gate = before.gates()[0]
    after = await bot.runtime.deps.services.gates.add_milestone(
        author, release_id, product.product_id, gate.gate_name, draft
    )
    return before, after  # what follows (approval DMs) is waited for by ``ask``


async def dms(bot: LocalBot, release_id: str, milestone: str) -> dict[str, ApprovalMessage]:
    """The recorded approval DMs of one milestone, by their channel."""
    release = await bot.runtime.repos.releases.get(release_id)
    product, gate = next((p, g) for p, g in release.gates() if _has(g, milestone))
    key = approval_key(release.id, product.product_id, gate.gate_name, milestone)
    return {m.channel: m for m in await bot.runtime.repos.approval_messages.for_approval(key)}


async def target(
    bot: LocalBot, milestone: str, release_id: str = SIGN_OFFS, *, origin: Origin = Origin.DM
) -> str:
    """The value of the milestone's Approve / Reject buttons, as shown at ``origin``."""
    release = await bot.runtime.repos.releases.get(release_id)
    for product, gate in release.gates():
        if _has(gate, milestone):
            return ApprovalTarget(
                release=release.id, product=product.product_id, gate=gate.gate_name,
                milestone=milestone, origin=origin,
            ).encode()  # fmt: skip
    raise AssertionError(milestone)


def in_dm(message: ApprovalMessage) -> dict[str, Any]:
    return {"type": "message", "channel_id": message.channel, "message_ts": message.ts}


async def stored(bot: LocalBot, release_id: str = SIGN_OFFS) -> dict[str, Any]:
    """The release document once the reactions to earlier changes are done."""
    await reacted(bot)
    document = await bot.runtime.db["releases"].find_one({"release_id": release_id})
    assert document is not None
    return document


async def approval_events(bot: LocalBot, milestone: str) -> list[TimelineEvent]:
    release = await bot.runtime.repos.releases.get(SIGN_OFFS)
    events = await bot.runtime.repos.timeline.for_release(release.id, limit=200)
    return [
        e
        for e in events
        if e.action.startswith("approval.") and e.target.milestone_key == milestone
    ]


async def approval(bot: LocalBot, milestone: str) -> MilestoneApproval:
    release = await bot.runtime.repos.releases.get(SIGN_OFFS)
    return release.product("payments-api").gate(GATE).milestone(milestone).approval


def has_buttons(params: dict[str, Any]) -> bool:
    return any(b["type"] == "actions" for b in params.get("blocks") or [])


def text_of(call: Call) -> str:
    return "\n".join(mrkdwn(call.params))


async def next_call(bot: LocalBot, method: str, before: int) -> Call:
    return (await bot.slack.wait_for(method, before + 1))[before]


def _has(gate: QualityGate, key: str) -> bool:
    return any(m.milestone_key == key for m in gate.milestones)


async def settle() -> None:
    """Let handlers still running after their last awaited call finish (before a negative check)."""
    await asyncio.sleep(0.1)


# --- the DMs --------------------------------------------------------------------------------


async def test_an_approvers_email_on_a_guest_from_another_team_is_not_linked(
    bot: LocalBot,
) -> None:
    """Slack answers lookupByEmail with a Slack Connect guest who carries arjun's email: the
    approval DM must not go to them, and arjun's portal user stays unlinked."""
    bot.slack.add_person(
        SlackPerson("UARJUN", "arjun", "arjun@example.com", "America/New_York", team_id="T0GUEST")
    )
    await bot.driver.command("UADMIN", "whoami")  # admin is linked on first contact
    await bot.slack.wait_for("response_url")
    before, _ = await add_milestone(bot, "REL-2026.11-HF1", owner="rhea", manager=True)

    posts = await ask(bot, "REL-2026.11-HF1", before)

    assert [c.params["channel"] for c in posts] == ["UADMIN"]
    assert (await bot.runtime.repos.users.get_by_username("arjun")).slack is None


async def test_a_new_pending_approval_is_sent_to_everyone_allowed_to_decide(bot: LocalBot) -> None:
    await bot.driver.command("UADMIN", "whoami")  # admin is linked on first contact
    await bot.slack.wait_for("response_url")
    before, _ = await add_milestone(bot, "REL-2026.11-HF1", owner="rhea", manager=True)

    posts = await ask(bot, "REL-2026.11-HF1", before)

    assert sorted(c.params["channel"] for c in posts) == [
        "UADMIN",
        "UARJUN",
    ]  # DMs (a user id as channel): not rhea (no approval manager), never dana
    assert [c.params["email"] for c in bot.slack.of("users.lookupByEmail")] == ["arjun@example.com"]
    arjun = await bot.runtime.repos.users.get_by_username("arjun")
    assert arjun.slack is not None and arjun.slack.user_id == "UARJUN"  # linked by email
    assert sorted(p.params["channel"] for p in posts) == ["UADMIN", "UARJUN"]
    for post in posts:
        actions = [b for b in post.params["blocks"] if b["type"] == "actions"]
        assert [e["action_id"] for e in actions[0]["elements"]] == [
            "approval_approve",
            "approval_reject",
        ]
        text = text_of(post)
        assert "*REL-2026.11-HF1*" in text and "Prod sign-off" in text
        assert "approval manager sign-off" in text
    assert (
        await ask(bot, "REL-2026.11-HF1", await bot.runtime.repos.releases.get("REL-2026.11-HF1"))
        == []
    )


@pytest.mark.parametrize("allowed", [False, True])
async def test_the_owner_is_asked_only_when_self_approval_is_allowed(
    db: Database, allowed: bool
) -> None:
    async with local_bot(db=db, allow_self_approval=allowed) as bot:
        before, _ = await add_milestone(bot, "REL-2026.11-HF1", owner="rhea", manager=False)

        posts = await ask(bot, "REL-2026.11-HF1", before)

        asked = sorted(c.params["channel"] for c in posts)
        assert asked == (["UADMIN", "UARJUN", "URHEA"] if allowed else ["UADMIN", "UARJUN"])


# --- approve --------------------------------------------------------------------------------


async def test_approving_from_a_dm_records_it_and_updates_every_dm(bot: LocalBot) -> None:
    await ask(bot, SIGN_OFFS)
    copies = await dms(bot, SIGN_OFFS, "uat-signoff")
    assert sorted(copies) == ["DUADMIN", "DUARJUN"]

    reply = await bot.driver.click(
        "UARJUN", ActionId.APPROVE, await target(bot, "uat-signoff"),
        block_id="approval", container=in_dm(copies["DUARJUN"]),
    )  # fmt: skip

    assert reply.status == 200
    updates = await bot.slack.wait_for("chat.update", 2)
    assert {(u.params["channel"], u.params["ts"]) for u in updates} == {
        (m.channel, m.ts) for m in copies.values()
    }
    for update in updates:
        assert not has_buttons(update.params)
        assert "*Approved* by arjun (Approval Manager)" in text_of(update)
    decided = await approval(bot, "uat-signoff")
    assert decided.status is ApprovalStatus.APPROVED
    assert decided.approver_username == "arjun"
    assert decided.approver_role_snapshot == ["Approval Manager"]
    assert len(await approval_events(bot, "uat-signoff")) == 1
    assert (await approval(bot, "stage-signoff")).status is ApprovalStatus.PENDING
    # The clicked DM shows the decision at once, in arjun's zone, without waiting for the
    # reaction that updates every copy (the same words).
    [replaced] = bot.slack.of("response_url")
    assert replaced.params["replace_original"] is True and not has_buttons(replaced.params)
    assert "*Approved* by arjun (Approval Manager)" in text_of(replaced)


async def test_someone_who_may_not_decide_is_refused_and_nothing_changes(bot: LocalBot) -> None:
    await ask(bot, SIGN_OFFS)
    before = await stored(bot)

    await bot.driver.click(
        "UDANA", ActionId.APPROVE, await target(bot, "uat-signoff"),
        container={"type": "message", "channel_id": "DUDANA", "message_ts": "1.0"},
    )  # fmt: skip

    [told] = await bot.slack.wait_for("response_url")
    assert told.params["response_type"] == "ephemeral"
    assert told.params["replace_original"] is False
    assert told.params["text"].startswith(":warning: ")
    assert "PERMISSION_DENIED" not in told.params["text"]
    assert "must be decided by an approval manager" in told.params["text"]
    assert await stored(bot) == before
    assert await approval_events(bot, "uat-signoff") == []
    await settle()
    assert bot.slack.of("chat.update") == []


async def test_the_owner_may_not_approve_their_own_milestone(bot: LocalBot) -> None:
    await add_milestone(bot, SIGN_OFFS, owner="rhea", manager=False)
    before = await stored(bot)

    await bot.driver.click("URHEA", ActionId.APPROVE, await target(bot, "prod-signoff"))

    [told] = await bot.slack.wait_for("response_url")
    assert "PERMISSION_DENIED" not in told.params["text"]
    assert told.params["text"].startswith(":warning: You own milestone 'prod-signoff'")
    assert await stored(bot) == before


async def test_a_second_click_on_any_dm_is_told_who_decided_and_when(bot: LocalBot) -> None:
    await ask(bot, SIGN_OFFS)
    copies = await dms(bot, SIGN_OFFS, "uat-signoff")
    value = await target(bot, "uat-signoff")
    await bot.driver.click("UARJUN", ActionId.APPROVE, value, container=in_dm(copies["DUARJUN"]))
    await bot.slack.wait_for("chat.update", 2)
    decided = await approval(bot, "uat-signoff")
    before = await stored(bot)

    shown = len(bot.slack.of("response_url"))  # arjun's own DM, replaced at once
    await bot.driver.click("UADMIN", ActionId.APPROVE, value, container=in_dm(copies["DUADMIN"]))

    [told] = (await bot.slack.wait_for("response_url", shown + 1))[shown:]
    assert told.params["replace_original"] is False
    assert decided.approved_at is not None
    london = ZoneInfo("Europe/London")  # the admin's Slack zone
    assert (
        f"already approved by arjun at {when(decided.approved_at, london)}" in told.params["text"]
    )
    assert await stored(bot) == before
    assert len(bot.slack.of("chat.update")) == 2


async def test_two_approvers_at_once_make_exactly_one_decision(db: Database) -> None:
    from storage.instrumented import RoundTrips

    # Every database call yields as a network call would, so the two clicks interleave.
    async with local_bot(db=RoundTrips(yield_each_call=True).wrap(db)) as bot:
        await ask(bot, SIGN_OFFS)
        copies = await dms(bot, SIGN_OFFS, "uat-signoff")
        value = await target(bot, "uat-signoff")

        await asyncio.gather(
            bot.driver.click("UARJUN", ActionId.APPROVE, value, container=in_dm(copies["DUARJUN"])),
            bot.driver.click("UADMIN", ActionId.APPROVE, value, container=in_dm(copies["DUADMIN"])),
        )

        answers = await bot.slack.wait_for("response_url", 2)  # the winner's, the other's
        [told] = [a for a in answers if a.params["replace_original"] is False]
        await bot.slack.wait_for("chat.update", 2)
        [event] = await approval_events(bot, "uat-signoff")
        winner = event.actor.username
        assert winner in ("arjun", "admin")
        assert (await approval(bot, "uat-signoff")).approver_username == winner
        assert f"already approved by {winner}" in told.params["text"]
        await settle()
        assert len(bot.slack.of("chat.update")) == 2


async def test_a_tampered_or_unlinked_click_is_refused(bot: LocalBot) -> None:
    before = await stored(bot)

    await bot.driver.click("UARJUN", ActionId.APPROVE, "not json")
    await bot.driver.click("UNOBODY", ActionId.APPROVE, await target(bot, "uat-signoff"))

    told = await bot.slack.wait_for("response_url", 2)
    texts = [t.params["text"] for t in told]
    assert any("not linked" in t for t in texts)
    assert any("This form is out of date" in t for t in texts)
    assert await stored(bot) == before


# --- the approvals list ---------------------------------------------------------------------


async def test_approvals_lists_the_callers_pending_approvals_with_buttons(bot: LocalBot) -> None:
    listed = await answer(bot, "UARJUN", "approvals")
    for_dana = await answer(bot, "UDANA", "approvals")
    for_rhea = await answer(bot, "URHEA", "approvals")

    assert listed.params["response_type"] == "ephemeral"
    actions = [b for b in listed.params["blocks"] if b["type"] == "actions"]
    targets = [ApprovalTarget.decode(a["elements"][0]["value"]) for a in actions]
    assert [t.milestone for t in targets] == ["uat-signoff", "stage-signoff"]
    assert [e["action_id"] for e in actions[0]["elements"]] == [
        "approval_approve",
        "approval_reject",
    ]
    assert "*2 approvals* waiting for you" in text_of(listed)
    for nothing in (for_dana, for_rhea):
        assert "Nothing is waiting for your approval." in text_of(nothing)
        assert not has_buttons(nothing.params)


async def test_approving_from_the_list_redraws_it_and_updates_the_dms(bot: LocalBot) -> None:
    await ask(bot, SIGN_OFFS)
    listed = await answer(bot, "UARJUN", "approvals")
    first = next(b for b in listed.params["blocks"] if b["type"] == "actions")
    start = len(bot.slack.of("response_url"))

    await bot.driver.click(
        "UARJUN", ActionId.APPROVE, first["elements"][0]["value"], block_id=first["block_id"],
        container={"type": "message", "channel_id": "C0RELEASE", "message_ts": "9.9",
                   "is_ephemeral": True},
    )  # fmt: skip

    redrawn = await next_call(bot, "response_url", start)
    assert redrawn.params["replace_original"] is True
    text = text_of(redrawn)
    assert "You approved *UAT sign-off*" in text and "*1 approval* waiting for you" in text
    remaining = [b for b in redrawn.params["blocks"] if b["type"] == "actions"]
    assert [ApprovalTarget.decode(a["elements"][0]["value"]).milestone for a in remaining] == [
        "stage-signoff"
    ]
    updates = await bot.slack.wait_for("chat.update", 2)
    assert {u.params["channel"] for u in updates} == {"DUADMIN", "DUARJUN"}


# --- reject ---------------------------------------------------------------------------------


def reason(text: str) -> dict[str, dict[str, Any]]:
    return {RejectField.REASON: {RejectField.REASON: {"type": "plain_text_input", "value": text}}}


async def open_reject(bot: LocalBot, user: str, milestone: str, **where: Any) -> dict[str, Any]:
    start = len(bot.slack.of("views.open"))
    await bot.driver.click(user, ActionId.REJECT, await target(bot, milestone), **where)
    opened = await next_call(bot, "views.open", start)
    view: dict[str, Any] = opened.params["view"]
    return view


async def test_reject_needs_a_reason_then_updates_every_dm(bot: LocalBot) -> None:
    await ask(bot, SIGN_OFFS)
    copies = await dms(bot, SIGN_OFFS, "uat-signoff")
    before = await stored(bot)

    view = await open_reject(bot, "UARJUN", "uat-signoff", container=in_dm(copies["DUARJUN"]))
    empty = await bot.driver.submit("UARJUN", view, reason("   "))

    assert view["callback_id"] == CallbackId.REJECT
    assert ApprovalTarget.decode(json.dumps(json.loads(view["private_metadata"])["target"])) == (
        ApprovalTarget.decode(await target(bot, "uat-signoff"))
    )
    assert empty.json() == {
        "response_action": "errors",
        "errors": {RejectField.REASON: "A rejection needs a reason"},
    }
    assert await stored(bot) == before

    done = await bot.driver.submit("UARJUN", view, reason("Evidence for <!channel> is missing"))

    assert done.status == 200 and done.text == ""
    updates = await bot.slack.wait_for("chat.update", 2)
    for update in updates:
        assert not has_buttons(update.params)
        text = text_of(update)
        assert "*Rejected* by arjun" in text
        assert "> Evidence for &lt;!channel&gt; is missing" in text
        assert "<!channel>" not in text
    decided = await approval(bot, "uat-signoff")
    assert decided.status is ApprovalStatus.REJECTED
    assert decided.comment == "Evidence for <!channel> is missing"
    assert [e.action for e in await approval_events(bot, "uat-signoff")] == ["approval.rejected"]
    assert bot.slack.of("views.update") == []


async def test_rejecting_what_was_decided_meanwhile_shows_who_on_the_field(bot: LocalBot) -> None:
    view = await open_reject(bot, "UARJUN", "uat-signoff")
    admin = await actor(bot, "admin")
    await bot.runtime.deps.services.approvals.decide(
        admin, SIGN_OFFS, "payments-api", GATE, "uat-signoff", Decision.APPROVE
    )
    before = await stored(bot)

    late = await bot.driver.submit("UARJUN", view, reason("Too risky"))

    errors = late.json()
    assert errors["response_action"] == "errors"
    told = errors["errors"][RejectField.REASON]
    assert "already approved by admin at " in told and told.endswith(
        "(New York time). Nothing changed."  # arjun's own clock
    )
    assert await stored(bot) == before


async def test_a_reason_longer_than_2000_characters_is_refused(bot: LocalBot) -> None:
    view = await open_reject(bot, "UARJUN", "uat-signoff")
    before = await stored(bot)

    long = await bot.driver.submit("UARJUN", view, reason("x" * 2001))

    assert "At most 2000 characters" in long.json()["errors"][RejectField.REASON]
    assert await stored(bot) == before


async def test_reject_by_someone_who_may_not_decide_says_why_in_the_modal(bot: LocalBot) -> None:
    before = await stored(bot)

    await open_reject(bot, "UDANA", "uat-signoff")

    [updated] = await bot.slack.wait_for("views.update")
    assert updated.params["view"]["title"]["text"] == "Cannot reject"
    assert "PERMISSION_DENIED" not in text_of(updated)
    assert "must be decided by an approval manager" in text_of(updated)
    assert await stored(bot) == before


@pytest.mark.expired_trigger
async def test_reject_whose_trigger_expired_on_the_way_asks_for_another_click(
    bot: LocalBot,
) -> None:
    await ask(bot, SIGN_OFFS)
    copies = await dms(bot, SIGN_OFFS, "uat-signoff")
    before = await stored(bot)
    bot.slack.trigger_seconds = 0.0  # Slack took too long to bring the click to us

    await bot.driver.click(
        "UARJUN", ActionId.REJECT, await target(bot, "uat-signoff"),
        container=in_dm(copies["DUARJUN"]),
    )  # fmt: skip

    [told] = await bot.slack.wait_for("response_url")
    assert told.params["response_type"] == "ephemeral"
    assert told.params["replace_original"] is False
    assert "Please click *Reject* again" in told.params["text"]
    assert [c.method for c in bot.slack.calls if c.method.startswith("views.")] == [
        "views.open!expired_trigger_id"  # tried once, at once; never again with that id
    ]
    assert await stored(bot) == before


# --- escaping -------------------------------------------------------------------------------


async def test_approval_dms_escape_every_name(bot: LocalBot) -> None:
    admin = await actor(bot, "admin")
    services = bot.runtime.deps.services
    await services.releases.create(
        admin, ReleaseDraft(release_id="REL-PING", release_name=INJECTION,
                            release_date=date(2030, 1, 1), squad_ids=["payments"]),
    )  # fmt: skip
    await services.releases.add_product(
        admin, "REL-PING", application_id="payments", product_id="payments-api"
    )
    await services.gates.add_gate(
        admin, "REL-PING", "payments-api", GateDraft(gate_name="<!here> gate")
    )
    start = datetime(2030, 1, 1, 9, 0)
    await services.gates.add_milestone(
        admin, "REL-PING", "payments-api", "<!here> gate",
        MilestoneDraft(milestone_key="ping", milestone_name="<@U999> sign-off",
                       environment=Environment.UAT, start_date=start,
                       end_date=start + timedelta(hours=1), approval_required=True),
    )  # fmt: skip

    await reacted(bot)  # the reaction to the new milestone asked its deciders
    posts = [c for c in bot.slack.of("chat.postMessage") if "REL-PING" in c.params["text"]]
    copies = await dms(bot, "REL-PING", "ping")
    await bot.driver.click(
        "UARJUN", ActionId.APPROVE, await target(bot, "ping", "REL-PING"),
        container=in_dm(copies["DUARJUN"]),
    )  # fmt: skip
    updates = await bot.slack.wait_for("chat.update", len(copies))

    assert len(posts) == len(copies) >= 2
    for message in [*posts, *updates]:
        texts = mrkdwn(message.params)
        assert not any(raw in t for t in texts for raw in ("<!channel>", "<!here>", "<@U"))
        assert any(ESCAPED in t for t in texts)


async def test_rejecting_from_the_list_redraws_it_after_the_modal(bot: LocalBot) -> None:
    listed = await answer(bot, "UARJUN", "approvals")
    second = [b for b in listed.params["blocks"] if b["type"] == "actions"][1]
    start = len(bot.slack.of("response_url"))

    await bot.driver.click(
        "UARJUN", ActionId.REJECT, second["elements"][1]["value"], block_id=second["block_id"],
        container={"type": "message", "channel_id": "C0RELEASE", "message_ts": "9.9",
                   "is_ephemeral": True},
    )  # fmt: skip
    [opened] = await bot.slack.wait_for("views.open")
    await bot.driver.submit("UARJUN", opened.params["view"], reason("Stage is not ready"))

    redrawn = await next_call(bot, "response_url", start)
    assert redrawn.params["replace_original"] is True
    text = text_of(redrawn)
    assert "You rejected *Stage sign-off*" in text and "*1 approval* waiting for you" in text
    assert (await approval(bot, "stage-signoff")).status is ApprovalStatus.REJECTED


async def test_approving_from_a_message_that_is_no_recorded_dm_replaces_it(bot: LocalBot) -> None:
    await bot.driver.click(
        "UARJUN", ActionId.APPROVE, await target(bot, "uat-signoff"),
        container={"type": "message", "channel_id": "DUARJUN", "message_ts": "123.456"},
    )  # fmt: skip

    [replaced] = await bot.slack.wait_for("response_url")
    assert replaced.params["replace_original"] is True
    assert not has_buttons(replaced.params)
    assert "*Approved* by arjun" in text_of(replaced)
    assert (await approval(bot, "uat-signoff")).status is ApprovalStatus.APPROVED


def test_a_click_says_where_it_came_from_in_its_typed_value() -> None:
    """Not from block_id prefixes or the container: the button's value names its surface."""
    value = ApprovalTarget(
        release="r", product="p", gate="g", milestone="m", origin=Origin.LIST
    ).encode()
    body: dict[str, Any] = {
        "actions": [{"action_id": ActionId.APPROVE.value, "value": value, "block_id": "x"}],
        "container": {"type": "view"},
        "user": {"id": "UARJUN"},
    }

    assert Click.parse(body).origin is Origin.LIST
    assert Click.parse({**body, "actions": [{"value": "garbage"}]}).origin is Origin.DM
