"""`/release admin`: lists of roles, users and the catalog, confirmations and usage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, HeaderBlock, PlainTextObject

from blocks.message import Message, context, section
from blocks.text import (
    MESSAGE_BLOCKS,
    PLAIN_LIMIT,
    SECTION_LIMIT,
    cut,
    esc,
    plain,
    plural,
    when,
)
from core.models.auth import ApiToken
from core.models.catalog import Application, JiraBoard, Squad
from core.models.invitation import Invitation, InvitationStatus
from core.models.rbac import Permission, Role, User, UserStatus
from core.rules.principal import Scope
from core.services.departures import Departure

STATUS_EMOJI = {
    UserStatus.ACTIVE: ":large_green_circle:",
    UserStatus.INVITED: ":envelope:",
    UserStatus.DISABLED: ":no_entry_sign:",
}
ENTRY_LIMIT = 1500


def entries_message(
    title: str, entries: Sequence[str], *, what: str, empty: str, footer: str | None = None
) -> Message:
    """A header and the entries packed into as few sections as fit; the rest as
    "… and N more <what>s" (``what``: the noun, singular)."""
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=cut(title, PLAIN_LIMIT)))]
    room = MESSAGE_BLOCKS - 3  # besides the header, "… and N more" and the footer
    chunks: list[list[str]] = [[]]
    used = shown = 0
    for entry in (cut(e, ENTRY_LIMIT) for e in entries):
        if chunks[-1] and used + len(entry) + 1 > SECTION_LIMIT:
            if len(chunks) == room:
                break
            chunks.append([])
            used = 0
        chunks[-1].append(entry)
        used += len(entry) + 1
        shown += 1
    blocks += [section("\n".join(chunk)) for chunk in chunks if chunk]
    if not entries:
        blocks.append(section(f"_{esc(empty)}_"))
    elif shown < len(entries):
        blocks.append(context(f"… and {plural(len(entries) - shown, 'more ' + what)}"))
    if footer:
        blocks.append(context(footer))
    return Message(text=title, blocks=blocks)


def flags_text(role: Role) -> str:
    flags = [f"`{p.value}`" for p in Permission if getattr(role, p.value)]
    return ", ".join(flags) or "_no permissions_"


def roles_message(roles: Sequence[Role]) -> Message:
    entries = [
        f"*{esc(r.role_name)}*"
        + (f" — {esc(r.description)}" if r.description else "")
        + f"\n      {flags_text(r)}"
        for r in roles
    ]
    return entries_message(
        f"Roles ({len(roles)})",
        entries,
        what="role",
        empty="No roles yet.",
        footer=(
            "`/release admin role new` adds one; "
            "`/release admin grant @person &lt;role&gt;` gives it."
        ),
    )


def users_message(users: Sequence[User], roles: Sequence[Role]) -> Message:
    names = {r.id: r.role_name for r in roles}
    entries = []
    for user in users:
        held = ", ".join(esc(names.get(r, "unknown role")) for r in user.role_ids) or "_no roles_"
        slack = f"<@{user.slack.user_id}>" if user.slack else "_not linked to Slack_"
        entries.append(
            f"{STATUS_EMOJI[user.status]} `{esc(user.username)}` · *{esc(user.full_name)}* · "
            f"{esc(user.email)}\n      {held} · {slack} · {user.status.value}"
        )
    return entries_message(
        f"Users ({len(users)})",
        entries,
        what="user",
        empty="No users yet.",
        footer=(
            "`/release admin user new` adds one; "
            "`/release admin link @person &lt;username&gt;` links Slack."
        ),
    )


def applications_message(applications: Sequence[Application]) -> Message:
    entries = []
    for app in applications:
        products = ", ".join(f"`{esc(p.product_id)}` {esc(p.product_name)}" for p in app.products)
        tech = f" · {esc(', '.join(app.technologies))}" if app.technologies else ""
        entries.append(
            f"*{esc(app.application_name)}* (`{esc(app.application_id)}`){tech}\n      "
            + (products or "_no products_")
        )
    return entries_message(
        f"Applications ({len(applications)})",
        entries,
        what="application",
        empty="No applications yet.",
        footer="`/release admin apps new` adds one.",
    )


def squads_message(squads: Sequence[Squad]) -> Message:
    entries = [
        f"*{esc(s.squad_name)}* (`{esc(s.squad_id)}`) · boards: "
        f"{esc(', '.join(s.squad_jira_board_ids)) or '_none_'} · "
        f"{plural(len(s.member_ids), 'member')}"
        for s in squads
    ]
    return entries_message(
        f"Squads ({len(squads)})",
        entries,
        what="squad",
        empty="No squads yet.",
        footer="`/release admin squads new` adds one.",
    )


def boards_message(boards: Sequence[JiraBoard]) -> Message:
    entries = [
        f"*{esc(b.board_name)}* (`{esc(b.board_id)}`) · {esc(b.board_type)}"
        + (f" · <{esc(b.board_link)}|open>" if b.board_link else "")
        for b in boards
    ]
    return entries_message(
        f"Jira boards ({len(boards)})",
        entries,
        what="board",
        empty="No Jira boards yet.",
        footer="`/release admin boards new` adds one.",
    )


def admin_usage_message(
    usages: Sequence[tuple[str, str]], *, unknown: str | None = None
) -> Message:
    """``usages`` are (what to type after `/release admin`, what it does)."""
    blocks: list[Block] = []
    if unknown:
        blocks.append(section(f":grey_question: Unknown admin command `{esc(unknown)}`."))
    lines = [f"`/release admin {esc(usage)}` — {esc(summary)}" for usage, summary in usages]
    blocks.append(section("\n".join(["*releasebot admin* — what you can type:", *lines])))
    blocks.append(
        context(
            "Mention people with @ (`@dana`). "
            "Role names may have spaces: `grant @dana Release Manager`."
        )
    )
    return Message(text="releasebot admin usage", blocks=blocks)


def done_message(mrkdwn: str) -> Message:
    """A one-line confirmation; ``mrkdwn`` is already escaped."""
    return Message(text=plain(mrkdwn, escaped=True), blocks=[section(mrkdwn)])


def role_created_message(role: Role) -> Message:
    return done_message(
        f":white_check_mark: Role *{esc(role.role_name)}* created with {flags_text(role)}."
    )


def user_created_message(user: User, roles: Mapping[str, Role]) -> Message:
    held = ", ".join(esc(roles[r].role_name) for r in user.role_ids if r in roles) or "no roles"
    return done_message(
        f":white_check_mark: User `{esc(user.username)}` (*{esc(user.full_name)}*, "
        f"{esc(user.email)}) created with {held}. They are linked to Slack by email the first "
        "time they use the bot, or with `/release admin link @them &lt;username&gt;`."
    )


def catalog_created_message(what: str, name: str, key: str) -> Message:
    return done_message(f":white_check_mark: {what} *{esc(name)}* (`{esc(key)}`) added.")


def linked_message(slack_user_id: str, user: User) -> Message:
    return done_message(
        f":link: <@{slack_user_id}> is now linked to `{esc(user.username)}` "
        f"(*{esc(user.full_name)}*)."
    )


def unlinked_message(slack_user_id: str, user: User) -> Message:
    return done_message(
        f":broken_chain: <@{slack_user_id}> is no longer linked to `{esc(user.username)}`; "
        "the bot treats them as a stranger until they are linked again."
    )


def granted_message(slack_user_id: str, user: User, role_name: str) -> Message:
    return done_message(
        f":white_check_mark: <@{slack_user_id}> (`{esc(user.username)}`) has the role "
        f"*{esc(role_name)}*."
    )


def revoked_message(slack_user_id: str, user: User, role_name: str) -> Message:
    return done_message(
        f":heavy_minus_sign: <@{slack_user_id}> (`{esc(user.username)}`) no longer has the role "
        f"*{esc(role_name)}*."
    )


# --- API tokens ----------------------------------------------------------------------------


def token_created_message(token: ApiToken, secret: str, tz: ZoneInfo) -> Message:
    """The one time a token's secret is shown (ephemeral: to its maker only)."""
    scopes = ", ".join(f"`{s.value}`" for s in token.scopes)
    return Message(
        text=f"API token {token.name} created",
        blocks=[
            section(
                f":key: API token *{esc(token.name)}* (`{token.id}`) acts as you with {scopes}, "
                f"until {when(token.expires_at, tz)}."
            ),
            section(f"```{secret}```"),
            context(
                "Copy it now: it is shown this once and stored only as a hash. Send it as "
                "`Authorization: Bearer <token>`; revoke it with "
                f"`/release admin token revoke {token.id}`."
            ),
        ],
    )


