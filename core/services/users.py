"""Roles and users: create, list, link Slack identities, grant and revoke roles."""

from __future__ import annotations

from core.clock import Clock
from core.errors import NotFound, PermissionDenied, RuleViolation
from core.models.rbac import Permission, Role, RoleDraft, SlackIdentity, User, UserDraft, UserStatus
from core.passwords import hash_password
from core.ports import RoleRepository, UserRepository
from core.rules.permissions import Actor


class RoleService:
    def __init__(self, roles: RoleRepository, clock: Clock) -> None:
        self._roles = roles
        self._clock = clock

    async def create(self, actor: Actor, draft: RoleDraft) -> Role:
        actor.require(Permission.CAN_MANAGE_ROLES, "create a role")
        role = Role(**draft.model_dump(), created_by=actor.user_id, created_at=self._clock())
        return await self._roles.add(role)

    async def list_roles(self, actor: Actor) -> list[Role]:
        actor.require_active()
        return await self._roles.all()


class UserService:
    def __init__(self, users: UserRepository, roles: RoleRepository, clock: Clock) -> None:
        self._users = users
        self._roles = roles
        self._clock = clock

    async def create(self, actor: Actor, draft: UserDraft) -> User:
        actor.require(Permission.CAN_INVITE_USERS, "add a user")
        if draft.role_ids:
            # Inviting is not granting: roles come with the role-management flag.
            actor.require(Permission.CAN_MANAGE_ROLES, "give a new user roles")
            await self._require_roles(draft.role_ids)
        user = User(
            **draft.model_dump(exclude={"password"}),
            password_hash=hash_password(draft.password) if draft.password else None,
            created_at=self._clock(),
        )
        return await self._users.add(user)

    async def list_users(self, actor: Actor) -> list[User]:
        _require_any(
            actor, (Permission.CAN_MANAGE_ROLES, Permission.CAN_INVITE_USERS), "list users"
        )
        return await self._users.all()

    async def get(self, actor: Actor, username: str) -> User:
        actor.require_active()
        return await self._users.get_by_username(username)

    async def link_slack(self, actor: Actor, username: str, identity: SlackIdentity) -> User:
        actor.require(Permission.CAN_MANAGE_ROLES, "link a Slack person to a user")
        user = await self._users.get_by_username(username)
        return await self._users.set_slack(user.id, identity)

    async def unlink_slack(self, actor: Actor, identity: SlackIdentity) -> User:
        actor.require(Permission.CAN_MANAGE_ROLES, "unlink a Slack person")
        user = await self._users.find_by_slack(identity)
        if user is None:
            raise NotFound(f"Slack user {identity.user_id} is not linked to any portal user.")
        return await self._users.set_slack(user.id, None)

    async def grant_role(self, actor: Actor, username: str, role_name: str) -> User:
        actor.require(Permission.CAN_MANAGE_ROLES, "grant a role")
        user = await self._users.get_by_username(username)
        role = await self._roles.get(role_name)
        return await self._users.add_role(user.id, role.id)

    async def revoke_role(self, actor: Actor, username: str, role_name: str) -> User:
        actor.require(Permission.CAN_MANAGE_ROLES, "revoke a role")
        user = await self._users.get_by_username(username)
        role = await self._roles.get(role_name)
        if role.id not in user.role_ids:
            raise RuleViolation(f"User '{username}' does not have the role '{role.role_name}'.")
        await self._keep_a_role_manager(user, [r for r in user.role_ids if r != role.id])
        return await self._users.remove_role(user.id, role.id)

    async def set_status(self, actor: Actor, username: str, status: UserStatus) -> User:
        actor.require(Permission.CAN_MANAGE_ROLES, "change a user's status")
        user = await self._users.get_by_username(username)
        if status is not UserStatus.ACTIVE:
            await self._keep_a_role_manager(user, [])
        return await self._users.set_status(user.id, status)

    async def _keep_a_role_manager(self, user: User, remaining_role_ids: list[str]) -> None:
        """Refuse to take role management from the last active user who has it."""
        managers = [r.id for r in await self._roles.all() if r.can_manage_roles]
        if not set(managers) & set(user.role_ids) or set(managers) & set(remaining_role_ids):
            return
        holders = await self._users.list_with_roles(managers)
        if not any(u.id != user.id and u.status is UserStatus.ACTIVE for u in holders):
            raise RuleViolation(
                f"'{user.username}' is the last active user who can manage roles; "
                "grant that to someone else first, or nobody could administer releasebot."
            )

    async def _require_roles(self, role_ids: list[str]) -> None:
        found = {r.id for r in await self._roles.get_many(role_ids)}
        missing = [r for r in role_ids if r not in found]
        if missing:
            raise NotFound(
                f"Unknown role ids: {', '.join(missing)}.", fields={"role_ids": "Unknown role"}
            )


def _require_any(actor: Actor, permissions: tuple[Permission, ...], action: str) -> None:
    actor.require_active()
    if not any(actor.has(p) for p in permissions):
        names = " or ".join(f"'{p.value}'" for p in permissions)
        raise PermissionDenied(f"You need the {names} permission to {action}.")
