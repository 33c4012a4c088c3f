"""The process: /health, and a clean stop on SIGTERM."""

import asyncio
import os
import signal
import socket
import sys

import aiohttp

from bot.devtools.harness import LocalBot


async def test_health_reports_version_and_database(bot: LocalBot) -> None:
    async with aiohttp.ClientSession() as session, session.get(f"{bot.url}/health") as response:
        body = await response.json()
    assert response.status == 200
    assert body["status"] == "ok" and body["database"] is True
    assert body["version"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_python_m_bot_serves_http_and_stops_cleanly_on_sigterm() -> None:
    port = _free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "MONGO_URI": "mongomock://",
        "SLACK_BOT_TOKEN": "xoxb-never-logged-token",
        "SLACK_SIGNING_SECRET": "secret",
        "SLACK_APP_TOKEN": "",
        "SEED_DATA": "minimal",
        "APP_ENV": "prod",
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
