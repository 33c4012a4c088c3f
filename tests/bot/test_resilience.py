"""What goes wrong on the wire: Slack's retries, rate limits, forged or stale requests,
unexpected failures, malformed commands. Always through signed HTTP requests."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time

import pytest

from bot.devtools.harness import LocalBot, local_bot
from bot.devtools.signing import payload_body
from storage.engine import Database
from tests.bot.test_admin import answer, form, opened_form, shown, text

HOME = {"type": "app_home_opened", "user": "UDANA", "tab": "home"}
FORGED = {"X-Slack-Signature": "v0=" + "0" * 64}
REF = re.compile(r"ref `?([0-9a-f]{12})`?")


async def event_claims(bot: LocalBot) -> list[str]:
    docs = await bot.runtime.db["claims"].find({"key": {"$regex": "^event:"}}).to_list(None)
    return sorted(d["key"] for d in docs)


async def settle(bot: LocalBot, method: str, count: int) -> int:
    """Wait for ``count`` calls, give stragglers a moment, and return how many were made."""
    await bot.slack.wait_for(method, count)
    await asyncio.sleep(0.2)
    return len(bot.slack.of(method))


# --- Slack's retries and double delivery --------------------------------------------------


async def test_a_retried_event_is_handled_once(bot: LocalBot) -> None:
    first = await bot.driver.event(HOME, event_id="EvHOME1")
    retry = await bot.driver.event(HOME, event_id="EvHOME1", retry_num=1)
    again = await bot.driver.event(HOME, event_id="EvHOME1", retry_num=2)
    other = await bot.driver.event(HOME, event_id="EvHOME2")

    assert [r.status for r in (first, retry, again, other)] == [200, 200, 200, 200]
    assert await settle(bot, "views.publish", 2) == 2  # EvHOME1 once, EvHOME2 once
    assert await event_claims(bot) == ["event:EvHOME1", "event:EvHOME2"]


async def test_two_replicas_handle_one_event_once(db: Database) -> None:
    async with local_bot(db=db) as one, local_bot(db=db) as two:
        await one.driver.event(HOME, event_id="EvSHARED")
        await two.driver.event(HOME, event_id="EvSHARED", retry_num=1)

        await one.slack.wait_for("views.publish", 1)
        await asyncio.sleep(0.2)
        assert len(one.slack.of("views.publish")) + len(two.slack.of("views.publish")) == 1


async def test_copies_arriving_together_are_handled_once(bot: LocalBot) -> None:
    await asyncio.gather(
        *(bot.driver.event(HOME, event_id="EvBURST", retry_num=n or None) for n in range(3))
    )

    assert await settle(bot, "views.publish", 1) == 1


# --- Web API rate limits ------------------------------------------------------------------


async def test_rate_limited_users_info_is_retried_and_the_person_answered(bot: LocalBot) -> None:
    bot.slack.fail("users.info", status=429, retry_after=1)

    out = shown(await answer(bot, "UDANA", "whoami"))

    assert "You are dana" in out
    assert [c.method for c in bot.slack.calls if c.method.startswith("users.info")] == [
        "users.info!429",
        "users.info",
    ]


async def test_rate_limited_views_open_is_retried_and_the_form_opens(bot: LocalBot) -> None:
    bot.slack.fail("views.open", status=429, retry_after=1)

    view = await opened_form(bot, "UADMIN", "admin role new")

    assert view["title"]["text"] == "New role"
    assert [c.method for c in bot.slack.calls if c.method.startswith("views.open")] == [
        "views.open!429",
        "views.open",
    ]


# --- forged and stale requests ------------------------------------------------------------


async def test_a_forged_event_is_refused_and_nothing_runs(bot: LocalBot) -> None:
    body = json.dumps({"type": "event_callback", "event_id": "EvFORGED", "event": HOME})

    before = list(bot.slack.calls)  # auth.test at start-up
    reply = await bot.driver.post(body, content_type="application/json", headers=FORGED)

    assert reply.status == 401
    assert bot.slack.calls == before and await event_claims(bot) == []


async def test_a_stale_form_submission_is_refused_and_nothing_is_saved(bot: LocalBot) -> None:
    view = await opened_form(bot, "UADMIN", "admin role new")
    payload = {
        "type": "view_submission",
        "team": {"id": bot.driver.team_id},
        "user": {"id": "UADMIN", "team_id": bot.driver.team_id},
        "view": {**view, "id": "V1", "state": {"values": form(role_name=text("Stale"))}},
    }

    reply = await bot.driver.post(payload_body(payload), timestamp=int(time.time()) - 301)

    assert reply.status == 401
    assert "Stale" not in [r.role_name for r in await bot.runtime.repos.roles.all()]


async def test_a_forged_command_runs_nothing(bot: LocalBot) -> None:
    before = list(bot.slack.calls)  # auth.test at start-up
    reply = await bot.driver.post(
        "command=%2Frelease&text=admin+grant+%3C%40UDANA%3E+Admin&user_id=UADMIN", headers=FORGED
    )

    assert reply.status == 401
    assert bot.slack.calls == before
    assert (await bot.runtime.repos.users.get_by_username("dana")).slack is None


# --- unexpected failures and logs ---------------------------------------------------------


async def corrupt_a_role(bot: LocalBot) -> None:
    """A document the code cannot read: the kind of failure no rule anticipates."""
    await bot.runtime.db["roles"].insert_one({"role_name": "Broken", "created_at": "soon"})


async def test_an_unexpected_failure_shows_a_ref_that_is_in_the_log(
    bot: LocalBot, caplog: pytest.LogCaptureFixture
) -> None:
    await corrupt_a_role(bot)

    with caplog.at_level(logging.ERROR):
        out = shown(await answer(bot, "UADMIN", "admin roles"))

    assert "Something went wrong" in out
    match = REF.search(out)
    assert match is not None
    assert any(match.group(1) in r.getMessage() and r.exc_info for r in caplog.records)


async def test_an_unexpected_failure_in_a_form_keeps_it_open_with_a_ref(
    bot: LocalBot, caplog: pytest.LogCaptureFixture
) -> None:
    view = await opened_form(bot, "UADMIN", "admin user new", loaded=True)
    await corrupt_a_role(bot)
    values = form(
        username=text("nora"),
        full_name=text("Nora"),
        email={"type": "email_text_input", "value": "nora@example.com"},
    )

    with caplog.at_level(logging.ERROR):
        reply = await bot.driver.submit("UADMIN", view, values)

    error = reply.json()["errors"]["username"]
    assert "Something went wrong" in error
    match = REF.search(error)
    assert match is not None and match.group(1) in caplog.text
    assert "nora" not in [u.username for u in await bot.runtime.repos.users.all()]


async def test_logs_never_contain_the_bot_token(
    bot: LocalBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bot.slack.fail("views.open", status=429, retry_after=1)
    view = await opened_form(bot, "UADMIN", "admin role new")
    await bot.driver.submit("UADMIN", view, form(role_name=text("Logged")))
    await bot.driver.event(HOME, event_id="EvLOG")
    await bot.driver.event(HOME, event_id="EvLOG", retry_num=1)
    await corrupt_a_role(bot)
    await answer(bot, "UDANA", "admin roles")
    await bot.slack.wait_for("views.publish", 1)

    assert caplog.records  # the run did log, at DEBUG too
    assert "xoxb-" not in caplog.text
    assert all("xoxb-" not in str(r.args) for r in caplog.records)


# --- malformed commands -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ('admin grant <@UDANA|dana> "Release Manager', "A quote is not closed"),
        ("list " + "x" * 3000, "too long (3005 characters"),
    ],
)
async def test_a_malformed_command_gets_a_clear_ephemeral_error(
    bot: LocalBot, command: str, says: str
) -> None:
    call = await answer(bot, "UADMIN", command)

    assert call.params["response_type"] == "ephemeral"
    assert says in shown(call) and "VALIDATION_ERROR" not in shown(call)
    assert call.params["text"].startswith(":warning: ")
    assert (await bot.runtime.repos.users.get_by_username("dana")).role_ids  # unchanged


async def test_an_unknown_subcommand_gets_the_usage(bot: LocalBot) -> None:
    call = await answer(bot, "UDANA", "frobnicate now")

    out = shown(call)
    assert call.params["response_type"] == "ephemeral"
    assert "Unknown subcommand `frobnicate`" in out
    assert "/release status" in out and "/release admin" in out
