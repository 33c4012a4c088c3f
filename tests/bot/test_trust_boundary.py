"""The trust boundary through the real HTTP path: authenticate before parsing, one
workspace, permissions fresh on every replica, and a database outage answered in time."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from urllib.parse import urlencode

import aiohttp
import pytest
from pymongo.errors import ServerSelectionTimeoutError

from blocks.ids import ActionId
from bot.devtools.fake_slack import TEAM_ID, SlackPerson
from bot.devtools.harness import SIGNING_SECRET, LocalBot, local_bot
from bot.devtools.payloads import CHANNEL_ID
from bot.devtools.signing import signed_headers
from bot.unavailable import UNAVAILABLE_TEXT
from core.models.rbac import SlackIdentity, UserStatus
from storage.engine import Database
from storage.instrumented import RoundTrips
from tests.bot.test_admin import answer, shown, user
from tests.bot.test_approvals import target

# --- authenticate before parsing ----------------------------------------------------------


async def post_raw(bot: LocalBot, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{bot.url}/slack/events", data=body, headers=headers) as response,
    ):
        return response.status, await response.text()


def signed(body: str, content_type: str = "application/x-www-form-urlencoded") -> dict[str, str]:
    return signed_headers(SIGNING_SECRET, body, content_type=content_type)


async def test_a_signed_malformed_payload_is_400_and_runs_nothing(bot: LocalBot) -> None:
    before = list(bot.slack.calls)
    cases = [
        ("payload=not-json", "application/x-www-form-urlencoded"),
        ("payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),  # a JSON array
        ('{"type": "event_callback", ', "application/json"),
        ("[1, 2, 3]", "application/json"),
        ("[" * 100_000 + "]" * 100_000, "application/json"),  # nesting no parser survives
        ('{"n": ' + "9" * 5000 + "}", "application/json"),  # an integer too long to read
    ]
    for body, content_type in cases:
        status, text = await post_raw(bot, body.encode(), signed(body, content_type))
        assert (status, text) == (400, "malformed request body"), body[:40]
    assert bot.slack.calls == before


async def test_unsigned_requests_are_refused_and_not_logged(
    bot: LocalBot, caplog: pytest.LogCaptureFixture
) -> None:
    """A 900 KB unsigned body with forged log lines in it: 401, and the log keeps only a
    bounded, escaped summary."""
    body = ("text=x\n2026-12-01 INFO bot granted Admin to mallory\r\n" * 18_000).encode()
    caplog.set_level(logging.INFO)

    status, _ = await post_raw(bot, body, {"Content-Type": "application/x-www-form-urlencoded"})

    [record] = [r for r in caplog.records if r.name == "bot.server"]
    message = record.getMessage()
    assert status == 401 and len(body) > 900_000
    assert len(message) < 400 and "\n" not in message and "\r" not in message
    assert f"{len(body)} bytes" in message and message.count("granted Admin") <= 1


@pytest.mark.parametrize(
    "timestamp",
    ["abc", "１２３", "1e9", "-1", " 1", "1_700_000_000", "9" * 40, "", "NaN", "0x10"],
)
async def test_odd_timestamps_are_401_not_500(bot: LocalBot, timestamp: str) -> None:
    body = "command=%2Frelease&text=help"
    headers = {**signed(body), "X-Slack-Request-Timestamp": timestamp}

    status, _ = await post_raw(bot, body.encode(), headers)

    assert status == 401


@pytest.mark.parametrize("signature", ["", "v0=", "v1=" + "a" * 64, "v0=" + "é" * 64, "v0=zz"])
async def test_odd_signatures_are_401_not_500(bot: LocalBot, signature: str) -> None:
    body = "command=%2Frelease&text=help"
    headers = {**signed(body), "X-Slack-Signature": signature}

    status, _ = await post_raw(bot, body.encode("utf-8"), headers)

    assert status == 401


async def test_a_body_that_is_not_utf8_is_refused(bot: LocalBot) -> None:
    body = b"command=%2Frelease&text=\xff\xfe"
    headers = signed("command=%2Frelease&text=")  # a signature over something else

    status, text = await post_raw(bot, body, headers)

    assert status == 401 and "UTF-8" in text


@pytest.mark.parametrize(
    "field",
    ["text", "channel_name", "team_domain"],
)
async def test_the_word_payload_in_a_command_is_answered_normally(
    bot: LocalBot, field: str
) -> None:
    """slack-bolt's body parser mistakes such a form for an interactivity payload (404)."""
    fields = {
        "team_id": TEAM_ID,
        "team_domain": "demo",
        "channel_id": "C0RELEASES",
        "channel_name": "releases",
        "user_id": "UDANA",
        "command": "/release",
        "text": "list payload",
        "response_url": bot.slack.response_url(f"payload-{field}"),
        "trigger_id": "trigger.payload",
    }
    fields[field] = f"{fields[field]} payload"
    body = urlencode(fields)

    status, _ = await post_raw(bot, body.encode(), signed(body))

    [answered] = await bot.slack.wait_for("response_url")
    assert status == 200
    assert "No releases match" in shown(answered) or "REL-" in shown(answered)


