"""Fail closed at start-up: every refusal is one readable line naming the setting, what is
wrong and an example of a good value; JSON in prod, never a traceback."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.settings import AppEnv, Settings
from storage.engine import is_embedded

# What a good value looks like, for the settings people get wrong.
EXAMPLES = {
    "SLACK_BOT_TOKEN": "xoxb-… from OAuth & Permissions",
    "SLACK_SIGNING_SECRET": "the Signing Secret from Basic Information",
    "SLACK_APP_TOKEN": "xapp-… with connections:write, or leave it empty for HTTP",
    "SLACK_TEAM_ID": "T0123ABCD",
    "MONGO_URI": "mongodb://releasebot:secret@mongodb:27017",
    "MONGO_DB_NAME": "releasebot",
    "MONGO_CONNECT_TIMEOUT_SECONDS": "5",
    "DEFAULT_TIMEZONE": "Europe/Paris",
    "APP_ENV": "prod",
    "PORT": "3000",
    "SEED_DATA": "none",
}


@dataclass
class StartupError(Exception):
    """A setting that stops the bot from starting."""

    setting: str
    problem: str

    def __str__(self) -> str:
        example = EXAMPLES.get(self.setting)
        hint = f" (for example {self.setting}={example})" if example else ""
        return f"cannot start: {self.setting} {self.problem}{hint}"


def load_settings() -> Settings:
    """Settings from the environment and `.env`; the first bad one becomes a StartupError."""
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "a setting"
        raise StartupError(name, f"is invalid: {_reason(first['msg'])}") from None


def require_serving(settings: Settings) -> None:
    """What serving Slack needs beyond valid values (the console makes its own secrets)."""
    if settings.slack_bot_token is None:
        raise StartupError("SLACK_BOT_TOKEN", "is not set: the bot cannot call Slack without it")
    secret = settings.slack_signing_secret
    if not settings.socket_mode and (secret is None or not secret.get_secret_value().strip()):
        raise StartupError(
            "SLACK_SIGNING_SECRET",
            "is not set: in HTTP mode (no SLACK_APP_TOKEN) every request must be verified "
            "against it",
        )
    embedded_in_prod = settings.app_env is AppEnv.PROD and is_embedded(settings.mongo_uri)
    if embedded_in_prod and not settings.allow_embedded_in_prod:
        raise StartupError(
            "MONGO_URI",
            "is the embedded in-memory engine (mongomock://) with APP_ENV=prod: everything "
            "would be lost on restart; point it at MongoDB, or set "
            "ALLOW_EMBEDDED_IN_PROD=true to accept that",
        )


class _AppEnvOnly(BaseSettings):
    """APP_ENV alone, read from the same places, for when the other settings are bad."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)
    app_env: str = "dev"


def report(error: BaseException) -> None:
    """One line on stderr, never a traceback: JSON in prod (as every other log line there),
    plain otherwise. Anything but a StartupError is named by its type and message only."""
    if isinstance(error, StartupError):
        line, setting = str(error), error.setting
    else:
        line = f"stopped: unexpected {type(error).__name__}: {error}".splitlines()[0][:500]
        setting = None
    if _AppEnvOnly().app_env.strip().lower() == AppEnv.PROD.value:
        entry = {
            "ts": datetime.now(UTC).isoformat(),
            "level": "CRITICAL",
            "logger": "bot.startup",
            "message": line,
            "setting": setting,
        }
        line = json.dumps(entry)
    print(line, file=sys.stderr, flush=True)


def _reason(message: str) -> str:
    """pydantic's message without its "Value error, " prefix."""
    return message.removeprefix("Value error, ")
