"""Configuration from the environment and `.env` (SPEC §6), validated at start-up."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.models.retention import RetentionPeriods
from core.rules.digest import DigestWindow
from core.secrets import SecretBox
from core.services.auth import MIN_SECRET_LENGTH, AuthSettings
from core.services.schedule import ScheduleSettings

SLACK_API_DEFAULT = "https://slack.com/api/"
log = logging.getLogger(__name__)
# Signs API sessions where no JWT_SECRET is set (dev only): made once per process.
_PROCESS_JWT_SECRET = secrets.token_urlsafe(48)
RETENTION_MAX_DAYS = 3650
# The shortest a claim may be kept, and why: purged sooner, work it guards could be done twice.
RETENTION_FLOORS = {
    "retention_finished_claims_days": (
        2,
        "a digest's claim must outlive its day and grace period, or the digest could be sent twice",
    ),
    "retention_expired_claims_days": (
        1,
        "Slack retries an event, and a delivery whose answer was lost is retried, within "
        "a day: purged sooner, an event could be handled twice or a message posted twice",
    ),
}


class AppEnv(StrEnum):
    DEV = "dev"
    PROD = "prod"


class SeedData(StrEnum):
    NONE = "none"
    MINIMAL = "minimal"
    DEMO = "demo"


class Settings(BaseSettings):
    # Blank values count as unset: a copied .env.example (``SLACK_APP_TOKEN=``) means HTTP mode.
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = SLACK_API_DEFAULT
    # The workspace (or Enterprise Grid org) served; learned from auth.test when unset.
    slack_team_id: str | None = Field(default=None, pattern=r"^[TE][A-Z0-9]{2,30}$")
    port: int = Field(default=3000, ge=1, le=65535)
    mongo_uri: str = "mongomock://"
    mongo_db_name: str = Field(default="releasebot", pattern=r"^[A-Za-z0-9_-]{1,63}$")
    mongo_connect_timeout_seconds: float = Field(default=5, gt=0, le=60)
    allow_embedded_in_prod: bool = False
    bootstrap_admin_slack_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)
    default_timezone: str = "UTC"
    app_env: AppEnv = AppEnv.DEV
    log_level: str | None = None
    allow_self_approval: bool = False
    seed_data: SeedData = SeedData.NONE
    approval_reminder_hours: float = Field(default=4, gt=0, le=24 * 14)
    approval_escalate_hours: float = Field(default=24, gt=0, le=24 * 60)
    digest_upcoming_days: int = Field(default=14, ge=0, le=365)
    digest_recent_days: int = Field(default=3, ge=0, le=90)
    digest_grace_minutes: int = Field(default=120, ge=1, le=24 * 60)
    digest_template_dir: str | None = None
    slack_post_rate: float = Field(default=0, ge=0, le=1000)
    # How long a Web API call may take before the bot gives up on its answer (Slack may still
    # have done it: a delivery retried after that looks for it first).
    slack_timeout_seconds: float = Field(default=10, gt=0, le=120)
    scheduler_enabled: bool = True
    scheduler_tick_seconds: float = Field(default=30, gt=0, le=3600)
    # On SIGTERM: how long the sends already under way (a tick, queued answers and reactions)
    # may take to finish before the process stops anyway. Within the orchestrator's grace
    # period (Kubernetes: 30 s).
    shutdown_drain_seconds: float = Field(default=20, ge=0, le=300)
    # Signs the portal API's sessions (JWT, HS256). Required with APP_ENV=prod.
    jwt_secret: SecretStr | None = None
    # Encrypts the secrets the database keeps (webhook signing secrets). Required with
    # APP_ENV=prod. SECRET_KEY_FALLBACKS: older keys, comma-separated, that still decrypt what
    # they encrypted (rotation: put the new key in SECRET_KEY, the old one here).
    secret_key: SecretStr | None = None
    secret_key_fallbacks: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    # Let webhooks reach private networks, loopback and local names (refused by default: a
    # hook's URL must not make the bot call internal services or the cloud metadata service).
    webhook_allow_private: bool = False
    # Retention (README "Data lifecycle"): days each kind of data is kept once no longer
    # needed; the scheduler purges what is older once a day.
    retention_finished_claims_days: int = Field(default=7, le=RETENTION_MAX_DAYS)
    retention_expired_claims_days: int = Field(default=1, le=RETENTION_MAX_DAYS)
    retention_webhook_deliveries_days: int = Field(default=90, ge=1, le=RETENTION_MAX_DAYS)
    retention_api_tokens_days: int = Field(default=30, ge=0, le=RETENTION_MAX_DAYS)
    retention_invitations_days: int = Field(default=30, ge=0, le=RETENTION_MAX_DAYS)
    # The approval DM ledger: longer than any approval stays pending, or its DMs go stale.
    retention_approval_messages_days: int = Field(default=365, ge=30, le=RETENTION_MAX_DAYS)
    # How long an invitation stays open (``/release admin invite``), from when it is made.
    invitation_ttl_hours: int = Field(default=72, ge=1, le=24 * 90)

    @field_validator("bootstrap_admin_slack_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("secret_key_fallbacks", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("jwt_secret", "secret_key")
    @classmethod
    def _long_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip()) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"must be at least {MIN_SECRET_LENGTH} characters (a 256-bit key); "
                'make one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        return value

    @field_validator("retention_finished_claims_days", "retention_expired_claims_days")
    @classmethod
    def _claims_outlive_retries(cls, value: int, info: ValidationInfo) -> int:
        least, why = RETENTION_FLOORS[str(info.field_name)]
        if value < least:
            raise ValueError(f"must be at least {least} day{'s' * (least > 1)}: {why}")
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone '{value}' (use an IANA name such as Europe/Paris)"
            ) from None
        return value

    @field_validator("mongo_uri")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("mongodb://", "mongodb+srv://", "mongomock://")):
            raise ValueError(
                "must start with mongodb://, mongodb+srv:// or mongomock:// (embedded)"
            )
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def effective_log_level(self) -> str:
        if self.log_level:
            return self.log_level.upper()
        return "DEBUG" if self.app_env is AppEnv.DEV else "INFO"

    def auth(self) -> AuthSettings:
        """How API sessions are signed: with JWT_SECRET; in dev without one, with a secret
        made for this process (logged: sessions then end with it). Raises StartupError with
        APP_ENV=prod and no JWT_SECRET: a made-up secret there would sign every replica's
        sessions differently and end them at every deploy."""
        if self.jwt_secret is not None:
            return AuthSettings(secret=self.jwt_secret.get_secret_value().strip())
        if self.app_env is AppEnv.PROD:
            from bot.startup import StartupError  # it reads these settings

            raise StartupError(
                "JWT_SECRET",
                f"is not set: with APP_ENV=prod the portal API's sessions must be signed with a "
                f"secret of at least {MIN_SECRET_LENGTH} characters shared by every replica; "
                'make one with: python -c "import secrets; print(secrets.token_urlsafe(48))"',
            )
        log.warning(
            "JWT_SECRET is not set: API sessions are signed with a secret made for this "
            "process, so they end when it stops (set JWT_SECRET to keep them)"
        )
        return AuthSettings(secret=_PROCESS_JWT_SECRET)

    def secret_box(self) -> SecretBox:
        """What encrypts stored secrets: SECRET_KEY, then its fallbacks. Raises StartupError
        with APP_ENV=prod and no SECRET_KEY; in dev without one, a key made for this process
        (logged: what it encrypted cannot be read after a restart)."""
        if self.secret_key is not None:
            keys = [self.secret_key, *self.secret_key_fallbacks]
            return SecretBox([k.get_secret_value().strip() for k in keys])
        if self.app_env is AppEnv.PROD:
            from bot.startup import StartupError  # it reads these settings

            raise StartupError(
                "SECRET_KEY",
                f"is not set: with APP_ENV=prod the secrets the database keeps (webhook "
                f"signing secrets) must be encrypted with a key of at least "
                f"{MIN_SECRET_LENGTH} characters shared by every replica; make one with: "
                'python -c "import secrets; print(secrets.token_urlsafe(48))"',
            )
        log.warning(
            "SECRET_KEY is not set: stored secrets (webhooks) are encrypted with a key made "
            "for this process, so they cannot be read after it stops (set SECRET_KEY)"
        )
        return SecretBox.random()

    def retention(self) -> RetentionPeriods:
        return RetentionPeriods(
            finished_claims=timedelta(days=self.retention_finished_claims_days),
            expired_claims=timedelta(days=self.retention_expired_claims_days),
            webhook_deliveries=timedelta(days=self.retention_webhook_deliveries_days),
            api_tokens=timedelta(days=self.retention_api_tokens_days),
            invitations=timedelta(days=self.retention_invitations_days),
            approval_messages=timedelta(days=self.retention_approval_messages_days),
        )

    def invitation_ttl(self) -> timedelta:
        return timedelta(hours=self.invitation_ttl_hours)

    def schedule(self) -> ScheduleSettings:
        return ScheduleSettings(
            window=DigestWindow(
                upcoming_days=self.digest_upcoming_days, recent_days=self.digest_recent_days
            ),
            grace=timedelta(minutes=self.digest_grace_minutes),
            default_tz=ZoneInfo(self.default_timezone),
            reminder_every=timedelta(hours=self.approval_reminder_hours),
            escalate_after=timedelta(hours=self.approval_escalate_hours),
        )
