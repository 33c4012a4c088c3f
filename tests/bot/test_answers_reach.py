"""Whatever Slack refuses on the way, a person learns how their click, form or change ended:
a failed response_url is answered ephemerally in the channel or by DM, a modal left on
"Loading…" is explained, and whoever made a change hears who its approval requests missed —
each said once."""

from __future__ import annotations

import itertools
import re
from typing import Any

from blocks.approvals import NotReached, Unreached, unreached_deciders_message
from blocks.ids import ActionId, CallbackId, Origin
from blocks.reminders import SnoozeChoice, SnoozeRequest
from bot.devtools.fake_slack import Call
from bot.devtools.harness import LocalBot
from bot.devtools.payloads import CHANNEL_ID
from bot.modals import FormNotShown
from core.errors import NotFound
from core.models.notification import approval_key
from core.models.release import ApprovalStatus
from core.services.approvals import pending_in
from tests.bot.test_admin import form, opened_form, text as typed
from tests.bot.test_approvals import (
    SIGN_OFFS,
    approval,
    ask,
    dms,
    in_dm,
    reacted,
    reason,
    settle,
    stored,
    target,
)
from tests.bot.test_home import ON_HOME
from tests.bot.test_outbox_restart import requests
from tests.bot.test_reactions import add_prod_signoff
from tests.bot.test_reading import actor, answer, buttons

IN_CHANNEL = {"type": "message", "channel_id": CHANNEL_ID, "message_ts": "9.9"}
LIST = {**IN_CHANNEL, "is_ephemeral": True}


def url_fails(bot: LocalBot, times: int = 1) -> None:
    """Slack refuses the next ``times`` response_url posts, as it does an expired one."""
    bot.slack.fail("response_url", status=404, retry_after=None, times=times)


def posted(bot: LocalBot, method: str, channel: str) -> list[Call]:
    return [c for c in bot.slack.of(method) if c.params.get("channel") == channel]


def words(call: Call) -> str:
    return f"{call.params.get('text')} {call.params.get('blocks')}"


# --- clicks -----------------------------------------------------------------------------------


async def test_a_refresh_whose_response_url_fails_is_shown_ephemerally_in_the_channel(
    bot: LocalBot,
) -> None:
    status = await answer(bot, "URHEA", "status REL-2026.11")
    url_fails(bot)

    await bot.driver.click(
        "URHEA", ActionId.REFRESH_STATUS, buttons(status)[ActionId.REFRESH_STATUS]["value"]
    )

    [shown_instead] = await bot.slack.wait_for("chat.postEphemeral")
    assert (shown_instead.params["channel"], shown_instead.params["user"]) == (CHANNEL_ID, "URHEA")
    assert "REL-2026.11" in words(shown_instead)
    assert len(bot.slack.of("response_url!404")) == 1
    await settle()
    assert len(bot.slack.of("chat.postEphemeral")) == 1 and bot.slack.of("chat.postMessage") == []


async def test_a_history_click_in_a_channel_the_bot_left_is_answered_by_dm(bot: LocalBot) -> None:
    status = await answer(bot, "URHEA", "status REL-2026.11")
    url_fails(bot)
    bot.slack.refuse_channel(CHANNEL_ID, "not_in_channel")

    await bot.driver.click(
        "UARJUN", ActionId.SHOW_HISTORY, buttons(status)[ActionId.SHOW_HISTORY]["value"]
    )

    [dm] = await bot.slack.wait_for("chat.postMessage")
    assert dm.params["channel"] == "UARJUN"
    assert "*History of REL-2026.11*" in words(dm)
    await settle()
    assert len(bot.slack.of("chat.postMessage")) == 1


