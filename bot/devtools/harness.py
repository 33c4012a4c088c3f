"""Run the real bot over HTTP against a fake Slack: for tests, the console and benchmarks."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from bot.devtools.driver import SlackDriver
from bot.devtools.fake_slack import FakeSlack, SlackPerson
from bot.runtime import Runtime, build_runtime
from bot.server import EVENTS_PATH
from bot.settings import SeedData, Settings
from core.clock import Clock, utc_now
from storage.engine import Database

SIGNING_SECRET = "local-signing-secret"
BOT_TOKEN = "xoxb-local-fake-token"

# The demo personas (core/seeds/demo.py) as Slack people, matched by email.
DEMO_PEOPLE = (
    SlackPerson("UADMIN", "admin", "admin@example.com", "Europe/London"),
    SlackPerson("URHEA", "rhea", "rhea@example.com", "Asia/Kolkata"),
    SlackPerson("UARJUN", "arjun", "arjun@example.com", "America/New_York"),
    SlackPerson("UDANA", "dana", "dana@example.com", "Europe/Berlin"),
    SlackPerson("UNOBODY", "nobody", "nobody@elsewhere.example", "UTC"),
    SlackPerson("UROBOT", "ci-bot", None, "UTC", is_bot=True),
)


@dataclass
class LocalBot:
    runtime: Runtime
    slack: FakeSlack
    driver: SlackDriver
    url: str


LOCAL_SECRETS = (secrets.token_urlsafe(48), secrets.token_urlsafe(48))


def local_settings(slack: FakeSlack, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack.api_url,
        "mongo_uri": "mongomock://",
        "seed_data": SeedData.DEMO,
        # A local bot lives as long as its process: secrets made for it, said nowhere.
        "jwt_secret": LOCAL_SECRETS[0],
        "secret_key": LOCAL_SECRETS[1],
        **overrides,
    }
    return Settings.model_validate(values)


async def listen(app: web.Application) -> tuple[web.AppRunner, str]:
    """Serve ``app`` on a free local port: its runner (to clean up) and base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


@asynccontextmanager
async def local_bot(
    *, db: Database | None = None, clock: Clock = utc_now, **overrides: object
) -> AsyncIterator[LocalBot]:
    """The bot's aiohttp app on a free port, its Web API calls going to a fake Slack."""
    slack = FakeSlack()
    for person in DEMO_PEOPLE:
        slack.add_person(person)
    await slack.start()
    runtime = await build_runtime(local_settings(slack, **overrides), clock=clock, db=db)
    runner, url = await listen(runtime.web_app())
    try:
        async with aiohttp.ClientSession() as session:
            driver = SlackDriver(f"{url}{EVENTS_PATH}", SIGNING_SECRET, slack, session)
            yield LocalBot(runtime, slack, driver, url)
    finally:
        await runner.cleanup()
        await runtime.deps.settle()
        await slack.stop()
        runtime.close()
