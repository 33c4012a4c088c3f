"""Safe mrkdwn: escaping user text, cutting to Slack's limits, showing times."""

from __future__ import annotations

import re
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


def when(moment: datetime, tz: ZoneInfo) -> str:
    """A moment in the viewer's time zone: ``Tue 24 Nov 09:00 CET``."""
    local = moment.astimezone(tz)
    return f"{local:%a %d %b %H:%M} {local.tzname() or tz.key}"


def day(value: date) -> str:
    return f"{value:%a %d %b %Y}"


def mention(slack_user_id: str | None, fallback: str) -> str:
    return f"<@{slack_user_id}>" if slack_user_id else esc(fallback)