def tokens_message(tokens: Sequence[ApiToken], tz: ZoneInfo, now: datetime) -> Message:
    def line(token: ApiToken) -> str:
        if token.revoked_at is not None:
            state = f"revoked {when(token.revoked_at, tz, zone=False)}"
        elif not token.usable_at(now):
            state = f"expired {when(token.expires_at, tz, zone=False)}"
        else:
            state = f"until {when(token.expires_at, tz, zone=False)}"
        used = when(token.last_used_at, tz, zone=False) if token.last_used_at else "never"
        scopes = ", ".join(s.value for s in token.scopes)
        return f"• *{esc(token.name)}* `{token.id}`: {scopes}; {state}; last used {used}"

    return entries_message(
        "Your API tokens",
        [line(t) for t in tokens],
        what="token",
        empty="No API tokens yet: /release admin token new <name> <scope> …",
        footer=f"Times in {esc(str(tz.key))}. Scopes: " + ", ".join(s.value for s in Scope),
    )


def token_revoked_message(token: ApiToken) -> Message:
    return done_message(
        f":no_entry_sign: API token *{esc(token.name)}* (`{token.id}`) is revoked: it is "
        "refused from now on."
    )


# --- invitations and status ----------------------------------------------------------------

INVITATION_EMOJI = {
    InvitationStatus.INVITED: ":envelope:",
    InvitationStatus.ACCEPTED: ":white_check_mark:",
    InvitationStatus.EXPIRED: ":hourglass:",
    InvitationStatus.REVOKED: ":no_entry_sign:",
}