async def test_a_snooze_whose_response_url_fails_is_confirmed_in_the_dm(bot: LocalBot) -> None:
    arjun = await actor(bot, "arjun")
    [pending, *_] = await bot.runtime.deps.services.approvals.pending_for(arjun)
    ref = pending.ref
    key = approval_key(
        pending.release_oid, ref.product_id, ref.gate_name, ref.milestone.milestone_key
    )
    url_fails(bot)

    await bot.driver.click(
        "UARJUN", f"{ActionId.SNOOZE}_4h",
        SnoozeRequest(approval_key=key, choice=SnoozeChoice.FOUR_HOURS).encode(),
        container={"type": "message", "channel_id": "DUARJUN", "message_ts": "3.3"},
    )  # fmt: skip

    [told] = await bot.slack.wait_for("chat.postEphemeral")
    assert (told.params["channel"], told.params["user"]) == ("DUARJUN", "UARJUN")
    assert "Snoozed" in words(told)


async def test_an_approve_whose_dm_copy_is_not_redrawn_is_still_shown_by_the_reaction(
    bot: LocalBot,
) -> None:
    await ask(bot, SIGN_OFFS)
    copies = await dms(bot, SIGN_OFFS, "uat-signoff")
    asked = len(bot.slack.of("chat.postMessage"))
    url_fails(bot)

    await bot.driver.click(
        "UARJUN", ActionId.APPROVE, await target(bot, "uat-signoff"),
        block_id="approval", container=in_dm(copies["DUARJUN"]),
    )  # fmt: skip
    await reacted(bot)

    assert (await approval(bot, "uat-signoff")).status is ApprovalStatus.APPROVED
    mine = copies["DUARJUN"]
    [update] = [u for u in bot.slack.of("chat.update") if u.params["channel"] == mine.channel]
    assert update.params["ts"] == mine.ts
    assert "*Approved* by arjun (Approval Manager)" in words(update)
    # Shown once, in the DM itself: no second copy of the outcome.
    assert bot.slack.of("chat.postEphemeral") == []
    assert len(bot.slack.of("chat.postMessage")) == asked


async def test_an_approve_on_a_message_no_reaction_updates_is_answered_ephemerally(
    bot: LocalBot,
) -> None:
    """A DM whose record was lost (sent, not recorded): only the click can show the outcome."""
    url_fails(bot)
    unrecorded = {"type": "message", "channel_id": "DUARJUN", "message_ts": "5.5"}

    await bot.driver.click(
        "UARJUN", ActionId.APPROVE, await target(bot, "uat-signoff"), container=unrecorded
    )

    [told] = await bot.slack.wait_for("chat.postEphemeral")
    assert (told.params["channel"], told.params["user"]) == ("DUARJUN", "UARJUN")
    assert "*Approved* by arjun (Approval Manager)" in words(told)
    await reacted(bot)
    assert len(bot.slack.of("chat.postEphemeral")) == 1


async def test_an_approve_from_the_list_redraws_it_ephemerally_when_its_url_fails(
    bot: LocalBot,
) -> None:
    url_fails(bot)

    await bot.driver.click(
        "UARJUN", ActionId.APPROVE, await target(bot, "uat-signoff", origin=Origin.LIST),
        container=LIST,
    )  # fmt: skip

    [redrawn] = await bot.slack.wait_for("chat.postEphemeral")
    assert redrawn.params["channel"] == CHANNEL_ID
    assert "You approved *UAT sign-off*" in words(redrawn)
    assert "*1 approval* waiting for you" in words(redrawn)


async def test_a_refused_approve_whose_url_fails_is_still_told_and_changes_nothing(
    bot: LocalBot,
) -> None:
    before = await stored(bot)
    url_fails(bot)

    await bot.driver.click(
        "UDANA", ActionId.APPROVE, await target(bot, "uat-signoff"), container=IN_CHANNEL
    )

    [told] = await bot.slack.wait_for("chat.postEphemeral")
    assert told.params["user"] == "UDANA"
    assert "must be decided by an approval manager" in str(told.params["text"])
    assert await stored(bot) == before


