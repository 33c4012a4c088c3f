"""Settings come from the environment (SPEC §6) and refuse what cannot work."""

import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import AppEnv, SeedData, Settings
from bot.startup import StartupError, load_settings

JWT_SECRET = "a-jwt-secret-of-enough-characters-0123456789"


def clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for field in Settings.model_fields:
        monkeypatch.delenv(field.upper(), raising=False)


def make(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    clean(monkeypatch)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)


def test_defaults_run_embedded_over_http(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make(monkeypatch)
    assert settings.mongo_uri == "mongomock://"
    assert not settings.socket_mode
    assert settings.effective_log_level == "DEBUG"
    assert settings.seed_data is SeedData.NONE


def test_app_token_selects_socket_mode_and_secrets_stay_hidden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = make(monkeypatch, SLACK_APP_TOKEN="xapp-secret", SLACK_BOT_TOKEN="xoxb-secret")
    assert settings.socket_mode
    assert "xoxb-secret" not in repr(settings) and "xapp-secret" not in str(settings)


def test_bootstrap_admins_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make(monkeypatch, BOOTSTRAP_ADMIN_SLACK_IDS="U01, U02,,")
    assert settings.bootstrap_admin_slack_ids == ["U01", "U02"]


def test_prod_logs_at_info_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    assert make(monkeypatch, APP_ENV="prod").effective_log_level == "INFO"
    assert make(monkeypatch, APP_ENV="prod", LOG_LEVEL="warning").effective_log_level == "WARNING"
    assert make(monkeypatch, APP_ENV="prod").app_env is AppEnv.PROD


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEFAULT_TIMEZONE", "Mars/Olympus"),
        ("MONGO_URI", "postgres://x"),
        ("MONGO_DB_NAME", "bad name$"),
        ("PORT", "70000"),
        ("SEED_DATA", "everything"),
        ("JWT_SECRET", "x" * 31),
    ],
)
def test_bad_settings_are_refused_with_the_setting_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    with pytest.raises(ValidationError) as error:
        make(monkeypatch, **{name: value})
    assert name.lower() in str(error.value)


def test_api_url_gets_a_trailing_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    assert make(monkeypatch, SLACK_API_URL="http://127.0.0.1:9999/api").slack_api_url.endswith(
        "/api/"
    )


def test_prod_does_not_start_without_a_jwt_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make(monkeypatch, APP_ENV="prod")

    with pytest.raises(StartupError) as error:
        settings.auth()

    line = str(error.value)
    assert line.startswith("cannot start: JWT_SECRET is not set") and "APP_ENV=prod" in line
    assert "at least 32 characters" in line and "secrets.token_urlsafe" in line  # how to fix
    assert "\n" not in line


def test_a_short_jwt_secret_is_refused_saying_how_long(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean(monkeypatch)
    monkeypatch.setenv("JWT_SECRET", "too-short")
    monkeypatch.chdir(tmp_path)  # no .env

    with pytest.raises(StartupError) as error:
        load_settings()  # in dev as well: PyJWT itself calls such a key insecure

    line = str(error.value)
    assert line.startswith("cannot start: JWT_SECRET is invalid: must be at least 32 characters")
    assert "too-short" not in line  # a secret is not echoed


def test_the_jwt_secret_signs_sessions_and_stays_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make(monkeypatch, APP_ENV="prod", JWT_SECRET=JWT_SECRET)

    auth = settings.auth()

    assert auth.secret == JWT_SECRET
    assert JWT_SECRET not in repr(settings) and JWT_SECRET not in repr(auth)


def test_dev_without_a_jwt_secret_makes_one_per_process_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make(monkeypatch)

    with caplog.at_level(logging.WARNING, logger="bot.settings"):
        first, second = settings.auth(), make(monkeypatch).auth()

    assert first.secret == second.secret and len(first.secret) >= 32
    assert "JWT_SECRET is not set" in caplog.text and "end when it stops" in caplog.text