# --- one workspace ------------------------------------------------------------------------


async def test_a_command_from_another_team_is_refused_before_identity(bot: LocalBot) -> None:
    """Signed, with dana's id and email: still not linked to dana, nor acting as her."""
    bot.driver.team_id = "T0OTHER"

    reply = await bot.driver.command("UDANA", "admin grant <@UDANA> Admin")

    assert reply.status == 200 and "serves one Slack workspace" in reply.json()["text"]
    assert bot.slack.of("users.info") == [] and bot.slack.of("response_url") == []
    dana = await user(bot, "dana")
    assert dana.slack is None and len(dana.role_ids) == 1


async def test_an_event_from_another_team_does_nothing(bot: LocalBot) -> None:
    bot.driver.team_id = "T0OTHER"

    reply = await bot.driver.event({"type": "app_home_opened", "user": "UARJUN", "tab": "home"})

    assert reply.status == 200
    assert bot.slack.of("views.publish") == [] and bot.slack.of("users.info") == []


async def test_a_click_from_another_team_decides_nothing(bot: LocalBot) -> None:
    """A real Approve button of a pending sign-off, clicked with arjun's id from another
    team: nothing is decided and nobody is looked up or linked."""
    value = await target(bot, "uat-signoff")
    before = [await bot.runtime.db[name].find({}).to_list(None) for name in ("releases", "users")]
    bot.driver.team_id = "T0OTHER"

    reply = await bot.driver.click("UARJUN", ActionId.APPROVE.value, value)

    assert reply.status == 200
    after = [await bot.runtime.db[name].find({}).to_list(None) for name in ("releases", "users")]
    assert after == before and bot.slack.of("users.info") == []


async def test_a_slack_connect_guest_is_not_linked_by_email_until_an_admin_links_them(
    bot: LocalBot,
) -> None:
    # A guest from another organisation whose Slack profile carries arjun's email.
    bot.slack.add_person(
        SlackPerson("UGUEST", "mallory", "arjun@example.com", "UTC", team_id="T0GUEST")
    )

    refused = shown(await answer(bot, "UGUEST", "approvals"))
    who = shown(await answer(bot, "UGUEST", "whoami"))

    assert "guest from another Slack organisation" in refused
    assert "not linked" in who
    assert (await user(bot, "arjun")).slack is None

    linked = shown(await answer(bot, "UADMIN", "admin link <@UGUEST> dana"))
    after = shown(await answer(bot, "UGUEST", "whoami"))

    assert "dana" in linked and "You are dana" in after


# --- permissions are fresh on every replica -----------------------------------------------


async def test_a_revoked_role_is_refused_at_once_on_another_replica(db: Database) -> None:
    async with local_bot(db=db) as one, local_bot(db=db, seed_data="none") as two:
        await answer(two, "UDANA", "whoami")  # dana known to replica two
        await answer(one, "UADMIN", "admin grant <@UDANA> Admin")
        granted = shown(await answer(two, "UDANA", "admin users"))

        await answer(one, "UADMIN", "admin revoke <@UDANA> Admin")
        revoked = shown(await answer(two, "UDANA", "admin users"))

    assert "`arjun`" in granted
    assert "can_manage_roles" in revoked and "`arjun`" not in revoked


async def test_a_disabled_user_is_refused_at_once(bot: LocalBot) -> None:
    await answer(bot, "UDANA", "list")
    dana = await user(bot, "dana")
    await bot.runtime.repos.users.set_status(dana.id, UserStatus.DISABLED)  # any replica

    refused = shown(await answer(bot, "UDANA", "status REL-2026.12"))

    assert "REL-2026.12" not in str(bot.slack.of("response_url")[-1].params.get("blocks"))
    assert "disabled" in refused.lower() or "not active" in refused.lower()


async def test_an_unlinked_person_is_refused_at_once(bot: LocalBot) -> None:
    await answer(bot, "UARJUN", "approvals")
    await answer(bot, "UADMIN", "admin unlink <@UARJUN>")

    refused = shown(await answer(bot, "UARJUN", "approvals"))

    assert "not linked" in refused
    assert (
        await bot.runtime.repos.users.find_by_slack(
            SlackIdentity(team_id=TEAM_ID, user_id="UARJUN")
        )
        is None
    )