async def test_a_reject_submitted_after_its_url_expired_redraws_the_list_ephemerally(
    bot: LocalBot,
) -> None:
    value = await target(bot, "uat-signoff", origin=Origin.LIST)
    await bot.driver.click("UARJUN", ActionId.REJECT, value, container=LIST)
    [opened] = await bot.slack.wait_for("views.open")
    url_fails(bot)  # e.g. the reason took more than 30 minutes to write

    reply = await bot.driver.submit("UARJUN", opened.params["view"], reason("Numbers are off"))

    assert reply.status == 200 and reply.text == ""
    [redrawn] = await bot.slack.wait_for("chat.postEphemeral")
    assert (redrawn.params["channel"], redrawn.params["user"]) == (CHANNEL_ID, "UARJUN")
    assert "You rejected *UAT sign-off*" in words(redrawn)
    assert (await approval(bot, "uat-signoff")).status is ApprovalStatus.REJECTED


async def test_a_decision_on_a_home_slack_will_not_redraw_is_told_by_dm(bot: LocalBot) -> None:
    def publish(params: dict[str, Any]) -> dict[str, Any]:
        if params.get("user_id") == "UARJUN":
            return {"ok": False, "error": "internal_error"}
        return {"view": {"id": "VHOME"}}

    bot.slack.methods["views.publish"] = publish

    await bot.driver.click(
        "UARJUN", ActionId.APPROVE, await target(bot, "uat-signoff", origin=Origin.HOME), **ON_HOME
    )

    [dm] = await bot.slack.wait_for("chat.postMessage")
    assert dm.params["channel"] == "UARJUN"
    assert "You approved *UAT sign-off*" in str(dm.params["text"])
    assert (await approval(bot, "uat-signoff")).status is ApprovalStatus.APPROVED
    await reacted(bot)
    assert len(posted(bot, "chat.postMessage", "UARJUN")) == 1


# --- forms ------------------------------------------------------------------------------------


async def test_a_saved_form_whose_url_expired_is_confirmed_in_its_channel(bot: LocalBot) -> None:
    view = await opened_form(bot, "UADMIN", "admin role new")
    url_fails(bot)

    reply = await bot.driver.submit("UADMIN", view, form(role_name=typed("Runbook Keeper")))

    assert reply.status == 200 and reply.text == ""
    [confirmed] = await bot.slack.wait_for("chat.postEphemeral")
    assert (confirmed.params["channel"], confirmed.params["user"]) == (CHANNEL_ID, "UADMIN")
    assert "Runbook Keeper" in words(confirmed)
    await settle()
    assert bot.slack.of("chat.postMessage") == []


# --- a modal left on "Loading…" -----------------------------------------------------------------


def views_update_refused(bot: LocalBot, error: str = "internal_error") -> None:
    """Every views.update answered with Slack's ``error`` (HTTP 200: no client retry);
    by default a failure of Slack's own, which another try may get past."""
    bot.slack.methods["views.update"] = lambda _params: {"ok": False, "error": error}


async def test_a_form_slack_will_not_fill_in_is_explained_instead_of_left_loading(
    bot: LocalBot,
) -> None:
    views_update_refused(bot)

    await bot.driver.command("URHEA", "new")

    [told] = await bot.slack.wait_for("response_url")
    assert told.params["response_type"] == "ephemeral"
    assert "“New release” form could not be shown" in told.params["text"]
    assert "Close it and try again." in told.params["text"]
    assert len(bot.slack.of("views.update")) == 2  # tried, and once more
    assert len(bot.slack.of("views.open")) == 1
    await settle()
    assert len(bot.slack.of("response_url")) == 1


async def test_a_form_slack_refuses_for_good_is_explained_without_trying_again(
    bot: LocalBot,
) -> None:
    views_update_refused(bot, "invalid_arguments")

    await bot.driver.command("URHEA", "new")

    [told] = await bot.slack.wait_for("response_url")
    assert "“New release” form could not be shown" in told.params["text"]
    assert len(bot.slack.of("views.update")) == 1  # a refusal: another try gets no further


