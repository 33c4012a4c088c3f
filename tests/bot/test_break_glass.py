"""Break glass during a freeze, end to end: an approval manager's Approve refused with the
freeze named and a *Break glass…* button, the modal asking for the reason, the override
recorded and shown by `status`; the gate form's break-glass reason. Signed requests in, Web
API calls to the recording fake Slack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from blocks.ids import ActionId, BreakGlassField, CallbackId, Origin
from blocks.text import when
from bot.devtools.fake_slack import Call
from bot.devtools.harness import LocalBot, local_bot
from core.models.release import ApprovalStatus, Decision, Environment, GateStatus
from core.services.gates import MilestoneDraft
from storage.engine import Database
from tests.bot.modal_support import open_form, option_value_in, select, snapshot, submit, text
from tests.bot.test_approvals import target
from tests.bot.test_approve_redraw import home_with_banner
from tests.bot.test_freezes import plan
from tests.bot.test_home import ON_HOME, banner
from tests.bot.test_reading import actor, answer, buttons, shown
from tests.support import FrozenClock

NEW_YORK = ZoneInfo("America/New_York")  # arjun's Slack zone
REL = "REL-2026.12"
PRODUCT = "payments-api"
GATE = "UAT sign-off"
KEY = "go-live"
REASON = "Card outage fix, agreed with the CTO"


async def prod_milestone(bot: LocalBot, *, author: str = "rhea") -> None:
    """A prod milestone needing one approval manager or gate manager, owned by dana and asked
    for by ``author`` (who may then not decide it)."""
    dana = await bot.runtime.repos.users.get_by_username("dana")
    start = datetime(2031, 1, 5, 9, 0)
    draft = MilestoneDraft(
        milestone_key=KEY, milestone_name="Go-live", environment=Environment.PROD,
        start_date=start, end_date=start + timedelta(hours=8), owner_id=dana.id,
        approval_required=True,
    )  # fmt: skip
    await bot.runtime.deps.services.gates.add_milestone(
        await actor(bot, author), REL, PRODUCT, GATE, draft
    )
    await bot.runtime.deps.settle()


async def freeze(bot: LocalBot) -> datetime:
    """The Holiday freeze, on now for everything; its end."""
    now = bot.runtime.deps.clock().replace(microsecond=0)
    until = now + timedelta(days=2)
    await plan(bot, "Holiday freeze", now - timedelta(hours=1), until)
    return until


async def approve(bot: LocalBot, user: str) -> Call:
    """``user`` clicks Approve on the go-live milestone; what they were told."""
    told = len(bot.slack.of("response_url"))
    reply = await bot.driver.click(user, ActionId.APPROVE, await target(bot, KEY, REL))
    assert reply.status == 200
    return (await bot.slack.wait_for("response_url", told + 1))[told]


async def break_glass_form(bot: LocalBot, user: str, value: str) -> dict[str, Any]:
    """``user`` clicks *Break glass…*: the form the "Loading…" modal was replaced with."""
    opened, updated = len(bot.slack.of("views.open")), len(bot.slack.of("views.update"))
    reply = await bot.driver.click(user, ActionId.BREAK_GLASS, value, block_id="break_glass")
    assert reply.status == 200
    await bot.slack.wait_for("views.open", opened + 1)
    [*_, update] = await bot.slack.wait_for("views.update", updated + 1)
    view: dict[str, Any] = update.params["view"]
    return view


def reason(value: str) -> dict[str, dict[str, Any]]:
    return {BreakGlassField.REASON: {BreakGlassField.REASON: text(value)}}


async def go_live_status(bot: LocalBot) -> ApprovalStatus:
    release = await bot.runtime.repos.releases.get(REL)
    return release.product(PRODUCT).gate(GATE).milestone(KEY).approval.status


# --- approvals ------------------------------------------------------------------------------


async def test_an_approval_managers_approve_is_refused_naming_the_freeze_with_a_button(
    bot: LocalBot,
) -> None:
    await prod_milestone(bot)
    until = await freeze(bot)
    before = await snapshot(bot)

    told = await approve(bot, "UARJUN")

    said = shown(told)
    assert f"The freeze *Holiday freeze* is on until {when(until, NEW_YORK)}" in said
    assert told.params["response_type"] == "ephemeral"
    offered = buttons(told)[ActionId.BREAK_GLASS]
    assert offered["value"] == await target(bot, KEY, REL)  # the Approve button's own value
    assert await go_live_status(bot) is ApprovalStatus.PENDING
    assert await snapshot(bot) == before


async def test_someone_who_is_no_approval_manager_gets_no_button(bot: LocalBot) -> None:
    """rhea may decide (a gate manager, the milestone asked for by the admin), but not
    break glass: she is told of the freeze, with no button."""
    await prod_milestone(bot, author="admin")
    until = await freeze(bot)
    before = await snapshot(bot)

    told = await approve(bot, "URHEA")

    assert f"The freeze *Holiday freeze* is on until {when(until, ZoneInfo('Asia/Kolkata'))}" in (
        shown(told)
    )
    assert ActionId.BREAK_GLASS not in buttons(told)
    assert await snapshot(bot) == before


async def test_the_button_opens_a_form_naming_the_freeze_and_the_record(bot: LocalBot) -> None:
    await prod_milestone(bot)
    until = await freeze(bot)
    told = await approve(bot, "UARJUN")

    view = await break_glass_form(bot, "UARJUN", buttons(told)[ActionId.BREAK_GLASS]["value"])

    assert view["callback_id"] == CallbackId.BREAK_GLASS
    said = shown(Call("views.update", {"view": view}))
    assert f"during the freeze *Holiday freeze* (on until {when(until, NEW_YORK)})" in said
    assert "recorded" in said and "status" in said and "digest" in said and "audit" in said
    [block] = [b for b in view["blocks"] if b.get("block_id") == BreakGlassField.REASON]
    assert block["element"]["max_length"] == 2000 and not block.get("optional")


async def test_a_reason_approves_records_the_override_and_status_shows_it(bot: LocalBot) -> None:
    await prod_milestone(bot)
    await freeze(bot)
    told = await approve(bot, "UARJUN")
    view = await break_glass_form(bot, "UARJUN", buttons(told)[ActionId.BREAK_GLASS]["value"])

    replaced = len(bot.slack.of("response_url"))

    done = await bot.driver.submit("UARJUN", view, reason(REASON))

    assert done.status == 200 and done.text == ""  # the modal closes
    assert await go_live_status(bot) is ApprovalStatus.APPROVED
    # The refusal that offered the button now says it is approved.
    [*_, shown_after] = await bot.slack.wait_for("response_url", replaced + 1)
    assert shown_after.params["replace_original"] is True
    assert "*Approved* by arjun" in shown(shown_after)
    await bot.runtime.deps.settle()
    stored = await bot.runtime.db["releases"].find_one({"release_id": REL})
    assert stored is not None
    [record] = stored["break_glass"]
    assert (record["by"], record["freeze_name"], record["reason"]) == (
        "arjun",
        "Holiday freeze",
        REASON,
    )
    release = await bot.runtime.repos.releases.get(REL)
    entries = await bot.runtime.repos.timeline.for_release(release.id, limit=100)
    assert [e.comment for e in entries if e.action == "freeze.break_glass"] == [REASON]

    status = shown(await answer(bot, "UDANA", f"status {REL}"))

    assert (
        f"🔨 *arjun* broke glass during *Holiday freeze*: approved {KEY} ({PRODUCT} / {GATE}) "
        f"— “{REASON}” · "
    ) in status


async def test_a_blank_reason_is_refused_under_the_field_and_nothing_changes(
    bot: LocalBot,
) -> None:
    await prod_milestone(bot)
    await freeze(bot)
    told = await approve(bot, "UARJUN")
    view = await break_glass_form(bot, "UARJUN", buttons(told)[ActionId.BREAK_GLASS]["value"])
    before = await snapshot(bot)

    refused = await bot.driver.submit("UARJUN", view, reason("   "))

    assert refused.json() == {
        "response_action": "errors",
        "errors": {BreakGlassField.REASON: "Say why this change cannot wait"},
    }
    assert await go_live_status(bot) is ApprovalStatus.PENDING
    assert await snapshot(bot) == before


async def test_a_form_submitted_by_someone_who_is_no_approval_manager_is_refused(
    bot: LocalBot,
) -> None:
    """rhea (a gate manager who may decide) submits the form arjun opened: the core refuses
    her break-glass, under the reason."""
    await prod_milestone(bot, author="admin")
    await freeze(bot)
    told = await approve(bot, "UARJUN")
    view = await break_glass_form(bot, "UARJUN", buttons(told)[ActionId.BREAK_GLASS]["value"])
    await answer(bot, "URHEA", "whoami")  # rhea's first contact links her
    before = await snapshot(bot)

    refused = await bot.driver.submit("URHEA", view, reason(REASON))

    errors = refused.json()["errors"]
    assert "only an approval manager can break glass" in errors[BreakGlassField.REASON]
    assert await snapshot(bot) == before


async def test_the_button_clicked_by_someone_else_says_why_in_the_modal(bot: LocalBot) -> None:
    await prod_milestone(bot)
    await freeze(bot)
    told = await approve(bot, "UARJUN")

    view = await break_glass_form(bot, "UDANA", buttons(told)[ActionId.BREAK_GLASS]["value"])

    assert "Only an approval manager can break glass" in shown(Call("views.update", {"view": view}))
    assert view.get("submit") is None


async def test_once_the_freeze_is_over_the_button_says_to_approve_as_usual(
    bot: LocalBot,
) -> None:
    await prod_milestone(bot)
    await freeze(bot)
    told = await approve(bot, "UARJUN")
    await bot.runtime.deps.services.freezes.end(await actor(bot, "rhea"), "Holiday freeze")

    view = await break_glass_form(bot, "UARJUN", buttons(told)[ActionId.BREAK_GLASS]["value"])

    said = shown(Call("views.update", {"view": view}))
    assert "No freeze holds milestone 'go-live' now: approve it with its Approve button" in said
    assert view.get("submit") is None


async def test_on_app_home_the_freeze_is_in_the_banner_and_the_button_comes_by_dm(
    bot: LocalBot,
) -> None:
    await prod_milestone(bot)
    await freeze(bot)
    await bot.runtime.deps.settle()
    published, posted = len(bot.slack.of("views.publish")), len(bot.slack.of("chat.postMessage"))
    value = await target(bot, KEY, REL, origin=Origin.HOME)

    await bot.driver.click("UARJUN", ActionId.APPROVE, value, **ON_HOME)

    home = await home_with_banner(bot, "UARJUN", published)
    said = banner(home) or ""
    assert "The freeze Holiday freeze is on until" in said and "in your DMs" in said
    [*_, dm] = await bot.slack.wait_for("chat.postMessage", posted + 1)
    assert dm.params["channel"] == "UARJUN"
    assert buttons(dm)[ActionId.BREAK_GLASS]["value"] == value
    assert await go_live_status(bot) is ApprovalStatus.PENDING


# --- the gate form --------------------------------------------------------------------------


async def test_the_gate_form_is_refused_naming_the_freeze_then_passes_with_a_reason(
    bot: LocalBot,
) -> None:
    """rhea (a release and gate manager) is told of the freeze under the status; the admin
    (an approval manager too) passes the gate with a reason."""
    await prod_milestone(bot)
    until = await freeze(bot)
    view = await open_form(bot, "URHEA", f"gate {REL}")
    admins = await open_form(bot, "UADMIN", f"gate {REL}")
    gate = select(option_value_in(view, "gate", PRODUCT, GATE))
    before = await snapshot(bot)

    refused = await submit(bot, "URHEA", view, gate=gate, gate_status=select("PASSED"))

    said = refused["errors"]["gate_status"]
    kolkata = ZoneInfo("Asia/Kolkata")  # rhea's Slack zone
    assert f"The freeze 'Holiday freeze' is on until {when(until, kolkata)}" in said
    assert "An approval manager can go ahead now by giving a break-glass reason below" in said
    assert await snapshot(bot) == before

    passed = await submit(
        bot,
        "UADMIN",
        admins,
        gate=gate,
        gate_status=select("PASSED"),
        break_glass=text(REASON),
    )

    assert passed is None
    release = await bot.runtime.repos.releases.get(REL)
    assert release.product(PRODUCT).gate(GATE).gate_status is GateStatus.PASSED
    [record] = release.break_glass
    assert (record.by, record.freeze_name, record.reason) == ("admin", "Holiday freeze", REASON)
    assert record.what.startswith(GATE)


async def test_a_gate_break_glass_by_someone_who_is_no_approval_manager_is_refused(
    bot: LocalBot,
) -> None:
    await prod_milestone(bot)
    await freeze(bot)
    view = await open_form(bot, "URHEA", f"gate {REL}")
    before = await snapshot(bot)

    refused = await submit(
        bot,
        "URHEA",
        view,
        gate=select(option_value_in(view, "gate", PRODUCT, GATE)),
        gate_status=select("PASSED"),
        break_glass=text(REASON),
    )

    assert "only an approval manager can break glass" in refused["errors"]["break_glass"]
    assert await snapshot(bot) == before


# --- the digest -----------------------------------------------------------------------------


async def digest_now(bot: LocalBot) -> str:
    told = len(bot.slack.of("response_url"))
    await bot.driver.command("URHEA", "digest now", channel_id="CREL")
    return shown((await bot.slack.wait_for("response_url", told + 1))[told])


async def test_the_digest_shows_the_overrides_of_the_last_day(db: Database) -> None:
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    async with local_bot(db=db, clock=clock) as bot:
        await prod_milestone(bot)
        await freeze(bot)
        await bot.runtime.deps.services.approvals.decide(
            await actor(bot, "arjun"), REL, PRODUCT, GATE, KEY, Decision.APPROVE,
            break_glass=REASON,
        )  # fmt: skip
        line = (
            f"🔨 *arjun* broke glass during *Holiday freeze*: approved {KEY} ({PRODUCT} / {GATE})"
        )

        clock.advance(hours=23)
        today = await digest_now(bot)
        clock.advance(hours=2)
        tomorrow = await digest_now(bot)

        assert f"*{REL}* ·" in today and f"{line} — “{REASON}” · " in today
        assert f"*{REL}* ·" in tomorrow and "broke glass" not in tomorrow


async def test_the_scheduled_digest_shows_them_too(db: Database) -> None:
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    clock = FrozenClock(start)
    async with local_bot(db=db, clock=clock) as bot:
        await prod_milestone(bot)
        await freeze(bot)
        await bot.runtime.deps.services.approvals.decide(
            await actor(bot, "arjun"), REL, PRODUCT, GATE, KEY, Decision.APPROVE,
            break_glass=REASON,
        )  # fmt: skip
        due = start + timedelta(hours=1)
        told = len(bot.slack.of("response_url"))
        await bot.driver.command("URHEA", f"digest subscribe {due:%H:%M} UTC", channel_id="CREL")
        await bot.slack.wait_for("response_url", told + 1)

        clock.now = due
        await bot.runtime.deliveries.run_once()

        [posted] = [c for c in bot.slack.of("chat.postMessage") if c.params["channel"] == "CREL"]
        assert f"🔨 *arjun* broke glass during *Holiday freeze*: approved {KEY}" in shown(posted)
