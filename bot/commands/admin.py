"""`/release admin …`: roles, users, Slack links and the catalog. The core checks every
permission (can_manage_roles, can_invite_users); a form is refused before it opens, by the
same core rule (core/rules/operations.py) that refuses saving it."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_sdk.models.views import View

from blocks.admin import (
    admin_usage_message,
    already_invited_message,
    applications_message,
    boards_message,
    disabled_message,
    enabled_message,
    granted_message,
    invitation_revoked_message,
    invitations_message,
    invited_message,
    linked_message,
    revoked_message,
    roles_message,
    squads_message,
    token_created_message,
    token_revoked_message,
    tokens_message,
    unlinked_message,
    users_message,
)
from blocks.ids import CallbackId
from blocks.message import Message
from blocks.modals.admin import (
    AdminForm,
    application_modal,
    board_modal,
    role_modal,
    squad_modal,
    user_modal,
)
from bot.commands.router import CommandRequest, Router, mentioned_user
from bot.modals import open_modal, show_modal
from core.errors import NotFound, ValidationFailed
from core.models.common import parse
from core.models.invitation import InvitationDraft
from core.models.rbac import SlackIdentity, User, UserStatus
from core.rules import operations as ops
from core.rules.principal import Principal
from core.services.invitations import AlreadyInvited

USAGE = (
    "roles | role new | users | user new | link @user <username> | unlink @user | "
    "grant @user <role> | revoke @user <role> | apps | apps new | squads | squads new | "
    "boards | boards new | tokens | token new <name> <scope>… [days] | token revoke <id> | "
    "invite <email> <role>… [squad:<id>…] | invitations | invite revoke <email|id> | "
    "disable @user | enable @user"
)
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")

Action = Callable[[CommandRequest, list[str]], Awaitable[None]]


@dataclass(frozen=True)
class AdminCommand:
    words: tuple[str, ...]
    usage: str
    summary: str
    run: Action


def register(router: Router) -> None:
    @router.add("admin", USAGE, "roles, users, Slack links and the catalog (admins)")
    async def admin(request: CommandRequest) -> None:
        args = join_mentions(request.args)
        words = tuple(a.lower() for a in args[:2])
        command = _find(words)
        if command is None:
            unknown = " ".join(args[:2]) or None
            message = admin_usage_message([(c.usage, c.summary) for c in COMMANDS], unknown=unknown)
            await _reply(request, message)
            return
        await command.run(request, args[len(command.words) :])


def join_mentions(args: list[str]) -> list[str]:
    """Put back a mention the word splitter cut at a space (``<@U1|dana weiss>``)."""
    joined: list[str] = []
    for arg in args:
        if joined and joined[-1].startswith("<@") and not joined[-1].endswith(">"):
            joined[-1] += f" {arg}"
        else:
            joined.append(arg)
    return joined


def _find(words: tuple[str, ...]) -> AdminCommand | None:
    for command in COMMANDS_BY_LENGTH:
        if words[: len(command.words)] == command.words:
            return command
    for aliases, command in ALIASES:
        if words[: len(aliases)] == aliases:
            return command
    return None


async def _reply(request: CommandRequest, message: Message) -> None:
    await request.respond(**message.to_dict(), response_type="ephemeral", replace_original=False)


def _slack_person(request: CommandRequest, args: list[str], usage: str) -> SlackIdentity:
    token = args[0] if args else ""
    user_id = mentioned_user(token) or (token if _SLACK_ID.match(token) else None)
    if user_id is None:
        shown = f"`{token}` is not" if token else "Missing"
        raise ValidationFailed(
            f"{shown} a Slack mention such as @dana. Usage: `/release admin {usage}`",
            fields={"slack_user_id": "Mention the person"},
        )
    return parse(SlackIdentity, {"team_id": request.team_id, "user_id": user_id})


def _rest(args: list[str], what: str, usage: str) -> str:
    text = " ".join(args).strip()
    if not text:
        raise ValidationFailed(f"Missing {what}. Usage: `/release admin {usage}`")
    return text


async def _linked_user(request: CommandRequest, identity: SlackIdentity) -> User:
    """The portal user linked to this Slack person: one who never wrote to the bot is looked
    up in Slack and linked by email, exactly as on their own first contact."""
    resolved = await request.deps.identities.resolve(request.client, identity.user_id)
    actor = resolved.actor
    if actor is None:
        raise NotFound(
            f"That Slack person ({identity.user_id}) is not linked to a releasebot user. "
            "Link them first: `/release admin link @them <username>`."
        )
    return actor.user


# --- lists --------------------------------------------------------------------------------


async def list_roles(request: CommandRequest, _args: list[str]) -> None:
    roles = await request.deps.services.roles.list_roles(request.user)
    await _reply(request, roles_message(roles))


async def list_users(request: CommandRequest, _args: list[str]) -> None:
    services = request.deps.services
    users = await services.users.list_users(request.user)
    await _reply(request, users_message(users, await services.roles.list_roles(request.user)))


async def list_applications(request: CommandRequest, _args: list[str]) -> None:
    applications = await request.deps.services.catalog.applications(request.user)
    await _reply(request, applications_message(applications))


async def list_squads(request: CommandRequest, _args: list[str]) -> None:
    await _reply(request, squads_message(await request.deps.services.catalog.squads(request.user)))


async def list_boards(request: CommandRequest, _args: list[str]) -> None:
    await _reply(request, boards_message(await request.deps.services.catalog.boards(request.user)))


# --- links and roles ----------------------------------------------------------------------


async def link(request: CommandRequest, args: list[str]) -> None:
    usage = "link @user <username>"
    identity = _slack_person(request, args, usage)
    username = _rest(args[1:], "a username", usage)
    user = await request.deps.services.users.link_slack(request.user, username, identity)
    await _reply(request, linked_message(identity.user_id, user))


async def unlink(request: CommandRequest, args: list[str]) -> None:
    identity = _slack_person(request, args, "unlink @user")
    user = await request.deps.services.users.unlink_slack(request.user, identity)
    await _reply(request, unlinked_message(identity.user_id, user))


async def grant(request: CommandRequest, args: list[str]) -> None:
    usage = "grant @user <role>"
    identity = _slack_person(request, args, usage)
    role_name = _rest(args[1:], "a role name", usage)
    target = await _linked_user(request, identity)
    change = await request.deps.services.users.grant_role(request.user, target.username, role_name)
    await _reply(request, granted_message(identity.user_id, change.user, change.role.role_name))


async def revoke(request: CommandRequest, args: list[str]) -> None:
    usage = "revoke @user <role>"
    identity = _slack_person(request, args, usage)
    role_name = _rest(args[1:], "a role name", usage)
    target = await _linked_user(request, identity)
    change = await request.deps.services.users.revoke_role(request.user, target.username, role_name)
    await _reply(request, revoked_message(identity.user_id, change.user, change.role.role_name))


# --- forms --------------------------------------------------------------------------------


def _form_origin(request: CommandRequest) -> AdminForm:
    response_url = request.body.get("response_url")
    return AdminForm(
        channel_id=request.channel_id or None,
        response_url=str(response_url) if response_url else None,
    )


async def _open(request: CommandRequest, view: View) -> None:
    await show_modal(request.client, request.trigger_id, view)


async def new_role(request: CommandRequest, _args: list[str]) -> None:
    ops.CREATE_ROLE.require(request.user)
    await _open(request, role_modal(_form_origin(request)))


async def new_user(request: CommandRequest, _args: list[str]) -> None:
    actor = request.user
    ops.ADD_USER.require(actor)
    services = request.deps.services

    async def form() -> View:
        roles = await services.roles.list_roles(actor)
        return user_modal(_form_origin(request), roles, await services.catalog.squads(actor))

    await open_modal(
        request.client,
        request.trigger_id,
        "New user",
        CallbackId.NEW_USER,
        "roles and squads",
        form,
    )


async def new_application(request: CommandRequest, _args: list[str]) -> None:
    ops.ADD_APPLICATION.require(request.user)
    await _open(request, application_modal(_form_origin(request)))


async def new_squad(request: CommandRequest, _args: list[str]) -> None:
    actor = request.user
    ops.ADD_SQUAD.require(actor)

    async def form() -> View:
        boards = await request.deps.services.catalog.boards(actor)
        return squad_modal(_form_origin(request), boards)

    await open_modal(
        request.client, request.trigger_id, "New squad", CallbackId.NEW_SQUAD, "the people", form
    )


async def new_board(request: CommandRequest, _args: list[str]) -> None:
    ops.ADD_BOARD.require(request.user)
    await _open(request, board_modal(_form_origin(request)))


# --- API tokens: the core's AuthService, as a person signed in (the admin themself) -------

_DAYS = re.compile(r"^([0-9]{1,4})d?$")


async def list_tokens(request: CommandRequest, _args: list[str]) -> None:
    ops.MANAGE_API_TOKENS.require(request.user)
    tokens = await request.deps.services.auth.list_tokens(Principal(request.user))
    await _reply(request, tokens_message(tokens, request.tz, request.deps.clock()))


async def new_token(request: CommandRequest, args: list[str]) -> None:
    """``token new <name> <scope>… [days]``: scopes by spaces or commas, days last."""
    ops.MANAGE_API_TOKENS.require(request.user)
    usage = "token new <name> <scope>… [days]"
    name = _rest(args[:1], "the token's name", usage)
    words = [w for arg in args[1:] for w in arg.split(",") if w]
    days = _DAYS.match(words[-1]) if words else None
    scopes = words[:-1] if days else words
    if not scopes:
        raise ValidationFailed(
            f"Name at least one scope, e.g. releases:read gates:write. Usage: "
            f"`/release admin {usage}`",
            fields={"scopes": "At least one scope"},
        )
    auth, person = request.deps.services.auth, Principal(request.user)
    if days:
        token, secret = await auth.create_token(person, name, scopes, int(days[1]))
    else:
        token, secret = await auth.create_token(person, name, scopes)
    await _reply(request, token_created_message(token, secret, request.tz))


async def revoke_token(request: CommandRequest, args: list[str]) -> None:
    ops.MANAGE_API_TOKENS.require(request.user)
    token_id = _rest(args[:1], "the token's id", "token revoke <id>")
    token = await request.deps.services.auth.revoke_token(Principal(request.user), token_id)
    await _reply(request, token_revoked_message(token))


# --- invitations and status: the core's InvitationService and UserService ----------------

_MAILTO = re.compile(r"^<mailto:([^|>]+)(?:\|[^>]*)?>$")
_SQUAD = "squad:"


def _email(token: str) -> str:
    """An email as typed; Slack sends one it made a link of as ``<mailto:a@b|a@b>``."""
    match = _MAILTO.match(token)
    return match.group(1) if match else token


async def invite(request: CommandRequest, args: list[str]) -> None:
    """``invite <email> <role>… [squad:<id>…]``: roles and squads by spaces or commas, a
    role with spaces in double quotes."""
    usage = "invite <email> <role>… [squad:<id>…]"
    email = _email(_rest(args[:1], "the email to invite", usage))
    words = [w.strip() for arg in args[1:] for w in arg.split(",") if w.strip()]
    squads = [w[len(_SQUAD) :] for w in words if w.lower().startswith(_SQUAD)]
    roles = [w for w in words if not w.lower().startswith(_SQUAD)]
    draft = parse(InvitationDraft, {"email": email, "roles": roles, "squad_ids": squads})
    try:
        invitation = await request.deps.services.invitations.invite(request.user, draft)
    except AlreadyInvited as already:
        await _reply(request, already_invited_message(already.invitation, request.tz))
        return
    await _reply(request, invited_message(invitation, request.tz))


async def list_invitations(request: CommandRequest, _args: list[str]) -> None:
    invitations = await request.deps.services.invitations.list_invitations(request.user)
    await _reply(request, invitations_message(invitations, request.tz, request.deps.clock()))


async def revoke_invitation(request: CommandRequest, args: list[str]) -> None:
    which = _email(_rest(args[:1], "the email or id", "invite revoke <email|id>"))
    invitation = await request.deps.services.invitations.revoke(request.user, which)
    await _reply(request, invitation_revoked_message(invitation))


async def disable(request: CommandRequest, args: list[str]) -> None:
    identity = _slack_person(request, args, "disable @user")
    target = await _linked_user(request, identity)
    users = request.deps.services.users
    change = await users.change_status(request.user, target.username, UserStatus.DISABLED)
    await _reply(request, disabled_message(identity.user_id, change.user, change.departure))


async def enable(request: CommandRequest, args: list[str]) -> None:
    identity = _slack_person(request, args, "enable @user")
    target = await _linked_user(request, identity)
    users = request.deps.services.users
    change = await users.change_status(request.user, target.username, UserStatus.ACTIVE)
    await _reply(request, enabled_message(identity.user_id, change.user))


COMMANDS = (
    AdminCommand(("roles",), "roles", "the roles and their permissions", list_roles),
    AdminCommand(("role", "new"), "role new", "create a role (form)", new_role),
    AdminCommand(("users",), "users", "users, their roles, Slack links and status", list_users),
    AdminCommand(("user", "new"), "user new", "add a user (form)", new_user),
    AdminCommand(("link",), "link @user <username>", "link a Slack person to a user", link),
    AdminCommand(("unlink",), "unlink @user", "remove a Slack person's link", unlink),
    AdminCommand(("grant",), "grant @user <role>", "give a linked person a role", grant),
    AdminCommand(("revoke",), "revoke @user <role>", "take a role away", revoke),
    AdminCommand(("apps",), "apps", "applications and their products", list_applications),
    AdminCommand(("apps", "new"), "apps new", "add an application (form)", new_application),
    AdminCommand(("squads",), "squads", "squads and their Jira boards", list_squads),
    AdminCommand(("squads", "new"), "squads new", "add a squad (form)", new_squad),
    AdminCommand(("boards",), "boards", "Jira boards", list_boards),
    AdminCommand(("boards", "new"), "boards new", "add a Jira board (form)", new_board),
    AdminCommand(("tokens",), "tokens", "your API tokens", list_tokens),
    AdminCommand(
        ("token", "new"),
        "token new <name> <scope>… [days]",
        "make an API token acting as you (shown once, to you only)",
        new_token,
    ),
    AdminCommand(("token", "revoke"), "token revoke <id>", "revoke an API token", revoke_token),
    AdminCommand(
        ("invite",),
        "invite <email> <role>… [squad:<id>…]",
        "invite someone by email (their user is made when they first use the bot)",
        invite,
    ),
    AdminCommand(
        ("invite", "revoke"),
        "invite revoke <email|id>",
        "take back an open invitation",
        revoke_invitation,
    ),
    AdminCommand(("invitations",), "invitations", "invitations and their status", list_invitations),
    AdminCommand(
        ("disable",),
        "disable @user",
        "refuse a person everywhere; their pending votes and delegations end",
        disable,
    ),
    AdminCommand(("enable",), "enable @user", "give a disabled person their access back", enable),
)
# Longer forms first, so "apps new" is not read as "apps".
COMMANDS_BY_LENGTH = sorted(COMMANDS, key=lambda c: -len(c.words))
_BY_USAGE = {c.usage: c for c in COMMANDS}
ALIASES: tuple[tuple[tuple[str, ...], AdminCommand], ...] = (
    (("roles", "new"), _BY_USAGE["role new"]),
    (("users", "new"), _BY_USAGE["user new"]),
    (("app", "new"), _BY_USAGE["apps new"]),
    (("applications", "new"), _BY_USAGE["apps new"]),
    (("squad", "new"), _BY_USAGE["squads new"]),
    (("board", "new"), _BY_USAGE["boards new"]),
    (("applications",), _BY_USAGE["apps"]),
    (("token", "list"), _BY_USAGE["tokens"]),
    (("tokens", "new"), _BY_USAGE["token new <name> <scope>… [days]"]),
)
