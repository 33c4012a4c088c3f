"""Settings come from the environment (SPEC §6) and refuse what cannot work."""

import pytest
from pydantic import ValidationError

from bot.settings import AppEnv, SeedData, Settings


def make(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for field in Settings.model_fields:
        monkeypatch.delenv(field.upper(), raising=False)
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