async def test_a_form_the_person_closed_while_it_loaded_is_neither_retried_nor_explained(
    bot: LocalBot,
) -> None:
    views_update_refused(bot, "not_found")  # Slack's answer for a modal closed meanwhile

    await bot.driver.command("URHEA", "new")

    await bot.slack.wait_for("views.update")
    await reacted(bot)
    await settle()
    assert len(bot.slack.of("views.update")) == 1
    assert bot.slack.of("response_url") == []
    assert bot.slack.of("chat.postEphemeral") == bot.slack.of("chat.postMessage") == []


async def test_a_form_filled_in_on_the_second_try_needs_no_explanation(bot: LocalBot) -> None:
    # The first views.update fails after the client's own retries (three 500s).
    bot.slack.fail("views.update", status=500, retry_after=None, times=3)

    await bot.driver.command("URHEA", "new")

    [filled] = await bot.slack.wait_for("views.update", timeout=15)  # after the backoffs
    assert filled.params["view"]["callback_id"] == CallbackId.NEW_RELEASE
    assert len(bot.slack.of("views.update!500")) == 3
    await settle()
    assert bot.slack.of("response_url") == []


async def test_a_stuck_form_is_explained_by_dm_when_the_url_fails_too(bot: LocalBot) -> None:
    views_update_refused(bot)
    url_fails(bot)
    bot.slack.refuse_channel(CHANNEL_ID, "channel_not_found")

    await bot.driver.command("URHEA", "new")

    [dm] = await bot.slack.wait_for("chat.postMessage")
    assert dm.params["channel"] == "URHEA"
    assert "could not be shown" in str(dm.params["text"])


async def test_a_form_stuck_after_the_home_button_is_explained_by_dm(bot: LocalBot) -> None:
    views_update_refused(bot)

    await bot.driver.click(
        "URHEA", ActionId.OPEN_NEW_RELEASE, "", block_id="home_quick",
        container={"type": "view", "view_id": "VHOME"}, view={"id": "VHOME", "type": "home"},
    )  # fmt: skip

    [dm] = await bot.slack.wait_for("chat.postMessage")
    assert dm.params["channel"] == "URHEA"
    assert "“New release” form could not be shown" in str(dm.params["text"])
    assert len(bot.slack.of("views.update")) == 2


async def test_a_refusal_slack_will_not_put_in_the_reject_form_is_told_instead(
    bot: LocalBot,
) -> None:
    views_update_refused(bot)

    await bot.driver.click(
        "UDANA", ActionId.REJECT, await target(bot, "uat-signoff"), container=IN_CHANNEL
    )

    [told] = await bot.slack.wait_for("response_url")
    assert told.params["response_type"] == "ephemeral"
    assert "must be decided by an approval manager" in told.params["text"]
    assert "Close the Reject form." in told.params["text"]
    assert len(bot.slack.of("views.update")) == 2


async def test_a_reject_form_closed_before_the_refusal_reached_it_is_left_closed(
    bot: LocalBot,
) -> None:
    views_update_refused(bot, "not_found")

    await bot.driver.click(
        "UDANA", ActionId.REJECT, await target(bot, "uat-signoff"), container=IN_CHANNEL
    )

    await bot.slack.wait_for("views.update")
    await reacted(bot)
    await settle()
    assert len(bot.slack.of("views.update")) == 1
    assert bot.slack.of("response_url") == []
    assert bot.slack.of("chat.postEphemeral") == bot.slack.of("chat.postMessage") == []


def test_a_stuck_form_says_what_it_would_have_shown() -> None:
    unknown = NotFound("No release 'REL-NOPE'.")

    said = FormNotShown("Gate", unknown).message

    assert said.startswith("No release 'REL-NOPE'.")
    assert "“Gate” form could not be shown" in said and "Close it." in said


# --- whoever made a change hears who its approval requests missed -----------------------------


NOT_ASKED = "Not everyone who may decide"


