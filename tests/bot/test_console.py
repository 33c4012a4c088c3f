"""The console (`python -m bot console`) driven by scripted input: the real bot over signed
HTTP, its answers rendered from the fake Slack's recorded Web API calls."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from typing import Any

import aiohttp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands.router import CommandRequest
from bot.console import Console, run_console
from bot.console.forms import AnswerError, input_fields, parse_answer
from bot.console.render import plain
from bot.devtools.harness import LocalBot
from bot.settings import Settings
from core.models.release import ApprovalStatus
from core.services.approvals import pending_in


async def console(*lines: str) -> str:
    """Run the whole console (its own bot, demo data) on a script; return what it printed."""
    out = io.StringIO()
    code = await run_console(
        Settings(_env_file=None), stdin=io.StringIO("\n".join(lines) + "\n"), stdout=out
    )
    assert code == 0
    return out.getvalue()


async def drive(bot: LocalBot, *lines: str) -> str:
    """The console on a bot the test can inspect and extend."""
    out = io.StringIO()
    session = Console(bot, stdin=io.StringIO("\n".join(lines) + "\n"), stdout=out)
    assert await session.run() == 0
    return out.getvalue()


def after(output: str, prompt_line: str) -> str:
    """What was printed after the given prompt line (e.g. ``"dana> 2"``)."""
    return output.split(prompt_line + "\n", 1)[1]


async def test_status_shows_readiness_in_the_channel_with_numbered_buttons() -> None:
    output = await console("status REL-2026.12", "quit")

    assert "You are dana. Try: status REL-2026.12 · list · approvals · as arjun" in output
    shown = after(output, "dana> status REL-2026.12")
    assert "── in #releases (everyone sees it) ──" in shown
    assert "== REL-2026.12 · December payments & checkout release ==" in shown
    assert "*Not ready* — 1 of 4 gates passed" in shown
    assert "*Pending approvals*" in shown
    assert "[1] Refresh   [2] History" in shown
    assert shown.rstrip().endswith("bye")


async def test_clicking_buttons_by_number_sends_them_to_the_bot() -> None:
    output = await console("status REL-2026.12", "2", "click 1", "click 1", "7", "quit")

    history = after(output, "dana> 2")
    assert "(clicking “History” as dana)" in history
    assert "History of REL-2026.12" in history.split("dana> click 1")[0]
    refreshed = after(output, "dana> click 1")
    assert "── updated message · in #releases (everyone sees it) ──" in refreshed
    assert "*Not ready* — 1 of 4 gates passed" in refreshed
    # the refreshed message has new buttons; the old ones are gone with the old message
    assert "Button [1] is gone: its message was updated." in output
    assert "There is no button [7]." in output


async def test_switching_persona_changes_who_the_bot_sees(bot: LocalBot) -> None:
    output = await drive(bot, "as arjun", "whoami", "as nobody", "whoami", "as zed", "quit")

    assert "You are arjun now (Approval Manager)." in output
    assert "*Arjun Mehta* (`arjun`, arjun@example.com)" in after(output, "arjun> whoami")
    assert "not linked to a releasebot user yet" in after(output, "nobody> whoami")
    assert "Who? Choose one of: admin, rhea, arjun, dana, nobody" in output
    # both people were resolved by the real identity middleware (users.info by email)
    assert {c.params["user"] for c in bot.slack.of("users.info")} >= {"UARJUN", "UNOBODY"}


async def test_goes_through_signed_http_to_the_real_app(bot: LocalBot) -> None:
    output = await drive(bot, "whoami", "quit")

    assert "*Dana" in output
    # the Bolt app itself authenticated against the fake and looked dana up
    assert bot.slack.of("auth.test")
    assert [c.params["user"] for c in bot.slack.of("users.info")] == ["UDANA"]
    [reply] = bot.slack.of("response_url")
    assert reply.params["response_type"] == "ephemeral"

    bot.driver.secret = "not-the-signing-secret"
    refused = await drive(bot, "whoami", "quit")
    assert "(the bot refused the request's signature)" in refused
    assert len(bot.slack.of("response_url")) == 1


async def test_arjun_approves_from_his_list_and_the_release_records_it(bot: LocalBot) -> None:
    output = await drive(bot, "as arjun", "approvals", "as dana", "1", "as arjun", "1", "quit")

    listed = after(output, "arjun> approvals")
    assert "── only arjun sees this (ephemeral) ──" in listed
    assert "[1] Approve   [2] Reject" in listed
    # dana cannot click in arjun's ephemeral message
    assert "Button [1] is in only arjun sees this (ephemeral); type `as arjun` first." in output
    approved = after(output, "arjun> 1")
    assert "You approved *UAT sign-off*" in approved
    release = await bot.runtime.repos.releases.get("REL-2026.12")
    statuses = {
        m.milestone_key: m.approval.status for _, g in release.gates() for m in g.milestones
    }
    assert statuses["uat-signoff"] is ApprovalStatus.APPROVED
    assert [r.milestone.milestone_key for r in pending_in(release)] == ["stage-signoff"]


async def test_approval_dms_are_clicked_by_their_owner_and_updated(bot: LocalBot) -> None:
    release = await bot.runtime.repos.releases.get("REL-2026.12")
    stage = [r for r in pending_in(release) if r.milestone.milestone_key == "stage-signoff"]
    sent = await bot.runtime.deps.notifier.request_decisions(bot.runtime.client, release, stage)
    assert sent == 2  # admin and arjun may decide; the console shows what was posted

    output = await drive(bot, "whoami", "as dana", "1", "as arjun", "buttons", "3", "quit")

    assert "── DM to admin ──" in output and "── DM to arjun ──" in output
    assert "Your approval is requested" in output
    assert "Button [1] is in DM to admin; type `as admin` first." in output
    assert "[3] Approve — DM to arjun" in after(output, "arjun> buttons")
    decided = after(output, "arjun> 3")
    assert "── updated message · DM to admin ──" in decided
    assert "── updated message · DM to arjun ──" in decided
    assert "*Approved* by arjun" in decided
    dms, home = decided.split("arjun> quit")[0].split("── App Home of admin ──")
    assert not re.search(r"\[\d+\]", dms)  # no buttons left in any DM
    # admin's Home, drawn again, lists what still waits, no longer what arjun decided
    assert "UAT sign-off" in home and "Stage sign-off" not in home
    release = await bot.runtime.repos.releases.get("REL-2026.12")
    assert [r.milestone.milestone_key for r in pending_in(release)] == ["uat-signoff"]


async def test_reject_modal_is_filled_field_by_field(bot: LocalBot) -> None:
    output = await drive(
        bot, "as arjun", "approvals", "2", "", "Load test not run on stage", "quit"
    )

    modal = after(output, "arjun> 2")
    assert "── modal opened for arjun ──" in modal
    assert "[ Reject approval ]" in modal
    assert "☐ Reason* (plain text input)" in modal
    assert "  ✗ this field is required" in modal
    assert "(submitted “Reject approval”)" in modal
    assert "You rejected *UAT sign-off*" in modal
    release = await bot.runtime.repos.releases.get("REL-2026.12")
    [rejected] = [
        m
        for _, g in release.gates()
        for m in g.milestones
        if m.approval.status is ApprovalStatus.REJECTED
    ]
    assert rejected.approval.comment == "Load test not run on stage"


async def test_modal_errors_from_the_bot_are_asked_again(bot: LocalBot) -> None:
    output = await drive(
        bot,
        "as admin",
        "admin role new",
        "Admin",  # the name is taken: the bot answers response_action errors
        "",
        "1,10",
        "QA Lead",
        "admin roles",
        "quit",
    )

    assert "The bot did not accept that; the fields marked ✗ are asked again." in output
    assert "✗ Name: A role with role_name 'Admin' already exists" in output
    assert "(submitted “New role”)" in output
    assert "*QA Lead*" in after(output, "admin> admin roles")
    role = await bot.runtime.repos.roles.get("QA Lead")
    assert role.is_approval_manager and role.can_view_all and not role.can_create_release


async def test_cancel_abandons_the_modal(bot: LocalBot) -> None:
    output = await drive(bot, "as admin", "admin role new", "cancel", "admin roles", "quit")

    assert "(cancelled “New role”)" in output
    assert "Roles (4)" in after(output, "admin> admin roles")


async def test_rhea_creates_a_release_field_by_field_and_status_shows_it(bot: LocalBot) -> None:
    day = (date.today() + timedelta(days=90)).isoformat()
    output = await drive(
        bot,
        "as rhea",
        "/release new",
        "REL-2099.01",  # release id
        "Console release",  # name
        "2099-02-30",  # not a date: asked again
        day,
        "2",  # type: the second option
        "payments",  # squads: by name as well as by number
        "",  # applications (optional)
        "",  # description (optional)
        "status REL-2099.01",
        "quit",
    )

    assert "── modal opened for rhea ──" in output
    assert "── modal updated for rhea ──" in output  # the catalog loads after the open
    assert "✗ a date as YYYY-MM-DD" in output
    assert "(submitted “New release”)" in output
    status = after(output, "rhea> status REL-2099.01")
    assert "== REL-2099.01 · Console release ==" in status
    assert "squads: payments" in status
    release = await bot.runtime.repos.releases.get("REL-2099.01")
    assert release.release_date.isoformat() == day
    assert release.squad_ids == ["payments"]


async def test_dana_may_not_create_a_release(bot: LocalBot) -> None:
    output = await drive(bot, "new", "quit")

    refused = after(output, "dana> new")
    assert "── only dana sees this (ephemeral) ──" in refused
    assert "can_create_release" in refused
    assert "modal" not in refused and "Fill in" not in refused  # refused before any form
    assert not bot.slack.of("views.open")


async def test_app_home_is_rendered_from_views_publish(bot: LocalBot) -> None:
    output = await drive(bot, "as arjun", "home", "quit")

    home = after(output, "arjun> home")
    assert "── App Home of arjun ──" in home
    assert "REL-2026.12" in home
    assert bot.slack.of("views.publish")[0].params["user_id"] == "UARJUN"


async def test_help_lists_console_commands_and_the_bots_usage() -> None:
    output = await console("help")  # and the script ends without quit: end of input

    people = output.split("dana> help")[0]
    assert "People: admin (Admin) · rhea (Release Manager) · arjun (Approval Manager)" in people
    assert "        · dana (Squad Member, payments) · nobody (no portal user)" in people
    shown = after(output, "dana> help")
    assert "Console: `as <admin|rhea|arjun|dana|nobody>` switch person" in shown
    assert "`@name` is a Slack mention, e.g. `admin grant @arjun Release Manager`" in shown
    assert "`quit`, Ctrl-D or Ctrl-C leave." in shown
    assert "`/release status <release>`" in shown
    assert shown.rstrip().endswith("bye")


# --- a modal of the test's own: dispatch_action, views.update, errors, every field type ----

PROBE_VIEW: dict[str, Any] = {
    "type": "modal",
    "callback_id": "console_probe",
    "private_metadata": "probe-meta",
    "title": {"type": "plain_text", "text": "Probe"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {
            "type": "input",
            "block_id": "kind",
            "dispatch_action": True,
            "label": {"type": "plain_text", "text": "Kind"},
            "element": {
                "type": "static_select",
                "action_id": "kind_pick",
                "options": [
                    {"text": {"type": "plain_text", "text": "Release"}, "value": "release"},
                    {"text": {"type": "plain_text", "text": "Hotfix"}, "value": "hotfix"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "when",
            "label": {"type": "plain_text", "text": "Day"},
            "element": {"type": "datepicker", "action_id": "day"},
        },
        {
            "type": "input",
            "block_id": "at",
            "optional": True,
            "label": {"type": "plain_text", "text": "Time"},
            "element": {"type": "timepicker", "action_id": "time", "initial_time": "09:00"},
        },
        {
            "type": "input",
            "block_id": "who",
            "optional": True,
            "label": {"type": "plain_text", "text": "Approvers"},
            "element": {"type": "multi_users_select", "action_id": "people"},
        },
    ],
}
TICKET_BLOCK = {
    "type": "input",
    "block_id": "ticket",
    "label": {"type": "plain_text", "text": "Incident ticket"},
    "element": {"type": "plain_text_input", "action_id": "ticket_id"},
}


async def test_generic_modal_follows_dispatch_updates_and_errors(bot: LocalBot) -> None:
    submitted: list[dict[str, Any]] = []
    app = bot.runtime.app

    @bot.runtime.deps.router.add("probe", "", "a test modal")
    async def probe(request: CommandRequest) -> None:
        await request.client.views_open(trigger_id=request.trigger_id, view=PROBE_VIEW)

    @app.action("kind_pick")
    async def picked(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        if body["actions"][0]["selected_option"]["value"] == "hotfix":
            view = {**PROBE_VIEW, "blocks": [*PROBE_VIEW["blocks"], TICKET_BLOCK]}
            await client.views_update(view_id=body["view"]["id"], view=view)

    @app.view("console_probe")
    async def sent(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        values = body["view"]["state"]["values"]
        submitted.append(values)
        if values["when"]["day"]["selected_date"] < "2030-01-01":
            await ack(response_action="errors", errors={"when": "Pick a day in 2030 or later"})
            return
        await ack()
        ticket = values["ticket"]["ticket_id"]["value"]
        text = f"probe from {body['view']['private_metadata']}: {ticket}"
        await client.chat_postMessage(channel="C0RELEASE", text=text)

    output = await drive(
        bot, "probe", "2", "2029-13-01", "2029-12-24", "", "arjun, @rhea", "INC-7",
        "2031-01-02", "quit",
    )  # fmt: skip

    assert "── modal opened for dana ──" in output
    assert "1) Release" in output and "2) Hotfix" in output
    assert "(sent “Kind: Hotfix”)" in output
    assert "── modal updated for dana ──" in output
    assert "✗ a date as YYYY-MM-DD" in output
    assert "Time (HH:MM) [09:00]: " in output
    assert "  ✗ Day: Pick a day in 2030 or later" in output
    assert "── in #releases ──" in output and "probe from probe-meta: INC-7" in output
    first, second = submitted
    assert first == {
        "kind": {
            "kind_pick": {
                "type": "static_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": "Hotfix"},
                    "value": "hotfix",
                },
            }
        },
        "when": {"day": {"type": "datepicker", "selected_date": "2029-12-24"}},
        "at": {"time": {"type": "timepicker", "selected_time": "09:00"}},
        "who": {"people": {"type": "multi_users_select", "selected_users": ["UARJUN", "URHEA"]}},
        "ticket": {"ticket_id": {"type": "plain_text_input", "value": "INC-7"}},
    }
    assert second["when"] == {"day": {"type": "datepicker", "selected_date": "2031-01-02"}}
    assert second["ticket"] == first["ticket"]


# --- pure parts ---------------------------------------------------------------------------


def test_mrkdwn_is_shown_as_readable_text() -> None:
    names = {"UARJUN": "arjun"}
    assert plain("*Hi* <@UARJUN> see <https://x.example|the board>", names) == (
        "*Hi* @arjun see the board (https://x.example)"
    )
    # escaped user text is shown as typed and pings nobody
    assert plain("&lt;!channel&gt; &amp; <#C1|releases> <!here>") == (
        "<!channel> & #releases @here"
    )


def test_answers_become_slack_state_values() -> None:
    view = {
        "blocks": [
            {
                "type": "input",
                "block_id": "flags",
                "optional": True,
                "label": {"type": "plain_text", "text": "Flags"},
                "element": {
                    "type": "checkboxes",
                    "action_id": "f",
                    "options": [
                        {"text": {"type": "mrkdwn", "text": "*A*"}, "value": "a"},
                        {"text": {"type": "mrkdwn", "text": "*B*"}, "value": "b"},
                    ],
                },
            },
            {
                "type": "input",
                "block_id": "n",
                "label": {"type": "plain_text", "text": "Count"},
                "element": {"type": "number_input", "action_id": "c", "max_value": "5"},
            },
        ]
    }
    flags, count = input_fields(view)

    assert parse_answer(flags, "2, 1")["selected_options"] == [
        {"text": {"type": "mrkdwn", "text": "*B*"}, "value": "b"},
        {"text": {"type": "mrkdwn", "text": "*A*"}, "value": "a"},
    ]
    assert parse_answer(flags, "") == {"type": "checkboxes", "selected_options": []}
    assert parse_answer(count, "3") == {"type": "number_input", "value": "3"}
    for field, typed in ((flags, "3"), (count, "9"), (count, "x"), (count, "")):
        try:
            parse_answer(field, typed)
        except AnswerError:
            continue
        raise AssertionError(f"{typed!r} was accepted for {field.label}")


async def test_the_console_shows_the_digest(bot: LocalBot) -> None:
    output = await drive(bot, "as rhea", "digest now", "quit")

    shown = after(output, "rhea> digest now")
    assert "── in #releases (everyone sees it) ──" in shown
    assert "Release readiness" in shown
    assert "REL-2026.11-HF1" in shown and "Blocked" in shown and "FAILED" in shown


async def test_the_guide_says_where_the_api_is_and_a_demo_user_signs_in_there(
    bot: LocalBot,
) -> None:
    output = await drive(bot, "quit")

    [line] = [line for line in output.splitlines() if line.startswith("Portal API: ")]
    api = re.search(r"Portal API: (\S+) \(docs: (\S+)\)", line)
    assert api is not None and "releasebot-demo" in line
    async with aiohttp.ClientSession() as session:
        signed_in = await session.post(
            f"{api[1]}/auth/login", json={"username": "dana", "password": "releasebot-demo"}
        )
        assert signed_in.status == 200
        docs = await session.get(api[2])
        assert docs.status == 200 and "swagger" in (await docs.text()).lower()
