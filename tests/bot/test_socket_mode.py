"""Socket Mode over a real WebSocket: apps.connections.open → hello → envelopes → acks.

The bot runs as `python -m bot` runs it (bot/socket_mode.py `run_socket_mode`, slack_bolt's
aiohttp AsyncSocketModeHandler) against a fake Slack that speaks the Socket Mode protocol
(bot/devtools/socket_mode_fake.py). No signing secret: there is no HTTP endpoint to sign for.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import warnings
from collections.abc import AsyncIterator

import aiohttp
import pytest

from blocks.ids import ActionId
from bot.devtools.fake_slack import Call, FakeSlack
from bot.devtools.harness import BOT_TOKEN, DEMO_PEOPLE
from bot.devtools.socket_mode_fake import (
    ACK_SECONDS,
    SocketModeBot,
    SocketModeFake,
    local_socket_bot,
)
from bot.runtime import build_runtime
from bot.settings import Settings
from bot.socket_mode import run_socket_mode
from storage.engine import Database
from tests.bot.modal_support import date, multi, select, text
from tests.support import free_port

PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack_sdk sends the WebSocket through a proxy from the environment, even to 127.0.0.1."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def bot(db: Database) -> AsyncIterator[SocketModeBot]:
    async with local_socket_bot(db=db) as running:
        yield running


def shown(call: Call) -> str:
    return f"{call.params.get('text', '')}\n{call.params.get('blocks', '')}"


async def test_it_connects_with_the_app_token_through_slack_api_url(bot: SocketModeBot) -> None:
    [opened] = bot.slack.of("apps.connections.open")  # answered only for an xapp- token
    assert opened.params == {}  # the token travels in the Authorization header, not the body
    assert bot.link.connections == 1
    assert bot.runtime.settings.slack_api_url == bot.slack.api_url


async def test_a_slash_command_is_acked_on_the_socket_then_answered_in_the_channel(
    bot: SocketModeBot,
) -> None:
    ack = await bot.link.command("UDANA", "status REL-2026.12")

    assert ack.payload is None and ack.seconds < ACK_SECONDS
    assert bot.link.acks == [{"envelope_id": ack.envelope_id}]
    [answer] = await bot.slack.wait_for("response_url")
    assert answer.params["key"].startswith("socket-cmd")
    assert answer.params["response_type"] == "in_channel"
    assert "REL-2026.12" in shown(answer)


async def test_socket_mode_needs_no_signing_secret(bot: SocketModeBot) -> None:
    settings = bot.runtime.settings
    assert settings.slack_signing_secret is None and settings.socket_mode

    await bot.link.command("UDANA", "whoami")

    [answer] = await bot.slack.wait_for("response_url")
    assert answer.params["response_type"] == "ephemeral"
    assert "dana" in shown(answer)


async def test_app_home_opened_over_the_socket_publishes_home(bot: SocketModeBot) -> None:
    ack = await bot.link.event(
        {"type": "app_home_opened", "user": "UDANA", "channel": "DUDANA", "tab": "home"}
    )

    assert ack.payload is None
    [published] = await bot.slack.wait_for("views.publish")
    assert published.params["user_id"] == "UDANA"
    assert published.params["view"]["type"] == "home"


async def test_a_redelivered_event_is_acked_and_handled_once(bot: SocketModeBot) -> None:
    event = {"type": "app_home_opened", "user": "UDANA", "channel": "DUDANA", "tab": "home"}

    first = await bot.link.event(event, event_id="EvSOCKET1")
    await bot.slack.wait_for("views.publish")
    again = await bot.link.event(event, event_id="EvSOCKET1", retry_attempt=1)

    assert {a["envelope_id"] for a in bot.link.acks} == {first.envelope_id, again.envelope_id}
    await asyncio.sleep(0.1)
    assert len(bot.slack.of("views.publish")) == 1


async def test_the_refresh_button_is_acked_and_replaces_the_status_message(
    bot: SocketModeBot,
) -> None:
    ack = await bot.link.click("URHEA", ActionId.REFRESH_STATUS, "REL-2026.12")

    assert ack.payload is None and ack.seconds < ACK_SECONDS
    [answer] = await bot.slack.wait_for("response_url")
    assert answer.params["key"].startswith("socket-act")
    assert answer.params["replace_original"] is True
    assert "REL-2026.12" in shown(answer)


async def test_modal_field_errors_travel_in_the_ack_payload(bot: SocketModeBot) -> None:
    await bot.link.command("URHEA", "new")
    [form] = await bot.slack.wait_for("views.update")
    [opened] = bot.slack.of("views.open")  # with the envelope's trigger_id, within its 3 s
    assert opened.params["trigger_id"].startswith("trigger.socket.")
    values = {
        "release_id": text("REL-2026.12"),  # taken
        "release_name": text("Duplicate"),
        "release_date": date("2027-02-12"),
        "release_type": select("major"),
        "squad_ids": multi("checkout"),
    }

    ack = await bot.link.submit(
        "URHEA", form.params["view"], {block: {block: state} for block, state in values.items()}
    )

    assert ack.payload is not None and ack.payload["response_action"] == "errors"
    assert "already exists" in ack.payload["errors"]["release_id"]


async def test_it_reconnects_when_slack_asks(bot: SocketModeBot) -> None:
    await bot.link.disconnect("refresh_requested")

    await bot.link.wait_connected(count=2)
    assert len(bot.slack.of("apps.connections.open")) == 2  # a fresh URL for the new socket
    await bot.link.command("UDANA", "whoami")
    await bot.slack.wait_for("response_url")


async def test_stopping_closes_the_socket_and_leaves_nothing_open(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with local_socket_bot(db=db) as bot:
            await bot.link.command("UDANA", "whoami")
            await bot.slack.wait_for("response_url")
        # local_socket_bot waited for the app to close its socket before stopping the fake
        for _ in range(3):
            await asyncio.sleep(0)
        leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        gc.collect()

    assert leftover == []
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert "Unclosed" not in caplog.text and "was destroyed" not in caplog.text


async def test_python_m_bot_in_socket_mode_connects_answers_and_stops_on_sigterm() -> None:
    slack = FakeSlack()
    for person in DEMO_PEOPLE:
        slack.add_person(person)
    await slack.start()
    link = SocketModeFake(slack)
    await link.start()
    app_token = "xapp-1-A0RELEASEBOT-never-logged-app-token"
    env = {
        **{k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES},
        "SLACK_API_URL": slack.api_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": app_token,
        "MONGO_URI": "mongomock://",
        "ALLOW_EMBEDDED_IN_PROD": "true",
        "SEED_DATA": "demo",
        "APP_ENV": "prod",
        "JWT_SECRET": "a-jwt-secret-of-at-least-32-characters",
        "SECRET_KEY": "a-secret-key-of-at-least-32-characters",
        "PORT": str(port := free_port()),  # /health, served in Socket Mode too
    }
    env.pop("SLACK_SIGNING_SECRET", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    stderr = asyncio.create_task(process.stderr.read())  # read as it comes: the pipe never fills
    try:
        await link.wait_connected(timeout=20)
        [opened] = slack.of("apps.connections.open")
        ack = await link.command("UDANA", "status REL-2026.12")
        [answer] = await slack.wait_for("response_url")
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/health") as response,
        ):
            health = (response.status, await response.json())
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=10)
        await link.wait_closed()
        logs = (await stderr).decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await link.stop()
        await slack.stop()

    assert opened.params == {}
    assert health[0] == 200 and health[1]["engine"] == "embedded"  # the container is healthy
    assert ack.payload is None and link.acks == [{"envelope_id": ack.envelope_id}]
    assert answer.params["response_type"] == "in_channel" and "REL-2026.12" in shown(answer)
    assert process.returncode == 0
    assert '"message": "connected to Slack in Socket Mode"' in logs
    assert '"message": "stopped"' in logs
    assert app_token not in logs and "never-logged" not in logs


async def test_a_stop_ends_socket_mode_even_while_slack_is_unreachable(db: Database) -> None:
    settings = Settings.model_validate(
        {
            "slack_bot_token": "xoxb-unreachable",
            "slack_app_token": "xapp-unreachable",
            "slack_api_url": "http://127.0.0.1:9/api/",  # nothing listens there
            "slack_team_id": "T0DEMO",  # so start-up does not ask Slack
            "mongo_uri": "mongomock://",
        }
    )
    runtime = await build_runtime(settings, db=db)
    stop = asyncio.Event()
    running = asyncio.create_task(run_socket_mode(runtime, stop))
    await asyncio.sleep(0.3)

    stop.set()
    await asyncio.wait_for(running, timeout=5)
    runtime.close()
