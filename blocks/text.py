"""Safe mrkdwn: escaping user text, cutting to Slack's limits, counts, and times.

Times go through ``when`` / ``span`` only, so every time a person reads is on their own clock:
in their time zone for a message only they read (a DM, an ephemeral answer, their Home tab),
or as Slack's ``<!date^…>`` for a message many read (posted in a channel), which Slack shows
each reader in their own time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

SECTION_LIMIT = 3000
PLAIN_LIMIT = 150
MESSAGE_BLOCKS = 50
SURFACE_BLOCKS = 100

_LEADING_EMOJI = re.compile(r"^(?::[a-z0-9_+-]+:\s*)+")


def esc(text: object) -> str:
    """Escape user text for mrkdwn, so `<!channel>` or `<@U1>` cannot ping anybody."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unesc(text: str) -> str:
    """The inverse of ``esc`` (``&amp;`` last, so ``&amp;lt;`` stays ``&lt;``)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def plain(mrkdwn: str, *, escaped: bool = False) -> str:
    """mrkdwn as plain text: no leading emoji codes, no bold or code marks, and ``&lt;``
    ``&gt;`` ``&amp;`` decoded, for the places Slack shows as typed (an error under a field).

    ``escaped=True`` keeps the entities: for a message's ``text``, which Slack reads as
    mrkdwn again, so escaped user text must stay escaped there."""
    text = _LEADING_EMOJI.sub("", mrkdwn.strip()).replace("*", "").replace("`", "").strip()
    return text if escaped else unesc(text)


def cut(text: str, limit: int = SECTION_LIMIT) -> str:
    """Fit text into ``limit`` characters, ending with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def plural(count: int, noun: str, many: str | None = None) -> str:
    """A count with its noun: ``1 gate``, ``2 gates``, ``0 gates`` (``many`` if not noun + s)."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


@dataclass(frozen=True, slots=True)
class EveryReader:
    """Whose clock a message's times are on when many people read it (posted in a channel):
    each reader's own, through Slack's date formatting. ``fallback`` is the zone of the text
    shown where Slack cannot format it (old clients, notifications)."""

    fallback: ZoneInfo


# One person's time zone, or each reader's own (a channel).
Readers = ZoneInfo | EveryReader

SLACK_DATE = "{date_short_pretty} at {time}"  # "Nov 24 at 9:30 AM", "today at 09:30"…


def zone_label(tz: ZoneInfo) -> str:
    """A zone as people say it: ``New York time``, ``Kolkata time``, ``UTC``."""
    key = tz.key
    if "/" not in key or key.startswith("Etc/"):
        return key.removeprefix("Etc/")
    return key.rsplit("/", 1)[-1].replace("_", " ") + " time"


def when(moment: datetime, readers: Readers, *, zone: bool = True) -> str:
    """A moment on the reader's clock: ``Tue 24 Nov 09:30 (New York time)`` for one person
    (``zone=False`` leaves the zone out, for lists that name it once), or Slack's
    ``<!date^…|fallback>`` that shows every reader of a channel their own time."""
    if isinstance(readers, EveryReader):
        fallback = when(moment, readers.fallback)
        return f"<!date^{int(moment.timestamp())}^{SLACK_DATE}|{fallback}>"
    local = moment.astimezone(readers)
    text = f"{local:%a %d %b %H:%M}"
    return f"{text} ({zone_label(readers)})" if zone else text


def span(start: datetime, end: datetime, readers: Readers) -> str:
    """From start to end on the reader's clock; the end's day is left out when it is the
    start's (``Tue 24 Nov 09:30 → 17:30 (New York time)``)."""
    if isinstance(readers, EveryReader):
        return f"{when(start, readers)} → {when(end, readers)}"
    first, last = start.astimezone(readers), end.astimezone(readers)
    until = f"{last:%H:%M}" if first.date() == last.date() else when(end, readers, zone=False)
    return f"{when(start, readers, zone=False)} → {until} ({zone_label(readers)})"


def day(value: date) -> str:
    return f"{value:%a %d %b %Y}"


def mention(slack_user_id: str | None, fallback: str) -> str:
    return f"<@{slack_user_id}>" if slack_user_id else esc(fallback)
