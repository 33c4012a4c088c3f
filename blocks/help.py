"""Usage and identity messages."""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block

from blocks.delegation import delegation_lines
from blocks.message import Message, context, lines_section, section
from blocks.text import esc
from core.models.rbac import Permission
from core.rules.delegation import DelegationStanding
from core.rules.permissions import Actor


def help_message(commands: Iterable[tuple[str, str]], *, unknown: str | None = None) -> Message:
    """``commands`` are (usage, summary) pairs, in the order to show them."""
    blocks: list[Block] = []
    if unknown:
        blocks.append(section(f":grey_question: Unknown subcommand `{esc(unknown)}`."))
    lines = [f"`/release {esc(usage)}` — {esc(summary)}" for usage, summary in commands]
    blocks.append(lines_section(["*releasebot* — what you can type:", *lines], more="command"))
    blocks.append(
        context("`&lt;release&gt;` is a release id such as `REL-2026.12`, or its database id.")
    )
    return Message(text="releasebot usage: /release help", blocks=blocks)


def whoami_message(
    actor: Actor | None,
    slack_user_id: str,
    *,
    standing: DelegationStanding | None = None,
    tz: ZoneInfo | None = None,
) -> Message:
    """``standing``: the person's delegations in force, shown on ``tz``'s clock."""
    if actor is None:
        return Message(
            text="You are not linked to a releasebot user yet.",
            blocks=[
                section(
                    f"<@{slack_user_id}>, your Slack account is not linked to a releasebot user "
                    "yet. Ask an admin to run `/release admin link @you &lt;username&gt;`."
                )
            ],
        )
    user = actor.user
    flags = ", ".join(f"`{p.value}`" for p in Permission if actor.has(p)) or "_none_"
    squads = ", ".join(esc(s) for s in user.assigned_squad_ids) or "_none_"
    lines = [
        f"*{esc(user.full_name)}* (`{esc(user.username)}`, {esc(user.email)}) "
        f"— {user.status.value}",
        f"*Roles:* {esc(', '.join(actor.role_names)) or '_none_'}",
        f"*Permissions:* {flags}",
        f"*Squads:* {squads}",
        f"*Time zone:* {esc(user.time_zone or 'not known yet')}",
    ]
    if standing is not None:
        lines += delegation_lines(standing, tz or ZoneInfo("UTC"))
    return Message(text=f"You are {user.username}", blocks=[section("\n".join(lines))])
