"""When digests and reminders are due (pure rules)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.rules import schedule

KOLKATA = ZoneInfo("Asia/Kolkata")
NEW_YORK = ZoneInfo("America/New_York")
GRACE = timedelta(hours=2)


def utc(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "nine_local_in_utc"),
    [(KOLKATA, utc(3, 30)), (NEW_YORK, utc(14, 0)), (ZoneInfo("UTC"), utc(9, 0))],
)
def test_digest_is_due_at_nine_in_the_persons_own_zone(
    tz: ZoneInfo, nine_local_in_utc: datetime
) -> None:
    assert schedule.digest_day(time(9), tz, nine_local_in_utc - timedelta(minutes=1), GRACE) is None
    assert schedule.digest_day(time(9), tz, nine_local_in_utc, GRACE) == date(2026, 12, 1)


def test_missed_digest_is_due_within_grace_then_no_more() -> None:
    assert schedule.digest_day(time(9), NEW_YORK, utc(15, 59), GRACE) == date(2026, 12, 1)
    assert schedule.digest_day(time(9), NEW_YORK, utc(16, 0), GRACE) is None


def test_digest_day_is_the_local_day_not_the_utc_day() -> None:
    # 09:00 on 2 Dec in Kolkata is 03:30 UTC on 2 Dec; 23:00 UTC on 1 Dec is already 2 Dec there.
    assert schedule.digest_day(time(4, 30), KOLKATA, utc(23, 0, day=1), GRACE) == date(2026, 12, 2)


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [(utc(2, 29), True), (utc(2, 30), False), (utc(14, 29), False), (utc(14, 30), True)],
)
def test_quiet_hours_are_outside_eight_to_twenty_local(moment: datetime, quiet: bool) -> None:
    # Kolkata is UTC+05:30: 08:00 local = 02:30 UTC, 20:00 local = 14:30 UTC.
    assert schedule.in_quiet_hours(moment, KOLKATA) is quiet


def test_reminder_intervals_count_whole_periods() -> None:
    start = utc(9)
    every = timedelta(hours=4)
    assert schedule.reminder_interval(start, start + timedelta(hours=3, minutes=59), every) == 0
    assert schedule.reminder_interval(start, start + timedelta(hours=4), every) == 1
    assert schedule.reminder_interval(start, start + timedelta(hours=9), every) == 2
    assert schedule.reminder_interval(start, start - timedelta(hours=1), every) == 0


def test_escalation_after_the_configured_hours() -> None:
    assert not schedule.needs_escalation(utc(9), utc(8, day=2), timedelta(hours=24))
    assert schedule.needs_escalation(utc(9), utc(9, day=2), timedelta(hours=24))


def test_snooze_choices() -> None:
    now = utc(15)  # 20:30 in Kolkata
    assert schedule.snooze_until("1h", now, KOLKATA) == utc(16)
    assert schedule.snooze_until("4h", now, KOLKATA) == utc(19)
    assert schedule.snooze_until("tomorrow", now, KOLKATA) == utc(2, 30, day=2)  # 08:00 local
    with pytest.raises(ValueError, match="unknown snooze"):
        schedule.snooze_until("forever", now, KOLKATA)
