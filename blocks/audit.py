"""`/release audit`: what the requester is told about the audit file sent to them by DM."""

from __future__ import annotations

from blocks.message import Message, context, section
from blocks.text import esc, plural

VERIFY_COMMAND = "python -m scripts.audit verify"


def verify_hint(filename: str) -> str:
    return (
        f"To check that nobody changed it, download it and run `{VERIFY_COMMAND} {esc(filename)}` "
        "in a releasebot checkout: it recomputes every hash and names the first broken link."
    )


def audit_file_comment(release_id: str, entries: int) -> str:
    """The words that go with the file in the DM."""
    return (
        f"The audit trail of *{esc(release_id)}*: {plural(entries, 'entry', 'entries')}, each "
        "with the hash of the one before it."
    )


def audit_sent_message(release_id: str, filename: str, entries: int) -> Message:
    return Message(
        text=f"I sent you the audit trail of {esc(release_id)} by DM.",
        blocks=[
            section(
                f":page_facing_up: I sent you the audit trail of *{esc(release_id)}* by DM: "
                f"`{esc(filename)}` ({plural(entries, 'entry', 'entries')})."
            ),
            context(verify_hint(filename)),
        ],
    )


def audit_not_sent_message(release_id: str, reason: str, *, maybe_shared: bool = False) -> Message:
    """The upload failed, and what to do. ``maybe_shared``: Slack failed in a way that may
    have shared the file all the same (its own error), so look before trying again."""
    shared = (
        "It may have reached our DM all the same: look there first."
        if maybe_shared
        else "Nothing was shared."
    )
    return Message(
        text=f":warning: I could not send you the audit trail of {esc(release_id)}.",
        blocks=[
            section(
                f":warning: I could not send you the audit trail of *{esc(release_id)}*: "
                f"{esc(reason)}. {shared} Please try `/release audit {esc(release_id)}` again "
                "in a minute; it can also be exported from the API "
                f"(`GET /api/v1/audit/export?release={esc(release_id)}`)."
            )
        ],
    )
