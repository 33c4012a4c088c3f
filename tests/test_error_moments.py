"""Times an error names: in UTC for the API and the logs, on its reader's clock in Slack."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot import logs
from bot.errors import user_message
from core.errors import RuleViolation, literal

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def refused(name: str) -> RuleViolation:
    return RuleViolation(f"'{literal(name)}' was ended at {{at}}.", moments={"at": AT})


def test_the_core_names_a_time_in_utc_and_keeps_braces_of_names_as_written() -> None:
    assert refused("Freeze {x}").message == "'Freeze {x}' was ended at 2026-12-01 09:00 UTC."


def test_slack_shows_it_on_the_readers_clock() -> None:
    token = logs.reader_zone.set(ZoneInfo("Asia/Kolkata"))
    try:
        said = user_message(refused("Freeze {x}"))
    finally:
        logs.reader_zone.reset(token)

    assert "'Freeze {x}' was ended at Tue 01 Dec 14:30 (Kolkata time)." in said
    assert "UTC" not in said
