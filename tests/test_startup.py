"""Fail closed at start-up: `python -m bot` with unsafe or broken settings stops with one
readable line naming the setting, exit code 2, JSON in prod, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = [name.upper() for name in Settings.model_fields]


def start(tmp_path: Path, env: dict[str, str], *, timeout: float = 40) -> tuple[int, str, float]:
    """Run `python -m bot` in an empty folder (no .env but the one a test writes)."""
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return done.returncode, done.stderr, time.monotonic() - began


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr
    return lines[-1]


@pytest.mark.parametrize("secret", [None, "   "])
def test_http_mode_without_a_signing_secret_does_not_start(
    tmp_path: Path, secret: str | None
) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "PORT": str(free_port())}
    if secret is not None:
        env["SLACK_SIGNING_SECRET"] = secret  # blanks only: as good as none
    code, stderr, _ = start(tmp_path, env)

    line = one_line(stderr)
    assert code == 2
    assert line.startswith("cannot start: SLACK_SIGNING_SECRET is not set")
    assert "HTTP mode" in line and "Signing Secret" in line  # why, and where to find it


def test_a_copied_env_example_means_http_mode_not_socket_mode(tmp_path: Path) -> None:
    """`SLACK_APP_TOKEN=` (blank) is unset: the bot asks for the HTTP secret, it does not
    try Socket Mode with an empty token."""
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")

    settings = Settings(_env_file=tmp_path / ".env")
    code, stderr, _ = start(tmp_path, {})

    assert settings.slack_app_token is None and not settings.socket_mode
    assert settings.slack_signing_secret is None and settings.log_level is None
    assert code == 2 and "SLACK_BOT_TOKEN is not set" in one_line(stderr)


def test_socket_mode_needs_no_signing_secret() -> None:
    settings = Settings.model_validate({"slack_bot_token": "xoxb-1", "slack_app_token": "xapp-1"})
    from bot.startup import require_serving

    require_serving(settings)  # no StartupError


def test_prod_refuses_the_embedded_engine_unless_allowed(tmp_path: Path) -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "APP_ENV": "prod",
        "MONGO_URI": "mongomock://",
    }
    code, stderr, _ = start(tmp_path, env)

    entry = json.loads(one_line(stderr))  # JSON in prod
    assert code == 2 and entry["level"] == "CRITICAL" and entry["setting"] == "MONGO_URI"
    assert "embedded" in entry["message"] and "ALLOW_EMBEDDED_IN_PROD=true" in entry["message"]


JWT = "a-jwt-secret-of-at-least-32-characters"
KEY = "a-secret-key-of-at-least-32-characters"


@pytest.mark.parametrize(
    ("given", "missing", "said"),
    [
        ({"SECRET_KEY": KEY}, "JWT_SECRET", "sessions"),
        ({"JWT_SECRET": JWT}, "SECRET_KEY", "webhook"),
    ],
)
def test_prod_without_its_secrets_does_not_start(
    tmp_path: Path, given: dict[str, str], missing: str, said: str
) -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "APP_ENV": "prod",
        "MONGO_URI": "mongomock://",
        "ALLOW_EMBEDDED_IN_PROD": "true",
        "SLACK_TEAM_ID": "T0DEMO",
        "PORT": str(free_port()),
        **given,
    }
    code, stderr, _ = start(tmp_path, env)

    entry = json.loads(one_line(stderr))
    assert code == 2 and entry["level"] == "CRITICAL" and entry["setting"] == missing
    assert "is not set" in entry["message"] and "secrets.token_urlsafe" in entry["message"]
    assert said in entry["message"]


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("PORT", "99999999999999999999", "PORT is invalid"),
        ("DEFAULT_TIMEZONE", "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ("MONGO_URI", "postgres://db", "must start with mongodb://"),
        ("SLACK_TEAM_ID", "not a team", "SLACK_TEAM_ID is invalid"),
        ("MONGO_CONNECT_TIMEOUT_SECONDS", "NaN", "MONGO_CONNECT_TIMEOUT_SECONDS is invalid"),
    ],
)
def test_a_bad_setting_is_one_readable_line_with_an_example(
    tmp_path: Path, name: str, value: str, said: str
) -> None:
    code, stderr, _ = start(tmp_path, {name: value})

    line = one_line(stderr)
    assert code == 2 and said in line and line.startswith(f"cannot start: {name}")
    assert len(stderr.splitlines()) == 1


def test_an_unreachable_mongodb_fails_fast_with_the_host_named(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_TEAM_ID": "T0DEMO",
        "MONGO_URI": f"mongodb://releasebot:hunter2@127.0.0.1:{port}/releasebot",
        "MONGO_CONNECT_TIMEOUT_SECONDS": "1",
        "PORT": str(free_port()),
    }
    code, stderr, took = start(tmp_path, env)

    line = one_line(stderr)
    assert code == 2 and took < 15  # interpreter start-up included, on a loaded machine
    assert f"MongoDB at 127.0.0.1:{port}" in line and "within 1 s" in line
    assert "hunter2" not in stderr  # the host is named, the credentials are not
