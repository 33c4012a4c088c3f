"""Logs: readable in dev, JSON in prod; every line carries the request's ids; no secrets."""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

request_id: ContextVar[str] = ContextVar("request_id", default="-")
slack_user: ContextVar[str] = ContextVar("slack_user", default="-")
# The zone of who is being answered (set with their identity): times in errors are on it.
reader_zone: ContextVar[ZoneInfo | None] = ContextVar("reader_zone", default=None)
portal_user: ContextVar[str] = ContextVar("portal_user", default="-")

# Slack tokens, the portal API's tokens (core/services/auth.py), webhook signing secrets and
# JWTs (the API's sessions).
_SECRET = re.compile(
    r"\b(xox[abposr]-|xapp-|rbt_|whsec_|eyJ)[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)?"
)


def new_request_id() -> str:
    return uuid.uuid4().hex[:12]


def redact(text: str) -> str:
    return _SECRET.sub(lambda m: m.group(1) + "[redacted]", text)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.slack_user = slack_user.get()
        record.portal_user = portal_user.get()
        return True


class _ConsoleFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)-7s %(name)s [req=%(request_id)s slack=%(slack_user)s "
            "user=%(portal_user)s] %(message)s"
        )

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "slack_user": getattr(record, "slack_user", "-"),
            "portal_user": getattr(record, "portal_user", "-"),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry))


def configure_logging(*, json_logs: bool, level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ContextFilter())
    handler.setFormatter(_JsonFormatter() if json_logs else _ConsoleFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The SDK logs whole request bodies at DEBUG; they may carry user data.
    logging.getLogger("slack_sdk").setLevel(max(logging.INFO, root.level))
    logging.getLogger("slack_bolt").setLevel(max(logging.INFO, root.level))
    # The driver's heartbeats and connection chatter at DEBUG drown what matters.
    logging.getLogger("pymongo").setLevel(max(logging.INFO, root.level))