def told_author(bot: LocalBot) -> list[Call]:
    """rhea (who added the milestone) told who was not asked."""
    return [c for c in posted(bot, "chat.postMessage", "URHEA") if NOT_ASKED in words(c)]


async def rhea_in_slack(bot: LocalBot) -> None:
    """rhea linked (on first contact), so that she can be told."""
    await bot.driver.command("URHEA", "whoami")
    await bot.slack.wait_for("response_url")


def dms_fail_for(bot: LocalBot, slack_id: str, *, times: int, error: str = "fatal_error") -> None:
    """chat.postMessage to ``slack_id`` answers ``error`` (not a permanent refusal) ``times``
    times; every other post is taken as Slack takes it."""
    left = itertools.count(times, -1)
    seq = itertools.count(1)

    def post(params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel"))
        if channel == slack_id and next(left) > 0:
            return {"ok": False, "error": error}
        ts = f"{1800000000 + next(seq)}.000100"
        return {"channel": f"D{channel}" if channel.startswith("U") else channel, "ts": ts}

    bot.slack.methods["chat.postMessage"] = post


async def test_everyone_asked_means_nothing_to_tell(bot: LocalBot) -> None:
    await rhea_in_slack(bot)
    await add_prod_signoff(bot)
    await reacted(bot)

    assert sorted(requests(bot)) == ["UADMIN", "UARJUN"]
    assert told_author(bot) == []


async def test_a_decider_slack_failed_for_now_is_named_once_and_asked_later(
    bot: LocalBot,
) -> None:
    await rhea_in_slack(bot)
    dms_fail_for(bot, "UARJUN", times=2)

    await add_prod_signoff(bot)
    await reacted(bot)
    [told] = told_author(bot)
    await bot.runtime.deliveries.run_once()  # the reaction, retried: Slack fails arjun again
    await bot.runtime.deliveries.run_once()  # and again: arjun is asked now

    assert "*arjun*: Slack did not take the DM yet. I keep trying" in words(told)
    assert "*admin*" not in words(told)  # asked: not named
    assert "*Prod sign-off* of *REL-2026.12*" in words(told)
    assert requests(bot).count("UARJUN") == 3  # failed twice, then asked
    assert len(told_author(bot)) == 1  # the retries do not tell again
    assert (await bot.runtime.repos.releases.get("REL-2026.12")).outbox == []


async def test_a_decider_slack_refuses_for_good_is_named_with_where_they_can_still_decide(
    bot: LocalBot,
) -> None:
    await rhea_in_slack(bot)
    bot.slack.refuse_channel("UARJUN", "cannot_dm_bot")

    await add_prod_signoff(bot)
    await reacted(bot)
    await bot.runtime.deliveries.run_once()

    [told] = told_author(bot)
    assert "*arjun*: Slack refused the DM" in words(told)
    assert "App Home or `/release approvals`" in words(told)


async def test_a_decider_not_in_slack_is_named_with_how_to_link_them(bot: LocalBot) -> None:
    await rhea_in_slack(bot)
    del bot.slack.people["UARJUN"]  # no Slack account has arjun's email

    await add_prod_signoff(bot)
    await reacted(bot)
    await bot.runtime.deliveries.run_once()

    [told] = told_author(bot)
    assert "*arjun*: no Slack account is linked to them" in words(told)
    assert "`/release admin link @them arjun`" in words(told)
    assert requests(bot) == ["UADMIN"]


async def test_a_long_list_of_people_not_asked_stays_within_slack_limits(bot: LocalBot) -> None:
    release = await bot.runtime.repos.releases.get(SIGN_OFFS)
    refs = pending_in(release)
    many = [Unreached(f"person-{n:03}", NotReached.NOT_LINKED) for n in range(300)]

    rendered = unreached_deciders_message(release, refs, many).to_dict()  # validated

    shown_list = rendered["blocks"][1]["text"]["text"]
    assert shown_list.startswith("• *person-000*")
    assert re.search(r"… and \d+ deciders_$", shown_list)
