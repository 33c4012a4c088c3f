"""The process: /health, and a clean stop on SIGTERM."""

import asyncio
import os
import signal
import sys

import aiohttp

from bot.devtools.harness import LocalBot
from tests.support import free_port


async def test_health_reports_version_and_database(bot: LocalBot) -> None:
    async with aiohttp.ClientSession() as session, session.get(f"{bot.url}/health") as response:
        body = await response.json()
    assert response.status == 200
    assert body["status"] == "ok" and body["database"] is True
    assert body["version"]


async def test_python_m_bot_serves_http_and_stops_cleanly_on_sigterm() -> None:
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "MONGO_URI": "mongomock://",
        "SLACK_BOT_TOKEN": "xoxb-never-logged-token",
        "SLACK_SIGNING_SECRET": "secret",
        "SLACK_APP_TOKEN": "",
        "SEED_DATA": "minimal",
        "APP_ENV": "prod",
        "ALLOW_EMBEDDED_IN_PROD": "true",
        "SLACK_TEAM_ID": "T0DEMO",  # no Slack to ask with auth.test
        "JWT_SECRET": "a-jwt-secret-of-at-least-32-characters",
        "SECRET_KEY": "a-secret-key-of-at-least-32-characters",
    }
    env.pop("SLACK_APP_TOKEN")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/health") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("the bot never became healthy")
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=10)
    finally:
        if process.returncode is None:
            process.kill()
    logs = stderr.decode()
    assert process.returncode == 0
    assert '"message": "stopped"' in logs  # JSON logs in prod
    assert "xoxb-never-logged-token" not in logs
