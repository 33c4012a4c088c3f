"""`@dana` typed in the console becomes the mention Slack would send for it.

In Slack, picking ``@dana`` in the message box of a slash command that escapes users
(``should_escape: true`` in manifest.yml) sends ``<@UDANA|dana>``. The console does the
same for everyone its fake Slack knows, matched case-insensitively; any other ``@word`` is
sent as typed, and an ``@`` inside a word (an email such as ``a@b.com``) is never a mention.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# "@" at the start or after a space or punctuation that cannot be part of an address or of
# a mention already written out (``<@U1>``); the name ends where a name cannot continue.
_AT_NAME = re.compile(r"(?<![\w.+\-@<&/:])@([A-Za-z0-9](?:[\w.\-]*[A-Za-z0-9_])?)(?![\w@\-])")
_WRITTEN = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


def slack_mentions(text: str, people: Mapping[str, str]) -> str:
    """``people``: lower-case Slack name → user id. Known ``@name`` → ``<@ID|name>``."""

    def mention(match: re.Match[str]) -> str:
        name = match.group(1).lower()
        user_id = people.get(name)
        return f"<@{user_id}|{name}>" if user_id else match.group(0)

    return _AT_NAME.sub(mention, text)


def person_id(text: str, people: Mapping[str, str]) -> str | None:
    """The Slack id of one person typed as ``dana``, ``@dana``, ``<@UDANA>`` or ``UDANA``."""
    text = text.strip()
    written = _WRITTEN.match(text)
    if written:
        return written.group(1) if written.group(1) in people.values() else None
    name = text.removeprefix("@").lower()
    if name in people:
        return people[name]
    return text.upper() if text.upper() in people.values() else None
