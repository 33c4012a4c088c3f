"""Roles and who holds them, kept as code: plan and apply a roles file (``AccessFileService``).

The file's meaning and the plan are pure (``core/rules/rbac_plan.py``); here the plan is
judged against the last-administrator rule and carried out through the same operations the
bot uses, so the same consequences follow (an ``AccessChanged`` in each user's outbox).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from core.clock import Clock
from core.errors import RuleViolation
from core.models.catalog import Squad
from core.models.events import PendingEvents
from core.models.rbac import Permission, Role, RoleFlags, User
from core.ports import ClaimRepository, KeyedRepository, RoleRepository, UserRepository
from core.rules.permissions import Actor
from core.rules.rbac_plan import AccessFile, AccessPlan, RoleFlagsChange, plan_access
from core.services.outbox import Outbox, access_change
from core.services.users import (
    AccessChange,
    RoleService,
    UserService,
    is_acting_admin,
    role_managers_locked,
)

log = logging.getLogger(__name__)


class AccessEdits(Protocol):
    """The writes a roles file needs beyond ``UserRepository`` and ``RoleRepository``
    (storage: ``storage/repositories/access_edits.py``)."""

    async def set_role_flags(self, role_id: str, flags: RoleFlags, description: str) -> Role:
        """Set every flag and the description of a stored role; NotFound if it is gone."""
        ...

    async def set_squads(
        self, user_id: str, squad_ids: Sequence[str], *, caused: PendingEvents
    ) -> User:
        """Set the user's squads, with what that caused added to their outbox: one write."""
        ...

    async def add_to_outbox(self, user_id: str, caused: PendingEvents) -> User:
        """Add what a change elsewhere (their role's flags) caused to the user's outbox."""
        ...


class AccessFileService:
    """Plan and apply a roles file, as an administrator (``can_manage_roles``).

    ``apply`` judges the whole plan first — the file's names exist, and if an acting
    administrator (``is_acting_admin``) exists now, one still does after the plan — so a
    refused file changes nothing. It then writes in the order that never leaves fewer
    administrators midway: new roles, flags given, roles granted, squads, roles revoked,
    flags taken. Each step is still judged on its own as it is written: grants and revokes go
    through ``UserService.change_access`` (its last-administrator guard, under the role
    managers' lease), and a role losing ``can_manage_roles`` is judged again under that
    lease. So a change made by someone else meanwhile may stop an apply midway, with the
    steps before it written; applying the file again finishes it (a plan is idempotent).
    """

    def __init__(
        self,
        *,
        roles: RoleRepository,
        users: UserRepository,
        squads: KeyedRepository[Squad],
        claims: ClaimRepository,
        edits: AccessEdits,
        role_service: RoleService,
        user_service: UserService,
        outbox: Outbox,
        clock: Clock,
    ) -> None:
        self._roles = roles
        self._users = users
        self._squads = squads
        self._claims = claims
        self._edits = edits
        self._role_service = role_service
        self._user_service = user_service
        self._outbox = outbox
        self._clock = clock

    async def plan(self, actor: Actor, file: AccessFile) -> AccessPlan:
        """What applying ``file`` would change; nothing is written."""
        actor.require(Permission.CAN_MANAGE_ROLES, "apply a roles file")
        roles, users = await self._roles.all(), await self._users.all()
        squads = [s.squad_id for s in await self._squads.all()]
        plan = plan_access(file, roles=roles, users=users, squad_ids=squads)
        _keep_an_acting_admin(plan, roles, users)
        return plan

    async def apply(self, actor: Actor, file: AccessFile) -> AccessPlan:
        """Carry out the plan (see the class docstring); the plan that was applied."""
        plan = await self.plan(actor, file)
        for draft in plan.create:
            await self._role_service.create(actor, draft)
        for change in plan.reflag:
            if not change.takes_role_management:
                await self._set_flags(actor, change)
        for user in plan.users:
            if user.grant:
                grant = AccessChange(grant_roles=list(user.grant))
                await self._user_service.change_access(actor, user.user.username, grant)
        for user in plan.users:
            if user.squads is not None:
                await self._set_squads(user.user, user.squads)
        for user in plan.users:
            if user.revoke:
                revoke = AccessChange(revoke_roles=list(user.revoke))
                await self._user_service.change_access(actor, user.user.username, revoke)
        for change in plan.reflag:
            if change.takes_role_management:
                async with role_managers_locked(self._claims, self._clock) as lease:
                    await self._require_admin_left_without(change.role)
                    lease.check()
                    await self._set_flags(actor, change)
        return plan

    async def _set_flags(self, actor: Actor, change: RoleFlagsChange) -> None:
        """Write the role, then each holder: an AccessChanged in their outbox and
        ``access_changed_at`` (one write per holder), so that every replica that kept the
        roles reads them again for that holder's next request (``IdentityService``). Not one
        write: a crash between them leaves some holders unstamped, and a replica that read
        the roles before keeps their old flags for them until it restarts."""
        role = await self._edits.set_role_flags(change.role.id, change.flags, change.description)
        log.info(
            "role %s changed by %s: added %s, removed %s",
            role.role_name,
            actor.user.username,
            sorted(p.value for p in change.added),
            sorted(p.value for p in change.removed),
        )
        if not (change.added or change.removed):
            return  # the description only: nobody's access changed
        words = _flag_words(change)
        for holder in await self._users.list_with_roles([role.id]):
            caused = access_change(holder, f"role {role.role_name} {words}", self._clock())
            self._outbox.record_user(await self._edits.add_to_outbox(holder.id, caused))

    async def _set_squads(self, user: User, squads: Sequence[str]) -> None:
        caused = access_change(user, f"squads set to {', '.join(squads) or 'none'}", self._clock())
        self._outbox.record_user(await self._edits.set_squads(user.id, squads, caused=caused))

    async def _require_admin_left_without(self, role: Role) -> None:
        """Under the lease: refuse taking ``can_manage_roles`` from ``role`` if that leaves
        no acting administrator, counted from storage now."""
        managing = {r.id for r in await self._roles.all() if r.can_manage_roles}
        holders = await self._users.list_with_roles(sorted(managing))
        before = [u.username for u in holders if is_acting_admin(u, managing)]
        left = managing - {role.id}
        if before and not any(is_acting_admin(u, left) for u in holders):
            raise RuleViolation(_last_admin_message(before, f"role '{role.role_name}'"))


def _keep_an_acting_admin(plan: AccessPlan, roles: Sequence[Role], users: Sequence[User]) -> None:
    """Refuse a plan that leaves no acting administrator where there is one now."""
    managing = {r.id for r in roles if r.can_manage_roles}
    before = [u.username for u in users if is_acting_admin(u, managing)]
    after = plan.users_after(users)
    if before and not any(is_acting_admin(u, set(plan.managing_after)) for u in after):
        raise RuleViolation(_last_admin_message(before, "file"))


def _last_admin_message(admins: Sequence[str], what: str) -> str:
    names = ", ".join(f"'{a}'" for a in admins)
    return (
        f"This {what} would leave no administrator who can manage roles from Slack (now: "
        f"{names}); keep a role with can_manage_roles (such as Admin) for someone active and "
        "linked to Slack, or nobody could administer releasebot."
    )


def _flag_words(change: RoleFlagsChange) -> str:
    parts = []
    if change.added:
        parts.append("gained " + ", ".join(sorted(p.value for p in change.added)))
    if change.removed:
        parts.append("lost " + ", ".join(sorted(p.value for p in change.removed)))
    return " and ".join(parts)
