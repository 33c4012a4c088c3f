"""Delegation in words: who decides in whose place, until when, on the reader's clock."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from blocks.message import Message, section
from blocks.text import esc, plain, when
from core.models.rbac import User
from core.rules.delegation import DelegationStanding
from core.services.delegation import DelegationEnded

MAX_SHOWN = 10  # people someone decides for, named on one line


def until_text(until: datetime, tz: ZoneInfo) -> str:
    """``Thu 24 Dec`` when the delegation ends at midnight on the reader's clock (the end of
    that day), else the moment it ends: ``Fri 25 Dec 05:00 (Kolkata time)``."""
    local = until.astimezone(tz)
    if local.time() == time():
        return f"{local.date() - timedelta(days=1):%a %d %b}"
    return when(until, tz)


def delegation_lines(standing: DelegationStanding, tz: ZoneInfo) -> list[str]:
    """What ``whoami`` and App Home say: who decides in the reader's place, and for whom
    they decide (empty when neither)."""
    lines: list[str] = []
    away = standing.away
    if away is not None:
        approved = f" (approved by {esc(away.admin_approved_by)})" if away.admin_approved_by else ""
        lines.append(
            f":palm_tree: *Away until {until_text(away.until, tz)}* — "
            f"{esc(away.delegate_username)} decides in your place{approved}. "
            "`/release delegate off` ends it sooner."
        )
    if standing.deciding_for:
        named = [
            f"{esc(user.username)} until {until_text(delegation.until, tz)}"
            for user, delegation in standing.deciding_for[:MAX_SHOWN]
        ]
        hidden = len(standing.deciding_for) - len(named)
        more = f" and {hidden} more" if hidden > 0 else ""
        lines.append(f":handshake: *You decide for* {', '.join(named)}{more}.")
    return lines


def delegated_message(delegator: User, tz: ZoneInfo, *, own: bool) -> Message:
    """The answer to ``delegate``: who decides in whose place, until when."""
    delegation = delegator.delegation
    assert delegation is not None, "answered after the delegation was stored"
    whose = "your" if own else f"{esc(delegator.username)}'s"
    approved = (
        f" As an admin, you approved {esc(delegation.delegate_username)} without "
        f"{'your' if own else 'their'} roles."
        if delegation.admin_approved_by
        else ""
    )
    ender = "`/release delegate off`" + ("" if own else f" for @{esc(delegator.username)}")
    text = (
        f":palm_tree: Until {until_text(delegation.until, tz)}, "
        f"*{esc(delegation.delegate_username)}* may decide approvals in {whose} place."
        f"{approved} It ends by itself; {ender} ends it sooner."
    )
    return Message(text=plain(text, escaped=True), blocks=[section(text)])


def delegation_ended_message(done: DelegationEnded, *, own: bool) -> Message:
    """The answer to ``delegate off``."""
    ended = done.ended
    whose = "your" if own else f"{esc(done.delegator.username)}'s"
    if ended is None:
        text = f"Nobody decides in {whose} place, so there was nothing to end."
    else:
        text = (
            f":wave: {esc(ended.delegate_username)} no longer decides in {whose} place; "
            f"{'your' if own else 'their'} approvals come to {'you' if own else 'them'} alone."
        )
    return Message(text=plain(text, escaped=True), blocks=[section(text)])