async def test_status_reads_identity_and_release_in_few_round_trips(db: Database) -> None:
    """No identity cache: the user is read on every request, and that is all it costs."""
    trips = RoundTrips()
    async with local_bot(db=trips.wrap(db)) as bot:
        await answer(bot, "UDANA", "status REL-2026.12")  # first contact: link by email
        trips.reset()
        await answer(bot, "UDANA", "status REL-2026.12")

    assert trips.calls["users.find_one"] == 1 and trips.calls["roles.find"] == 0
    assert trips.total <= 3, dict(trips.calls)


# --- the database goes away, and comes back ---------------------------------------------


async def test_a_database_outage_is_answered_in_time_and_recovers(db: Database) -> None:
    trips = RoundTrips()
    async with local_bot(db=trips.wrap(db)) as bot, aiohttp.ClientSession() as session:
        await answer(bot, "UDANA", "whoami")
        trips.outage = ServerSelectionTimeoutError("127.0.0.1:27017: connection refused")

        async with session.get(f"{bot.url}/health") as response:
            down = response.status, await response.json()
        began = time.monotonic()
        reply = await bot.driver.command("UDANA", "status REL-2026.12")
        took = time.monotonic() - began
        view = {"type": "modal", "callback_id": "release_new", "private_metadata": "{}"}
        submitted = await bot.driver.submit("URHEA", view, {})
        clicked = await bot.driver.click("UARJUN", ActionId.APPROVE.value, "REL-2026.12|a|b|c")
        told = [c for c in await bot.slack.wait_for("response_url", 3) if c.params["key"] != "cmd1"]

        trips.outage = None
        async with session.get(f"{bot.url}/health") as response:
            up = response.status
        recovered = shown(await answer(bot, "UDANA", "status REL-2026.12"))

    assert down[0] == 503 and down[1]["database"] is False and down[1]["engine"] == "embedded"
    # The command and the click were acked before the database was asked; each person is
    # told by response_url. The form's answer is its ack, on top of the form.
    assert took < 3 and reply.status == 200 and reply.text == ""
    assert submitted.json()["response_action"] == "push"
    assert UNAVAILABLE_TEXT in json.dumps(submitted.json()["view"])
    assert clicked.status == 200
    assert [c.params["text"] for c in told] == [UNAVAILABLE_TEXT] * 2
    assert {c.params["response_type"] for c in told} == {"ephemeral"}
    assert up == 200 and "REL-2026.12" in recovered


async def test_an_outage_notice_whose_response_url_fails_is_shown_another_way(
    db: Database,
) -> None:
    trips = RoundTrips()
    async with local_bot(db=trips.wrap(db)) as bot:
        await answer(bot, "UDANA", "whoami")
        trips.outage = ServerSelectionTimeoutError("127.0.0.1:27017: connection refused")
        bot.slack.fail("response_url", status=404, retry_after=None, times=1)

        reply = await bot.driver.command("UDANA", "status REL-2026.12")
        [told] = await bot.slack.wait_for("chat.postEphemeral", 1)

    assert reply.status == 200 and len(bot.slack.of("response_url!404")) == 1
    assert told.params["user"] == "UDANA" and told.params["channel"] == CHANNEL_ID
    assert told.params["text"] == UNAVAILABLE_TEXT


async def test_a_database_that_hangs_is_answered_within_three_seconds(db: Database) -> None:
    trips = RoundTrips(latency=0)
    async with local_bot(db=trips.wrap(db)) as bot:
        await answer(bot, "UDANA", "whoami")
        trips.outage = None
        hang = asyncio.Event()

        async def stuck(name: str) -> None:
            await hang.wait()

        trips.hop = stuck  # type: ignore[method-assign]
        began = time.monotonic()
        reply = await bot.driver.command("UDANA", "status REL-2026.12")
        acked = time.monotonic() - began
        [told] = [
            c for c in await bot.slack.wait_for("response_url", 2) if c.params["key"] != "cmd1"
        ]
        took = time.monotonic() - began
        hang.set()

    # Acked at once; told within Slack's 3 s, though the database never answered.
    assert reply.status == 200 and acked < 0.5
    assert took < 3 and told.params["text"] == UNAVAILABLE_TEXT


async def test_health_names_the_engine_and_database(bot: LocalBot) -> None:
    async with aiohttp.ClientSession() as session, session.get(f"{bot.url}/health") as response:
        body = await response.json()

    assert body["engine"] == "embedded" and body["database_name"] == "releasebot"