def _granted(invitation: Invitation) -> str:
    roles = ", ".join(esc(r) for r in invitation.role_names) or "no roles"
    squads = ", ".join(f"`{esc(s)}`" for s in invitation.squad_ids)
    return roles + (f"; squads {squads}" if squads else "")


def invited_message(invitation: Invitation, tz: ZoneInfo) -> Message:
    return done_message(
        f":envelope: {esc(invitation.email)} is invited with {_granted(invitation)}, until "
        f"{when(invitation.expires_at, tz)}. The first time they use the bot with that email "
        "in Slack, their user is made (and linked); until then "
        f"`/release admin invite revoke {esc(invitation.email)}` takes it back."
    )


def already_invited_message(invitation: Invitation, tz: ZoneInfo) -> Message:
    return done_message(
        f":warning: {esc(invitation.email)} is invited already (by "
        f"{esc(invitation.invited_by_username)}, with {_granted(invitation)}), until "
        f"{when(invitation.expires_at, tz)}. Nothing was stored. To invite them otherwise, "
        f"revoke it first: `/release admin invite revoke {esc(invitation.email)}`."
    )


def invitations_message(invitations: Sequence[Invitation], tz: ZoneInfo, now: datetime) -> Message:
    def line(invitation: Invitation) -> str:
        status = invitation.status_at(now)
        if status is InvitationStatus.ACCEPTED and invitation.accepted_at is not None:
            state = f"accepted {when(invitation.accepted_at, tz, zone=False)}"
        elif status is InvitationStatus.REVOKED and invitation.revoked_at is not None:
            by = esc(invitation.revoked_by_username or "an admin")
            state = f"revoked by {by} {when(invitation.revoked_at, tz, zone=False)}"
        elif status is InvitationStatus.EXPIRED:
            state = f"expired {when(invitation.expires_at, tz, zone=False)}"
        else:
            state = f"open until {when(invitation.expires_at, tz, zone=False)}"
        return (
            f"{INVITATION_EMOJI[status]} *{esc(invitation.email)}* {status.value} — "
            f"{_granted(invitation)}; by {esc(invitation.invited_by_username)}; {state} "
            f"(`{invitation.id}`)"
        )

    return entries_message(
        "Invitations",
        [line(i) for i in invitations],
        what="invitation",
        empty="No invitations yet: /release admin invite <email> <role> …",
        footer=f"Times in {esc(str(tz.key))}. Revoke an open one: "
        "/release admin invite revoke <email or id>",
    )


def invitation_revoked_message(invitation: Invitation) -> Message:
    return done_message(
        f":no_entry_sign: The invitation for {esc(invitation.email)} is revoked: it gives "
        "nothing from now on."
    )


def disabled_message(slack_user_id: str, user: User, departure: Departure | None) -> Message:
    votes = len(departure.votes_dropped) if departure else 0
    ended = departure.delegations_ended if departure else 0
    undone = (
        f"{plural(votes, 'vote')} on pending approvals dropped, {plural(ended, 'delegation')} ended"
    )
    return done_message(
        f":no_entry_sign: <@{slack_user_id}> (`{esc(user.username)}`) is disabled: refused "
        f"everywhere from now on (commands, buttons, API tokens); {undone}. "
        f"`/release admin enable @them` gives their access back."
    )


def enabled_message(slack_user_id: str, user: User) -> Message:
    return done_message(
        f":large_green_circle: <@{slack_user_id}> (`{esc(user.username)}`) is active again, "
        "with the roles they held. Votes dropped when they were disabled stay dropped: they "
        "vote again where an approval still waits."
    )
