"""When digests and reminders are due: time zones, grace periods, quiet hours, intervals."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

QUIET_START = time(20, 0)
QUIET_END = time(8, 0)


def digest_day(at: time, tz: ZoneInfo, now: datetime, grace: timedelta) -> date | None:
    """The local day whose digest is due at ``now``, or None.

    Due from the scheduled local time until ``grace`` later: a bot that was down at 09:00
    still posts a missed digest once when it comes back within the grace period (the
    delivery claim for that day prevents a second post).
    """
    local = now.astimezone(tz)
    scheduled = datetime.combine(local.date(), at, tzinfo=tz)
    if scheduled <= local < scheduled + grace:
        return local.date()
    return None


def in_quiet_hours(now: datetime, tz: ZoneInfo) -> bool:
    """No reminder DMs outside 08:00–20:00 in the person's time zone."""
    local = now.astimezone(tz).time()
    return local >= QUIET_START or local < QUIET_END


def reminder_interval(requested_at: datetime, now: datetime, every: timedelta) -> int:
    """How many whole reminder intervals an approval has been pending (0: not yet due)."""
    if every <= timedelta(0) or now <= requested_at:
        return 0
    return math.floor((now - requested_at) / every)


def needs_escalation(requested_at: datetime, now: datetime, after: timedelta) -> bool:
    return now - requested_at >= after


def snooze_until(choice: str, now: datetime, tz: ZoneInfo) -> datetime:
    """``1h``, ``4h`` or ``tomorrow`` (08:00 next morning in the person's zone)."""
    if choice == "1h":
        return now + timedelta(hours=1)
    if choice == "4h":
        return now + timedelta(hours=4)
    if choice == "tomorrow":
        local = now.astimezone(tz)
        return datetime.combine(local.date() + timedelta(days=1), QUIET_END, tzinfo=tz)
    raise ValueError(f"unknown snooze '{choice}'; use 1h, 4h or tomorrow")
