"""Roles, users and the catalog for admins' automation: the same core calls as the
`/release admin …` forms (bot/views/admin.py) and commands, with their permission checks
(the last-administrator rule included). Every route needs the ``admin`` scope."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from bot.api.routing import Call, Route
from core.errors import ValidationFailed
from core.models.catalog import (
    Application,
    ApplicationDraft,
    JiraBoard,
    JiraBoardDraft,
    Squad,
    SquadDraft,
)
from core.models.invitation import Invitation, InvitationDraft, InvitationStatus
from core.models.rbac import Role, RoleDraft, User, UserDraft, UserStatus
from core.rules.principal import Scope
from core.services.container import Services
from core.services.users import AccessChange

RBAC_TAG = "admin: roles and users"
CATALOG_TAG = "admin: catalog"
USER_PARAM = {"user": "The user's username, any case"}
INVITATION_PARAM = {"id": "The invitation's id (from GET /api/v1/invitations)"}


class RoleList(BaseModel):
    items: list[Role]


class UserAdminView(BaseModel):
    """A user as an admin sees them: never their password hash."""

    id: str
    username: str
    full_name: str
    email: str
    status: UserStatus
    roles: list[str] = Field(description="The names of the roles held")
    role_ids: list[str]
    assigned_squad_ids: list[str]
    slack_user_id: str | None = Field(description="The Slack person linked, if any")
    time_zone: str | None
    created_at: datetime

    @classmethod
    def of(cls, user: User, roles: list[Role]) -> UserAdminView:
        names = {r.id: r.role_name for r in roles}
        return cls(
            id=user.id,
            username=user.username,
            full_name=user.full_name,
            email=user.email,
            status=user.status,
            roles=sorted(names[r] for r in user.role_ids if r in names),
            role_ids=list(user.role_ids),
            assigned_squad_ids=list(user.assigned_squad_ids),
            slack_user_id=user.slack.user_id if user.slack else None,
            time_zone=user.time_zone,
            created_at=user.created_at,
        )


class UserList(BaseModel):
    items: list[UserAdminView]


class UserChangeBody(AccessChange):
    """Judged as a whole, then made: an unknown role, a revoked role not held, a role both
    granted and revoked, or a result that leaves no administrator who can act (409) is
    refused before anything changes."""


class InvitationView(Invitation):
    """An invitation with its status now (EXPIRED: open no more, past ``expires_at``)."""

    status: InvitationStatus

    @classmethod
    def of(cls, invitation: Invitation, now: datetime) -> InvitationView:
        return cls(**invitation.model_dump(), status=invitation.status_at(now))


class InvitationList(BaseModel):
    items: list[InvitationView]


class ApplicationList(BaseModel):
    items: list[Application]


class SquadList(BaseModel):
    items: list[Squad]


class BoardList(BaseModel):
    items: list[JiraBoard]


def admin_routes(services: Services) -> list[Route]:
    roles, users, catalog = services.roles, services.users, services.catalog
    invitations = services.invitations

    async def list_roles(call: Call) -> RoleList:
        return RoleList(items=await roles.list_roles(call.actor))

    async def create_role(call: Call) -> Role:
        return await roles.create(call.actor, call.body(RoleDraft))

    async def list_users(call: Call) -> UserList:
        found = await users.list_users(call.actor)
        known = await roles.list_roles(call.actor)
        return UserList(items=[UserAdminView.of(u, known) for u in found])

    async def create_user(call: Call) -> UserAdminView:
        known = await roles.list_roles(call.actor)  # read first: a failure changes nothing
        user = await users.create(call.actor, call.body(UserDraft))
        return UserAdminView.of(user, known)

    async def change_user(call: Call) -> UserAdminView:
        body = call.body(UserChangeBody)
        if not (body.grant_roles or body.revoke_roles or body.status):
            raise ValidationFailed(
                "Nothing to change: give grant_roles, revoke_roles or status.",
                fields={"body": "Give grant_roles, revoke_roles or status"},
            )
        user = await users.change_access(call.actor, call.params["user"], body)
        return UserAdminView.of(user, await roles.list_roles(call.actor))

    async def invite(call: Call) -> InvitationView:
        invitation = await invitations.invite(call.actor, call.body(InvitationDraft))
        return InvitationView.of(invitation, invitations.now())

    async def list_invitations(call: Call) -> InvitationList:
        found = await invitations.list_invitations(call.actor)
        now = invitations.now()
        return InvitationList(items=[InvitationView.of(i, now) for i in found])

    async def revoke_invitation(call: Call) -> InvitationView:
        invitation = await invitations.revoke(call.actor, call.params["id"])
        return InvitationView.of(invitation, invitations.now())

    async def list_applications(call: Call) -> ApplicationList:
        return ApplicationList(items=await catalog.applications(call.actor))

    async def create_application(call: Call) -> Application:
        return await catalog.create_application(call.actor, call.body(ApplicationDraft))

    async def list_squads(call: Call) -> SquadList:
        return SquadList(items=await catalog.squads(call.actor))

    async def create_squad(call: Call) -> Squad:
        return await catalog.create_squad(call.actor, call.body(SquadDraft))

    async def list_boards(call: Call) -> BoardList:
        return BoardList(items=await catalog.boards(call.actor))

    async def create_board(call: Call) -> JiraBoard:
        return await catalog.create_board(call.actor, call.body(JiraBoardDraft))

    admin = Scope.ADMIN

    return [
        Route(
            "GET",
            "/api/v1/roles",
            list_roles,
            "Every role",
            RBAC_TAG,
            scope=admin,
            response=RoleList,
        ),
        Route(
            "POST",
            "/api/v1/roles",
            create_role,
            "Create a role",
            RBAC_TAG,
            scope=admin,
            body=RoleDraft,
            response=Role,
            status=201,
            description="Needs can_manage_roles. Roles are never edited or deleted.",
        ),
        Route(
            "GET",
            "/api/v1/users",
            list_users,
            "Every user",
            RBAC_TAG,
            scope=admin,
            response=UserList,
            description="Needs can_manage_roles or can_invite_users.",
        ),
        Route(
            "POST",
            "/api/v1/users",
            create_user,
            "Add a user",
            RBAC_TAG,
            scope=admin,
            body=UserDraft,
            response=UserAdminView,
            status=201,
            description="Needs can_invite_users; giving roles also needs can_manage_roles. "
            "With a password the user can sign in to the API; it is stored only as a hash.",
        ),
        Route(
            "PATCH",
            "/api/v1/users/{user}",
            change_user,
            "Grant or revoke a user's roles, or change their status",
            RBAC_TAG,
            scope=admin,
            body=UserChangeBody,
            response=UserAdminView,
            params=USER_PARAM,
            description="Needs can_manage_roles. There is always an administrator who can act: "
            "a change that would leave none is refused (409). Disabling a user drops their "
            "votes on pending approvals (recorded in each release's timeline) and ends their "
            "delegations and those naming them; enabling again does not bring votes back.",
        ),
        Route(
            "GET",
            "/api/v1/invitations",
            list_invitations,
            "Invitations, the newest first, with their status",
            RBAC_TAG,
            scope=admin,
            response=InvitationList,
            description="Needs can_invite_users.",
        ),
        Route(
            "POST",
            "/api/v1/invitations",
            invite,
            "Invite someone by email with roles and squads",
            RBAC_TAG,
            scope=admin,
            body=InvitationDraft,
            response=InvitationView,
            status=201,
            description="Needs can_invite_users; roles also need can_manage_roles. Refused "
            "(nothing stored) for an email that is a user already or has an open invitation, "
            "and for an unknown role or squad. The invited person's user is made, with these "
            "roles and squads, the first time they use the bot with that email in Slack, "
            "while the invitation is open (INVITATION_TTL_HOURS, 72 by default).",
        ),
        Route(
            "DELETE",
            "/api/v1/invitations/{id}",
            revoke_invitation,
            "Revoke an open invitation",
            RBAC_TAG,
            scope=admin,
            response=InvitationView,
            params=INVITATION_PARAM,
            description="Needs can_invite_users. An accepted, expired or revoked invitation "
            "is refused (422), saying which.",
        ),
        Route(
            "GET",
            "/api/v1/applications",
            list_applications,
            "The catalog's applications with their products",
            CATALOG_TAG,
            scope=admin,
            response=ApplicationList,
        ),
        Route(
            "POST",
            "/api/v1/applications",
            create_application,
            "Add an application to the catalog",
            CATALOG_TAG,
            scope=admin,
            body=ApplicationDraft,
            response=Application,
            status=201,
        ),
        Route(
            "GET",
            "/api/v1/squads",
            list_squads,
            "The catalog's squads",
            CATALOG_TAG,
            scope=admin,
            response=SquadList,
        ),
        Route(
            "POST",
            "/api/v1/squads",
            create_squad,
            "Add a squad to the catalog",
            CATALOG_TAG,
            scope=admin,
            body=SquadDraft,
            response=Squad,
            status=201,
        ),
        Route(
            "GET",
            "/api/v1/boards",
            list_boards,
            "The catalog's Jira boards",
            CATALOG_TAG,
            scope=admin,
            response=BoardList,
        ),
        Route(
            "POST",
            "/api/v1/boards",
            create_board,
            "Add a Jira board to the catalog",
            CATALOG_TAG,
            scope=admin,
            body=JiraBoardDraft,
            response=JiraBoard,
            status=201,
        ),
    ]
