"""Roles and users: create, list, link Slack identities, grant and revoke roles."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from pydantic import Field

from core.clock import Clock
from core.errors import Conflict, Kind, NotFound, PermissionDenied, RuleViolation, ValidationFailed
from core.models.common import DomainModel, Name
from core.models.events import PendingEvents
from core.models.rbac import Permission, Role, RoleDraft, SlackIdentity, User, UserDraft, UserStatus
from core.passwords import hash_password
from core.ports import ClaimRepository, RoleRepository, UserRepository
from core.rules.operations import ADD_USER, CREATE_ROLE
from core.rules.permissions import Actor
from core.services.departures import Departure, Departures
from core.services.outbox import Outbox, access_change
from core.suggestions import CANDIDATES, closest

# One lease serializes every change that could take the last acting administrator away.
ROLE_MANAGERS_LOCK = "rbac:role-managers"
# Held for a few round trips; long enough that it only runs out when a replica died holding it.
LOCK_LEASE = timedelta(seconds=15)
# How long to wait for another admin's change before saying "try again".
LOCK_WAIT = timedelta(seconds=2)
# Who may list users (and so be offered usernames when one is unknown).
USER_LISTERS = (Permission.CAN_MANAGE_ROLES, Permission.CAN_INVITE_USERS)


class AccessChange(DomainModel):
    """Roles to grant and to revoke (by name, any case) and a new status, judged and made as
    one change (``UserService.change_access``)."""

    grant_roles: list[Name] = Field(default_factory=list, max_length=20, description="Role names")
    revoke_roles: list[Name] = Field(default_factory=list, max_length=20, description="Role names")
    status: UserStatus | None = None


@dataclass(frozen=True)
class StatusChange:
    """A user after their status was set, and (disabled) what that undid."""

    user: User
    departure: Departure | None = None


@dataclass(frozen=True)
class RoleChange:
    """A user after a role was granted or revoked, and that role as stored (its own case)."""

    user: User
    role: Role


class RoleService:
    def __init__(self, roles: RoleRepository, clock: Clock) -> None:
        self._roles = roles
        self._clock = clock

    async def create(self, actor: Actor, draft: RoleDraft) -> Role:
        CREATE_ROLE.require(actor)
        role = Role(**draft.model_dump(), created_by=actor.user_id, created_at=self._clock())
        return await self._roles.add(role)

    async def list_roles(self, actor: Actor) -> list[Role]:
        actor.require_active()
        return await self._roles.all()


class UserService:
    """Users, their roles and their Slack link.

    **There is always an administrator who can act.** An *acting administrator* is a user who
    is ACTIVE, holds a role with ``can_manage_roles`` and is linked to Slack (an unlinked one
    cannot act from Slack). Revoking a managing role, setting a status other than ACTIVE and
    unlinking the Slack identity can each take a user out of that set; each is refused when
    it would leave the set empty. (Roles are never deleted; a role's flags change only through
    ``AccessFileService`` in ``core/services/roles.py``, which guards a role losing
    ``can_manage_roles`` under the same lease. Granting, linking and activating only grow the
    set and need no guard.)

    Why this is race-safe without transactions: the rule spans several user documents, and a
    single-document conditional update cannot see the others — two admins revoking each other
    at once would each see the other and both succeed. So every shrinking change runs under
    one lease, ``ROLE_MANAGERS_LOCK``, taken with the claims repository: ``claim`` is an
    insert on a unique key (or the takeover of an *expired* lease, an update conditioned on
    ``expires_at``), which MongoDB makes atomic on one document, so at most one holder at a
    time. Holding it, the change re-reads the target and counts the other acting
    administrators *from storage*, writes, and releases the lease in ``finally`` (the release
    is conditioned on the owner, so it never frees someone else's lease). Two shrinking
    changes therefore never interleave: the second one counts after the first one wrote.
    Changes that only grow the set (grant, link, activate) run unlocked: all they can do is
    make the count read under the lease smaller than the truth, which may refuse but never
    wrongly allows. A waiter retries with small jittered sleeps for up to ``LOCK_WAIT``, then
    gets a CONFLICT ("try again").

    What the lease assumes: it expires (``LOCK_LEASE``) only so that a replica that died
    holding it does not block role changes forever. A holder checks before writing that it
    has used less than half of the lease, so another replica can take over only from one
    that stopped, or whose single final write stalls for more than half the lease, and
    replicas' clocks must agree to within that margin. The critical section is a few round
    trips, far inside it.
    """

    def __init__(
        self,
        users: UserRepository,
        roles: RoleRepository,
        claims: ClaimRepository,
        clock: Clock,
        outbox: Outbox,
        *,
        lock_wait: timedelta = LOCK_WAIT,
        departures: Departures | None = None,
    ) -> None:
        self._departures = departures
        self._outbox = outbox
        self._users = users
        self._roles = roles
        self._claims = claims
        self._clock = clock
        self._lock_wait = lock_wait.total_seconds()

    async def create(self, actor: Actor, draft: UserDraft) -> User:
        ADD_USER.require(actor)
        if draft.role_ids:
            # Inviting is not granting: roles come with the role-management flag.
            actor.require(Permission.CAN_MANAGE_ROLES, "give a new user roles")
            await self._require_roles(draft.role_ids)
        user = User(
            **draft.model_dump(exclude={"password"}),
            password_hash=hash_password(draft.password) if draft.password else None,
            created_at=self._clock(),
        )
        if user.role_ids:
            user.outbox.append(self._caused(user, "made with roles"))
        return self._recorded(await self._users.add(user))

    async def list_users(self, actor: Actor) -> list[User]:
        _require_any(actor, USER_LISTERS, "list users")
        return await self._users.all()

    async def get(self, actor: Actor, username: str) -> User:
        actor.require_active()
        return await self._user(actor, username)

    async def link_slack(self, actor: Actor, username: str, identity: SlackIdentity) -> User:
        """Link an unlinked user. Moving a linked user to another Slack person is refused:
        it would take the account (an administrator's, say) from whoever holds it; unlinking
        first goes through the last-administrator guard."""
        actor.require(Permission.CAN_MANAGE_ROLES, "link a Slack person to a user")
        user = await self._user(actor, username)
        if user.slack is not None and user.slack != identity:
            raise RuleViolation(
                f"'{user.username}' is already linked to another Slack person "
                f"({user.slack.user_id}); unlink them first, then link again.",
                fields={"username": "Already linked to someone else"},
            )
        caused = self._caused(user, f"linked to Slack user {identity.user_id}", identity)
        return self._recorded(await self._users.set_slack(user.id, identity, caused=caused))

    async def unlink_slack(self, actor: Actor, identity: SlackIdentity) -> User:
        actor.require(Permission.CAN_MANAGE_ROLES, "unlink a Slack person")
        async with self._role_managers_locked() as lease:
            user = await self._users.find_by_slack(identity)
            if user is None:
                raise NotFound(
                    f"Slack user {identity.user_id} is not linked to any portal user, so there "
                    "is nothing to unlink.",
                    kind=Kind.USER,
                )
            await self._keep_an_acting_admin(user, user.model_copy(update={"slack": None}))
            lease.check()
            caused = self._caused(user, "unlinked from Slack", identity)
            return self._recorded(await self._users.set_slack(user.id, None, caused=caused))

    async def grant_role(self, actor: Actor, username: str, role_name: str) -> RoleChange:
        actor.require(Permission.CAN_MANAGE_ROLES, "grant a role")
        user = await self._user(actor, username)
        role = await self._role(role_name)
        caused = self._caused(user, f"granted {role.role_name}")
        granted = await self._users.add_role(user.id, role.id, caused=caused)
        return RoleChange(self._recorded(granted), role)

    async def revoke_role(self, actor: Actor, username: str, role_name: str) -> RoleChange:
        actor.require(Permission.CAN_MANAGE_ROLES, "revoke a role")
        role = await self._role(role_name)
        if not role.can_manage_roles:
            # This role makes nobody an administrator as stored now: no guard. (A roles file
            # giving it can_manage_roles at this very moment is the one unguarded race.)
            user = await self._user(actor, username)
            _require_held(user, role)
            return await self._revoked(user, role)
        async with self._role_managers_locked() as lease:
            user = await self._user(actor, username)
            _require_held(user, role)
            remaining = [r for r in user.role_ids if r != role.id]
            await self._keep_an_acting_admin(user, user.model_copy(update={"role_ids": remaining}))
            lease.check()
            return await self._revoked(user, role)

    async def set_status(self, actor: Actor, username: str, status: UserStatus) -> User:
        return (await self.change_status(actor, username, status)).user

    async def change_status(self, actor: Actor, username: str, status: UserStatus) -> StatusChange:
        """``set_status``, saying what disabling undid (``core/services/departures.py``):
        run after the write, and again on a retry (it drops nothing twice)."""
        actor.require(Permission.CAN_MANAGE_ROLES, "change a user's status")
        if status is UserStatus.ACTIVE:
            user = await self._user(actor, username)
            return StatusChange(await self._set_status(user, status))
        async with self._role_managers_locked() as lease:
            user = await self._user(actor, username)
            await self._keep_an_acting_admin(user, user.model_copy(update={"status": status}))
            lease.check()
            user = await self._set_status(user, status)
        return StatusChange(user, await self._after_status(user))

    async def change_access(self, actor: Actor, username: str, change: AccessChange) -> User:
        """Grant and revoke roles and set the status at once: every part is judged before
        anything is written — the roles exist, a revoked role is held, no role is both
        granted and revoked, and the last-administrator rule holds for the result as a
        whole — so a refusal changes nothing. Only what differs is written (a role already
        held is not granted again, the same status is not set again), in the order grants,
        revokes, status, each with the access event its single step records; a change that
        could take an administrator out is judged and written under the lease, as
        ``revoke_role`` and ``set_status`` are. An empty change returns the user as stored.

        The user repository writes one kind of access change per call, so this is up to
        three writes; each leaves a state the rule allows (grants only add, and the rule was
        judged on the final state), so only a failure of storage itself can stop it midway.
        """
        actor.require(Permission.CAN_MANAGE_ROLES, "change a user's roles or status")
        grants, revokes = await self._access_roles(change)
        status = change.status
        if not (
            any(r.can_manage_roles for r in revokes)
            or (status is not None and status is not UserStatus.ACTIVE)
        ):
            user = await self._user(actor, username)
            return await self._write_access(user, _planned(user, grants, revokes, status))
        async with self._role_managers_locked() as lease:
            user = await self._user(actor, username)
            plan = _planned(user, grants, revokes, status)
            await self._keep_an_acting_admin(user, plan.after)
            lease.check()
            user = await self._write_access(user, plan)
        if status is UserStatus.DISABLED:
            await self._after_status(user)
        return user

    async def _after_status(self, user: User) -> Departure | None:
        """Out of the lease: a disabled user's votes and delegations are undone."""
        if user.status is not UserStatus.DISABLED or self._departures is None:
            return None
        return await self._departures.after_disabled(user)

    async def _access_roles(self, change: AccessChange) -> tuple[list[Role], list[Role]]:
        """The roles granted and revoked, as stored (one read); NotFound, with the closest
        names, for the first one unknown."""
        known = await self._roles.all()
        by_name = {r.role_name.casefold(): r for r in known}

        def found(names: list[str], field: str) -> list[Role]:
            roles: dict[str, Role] = {}
            for name in names:
                role = by_name.get(name.casefold())
                if role is None:
                    raise NotFound(
                        f"No role '{name}'.",
                        kind=Kind.ROLE,
                        suggestions=closest(name, [r.role_name for r in known]),
                        fields={field: f"Unknown role '{name}'"},
                    )
                roles.setdefault(role.id, role)
            return list(roles.values())

        grants = found(change.grant_roles, "grant_roles")
        revokes = found(change.revoke_roles, "revoke_roles")
        revoked = {r.id for r in revokes}
        both = [r.role_name for r in grants if r.id in revoked]
        if both:
            raise ValidationFailed(
                f"{', '.join(both)} would be both granted and revoked; name "
                f"{'it' if len(both) == 1 else 'each'} in one list only.",
                fields={"revoke_roles": "Also granted"},
            )
        return grants, revokes

    async def _write_access(self, user: User, plan: _AccessPlan) -> User:
        for role in plan.grants:
            caused = self._caused(user, f"granted {role.role_name}")
            user = self._recorded(await self._users.add_role(user.id, role.id, caused=caused))
        for role in plan.revokes:
            user = (await self._revoked(user, role)).user
        if plan.status is not None:
            user = await self._set_status(user, plan.status)
        return user

    async def _revoked(self, user: User, role: Role) -> RoleChange:
        caused = self._caused(user, f"revoked {role.role_name}")
        revoked = await self._users.remove_role(user.id, role.id, caused=caused)
        return RoleChange(self._recorded(revoked), role)

    async def _set_status(self, user: User, status: UserStatus) -> User:
        caused = self._caused(user, f"status {status.value}")
        return self._recorded(await self._users.set_status(user.id, status, caused=caused))

    def _caused(self, user: User, change: str, slack: SlackIdentity | None = None) -> PendingEvents:
        return access_change(user, change, self._clock(), slack)

    def _recorded(self, user: User) -> User:
        """What the write caused follows, off the caller's path."""
        self._outbox.record_user(user)
        return user

    async def _user(self, actor: Actor, username: str) -> User:
        """The user with this username, ignoring case; if none, the closest usernames are
        offered to an actor who may list users (one more query, only then)."""
        try:
            return await self._users.get_by_username(username)
        except NotFound as error:
            if not any(actor.has(p) for p in USER_LISTERS):
                raise
            names = await self._users.usernames(limit=CANDIDATES)
            raise error.suggesting(closest(username, names)) from None

    async def _role(self, role_name: str) -> Role:
        """The role with this name, ignoring case; if none, the closest role names are
        offered (everyone active may list roles; one more query, only then)."""
        try:
            return await self._roles.get(role_name)
        except NotFound as error:
            names = [r.role_name for r in await self._roles.all()]
            raise error.suggesting(closest(role_name, names)) from None

    async def _keep_an_acting_admin(self, before: User, after: User) -> None:
        """Refuse a change that takes the last acting administrator out; call it locked."""
        managing = {r.id for r in await self._roles.all() if r.can_manage_roles}
        if not is_acting_admin(before, managing) or is_acting_admin(after, managing):
            return
        holders = await self._users.list_with_roles(sorted(managing))
        if not any(u.id != before.id and is_acting_admin(u, managing) for u in holders):
            raise RuleViolation(
                f"'{before.username}' is the last administrator who can manage roles from "
                "Slack; grant the Admin role to someone else (active and linked to Slack) "
                "first, or nobody could administer releasebot."
            )

    def _role_managers_locked(self) -> AbstractAsyncContextManager[Lease]:
        """Hold ``ROLE_MANAGERS_LOCK`` (see the class docstring), or raise CONFLICT."""
        return role_managers_locked(self._claims, self._clock, wait=self._lock_wait)

    async def _require_roles(self, role_ids: list[str]) -> None:
        found = {r.id for r in await self._roles.get_many(role_ids)}
        missing = [r for r in role_ids if r not in found]
        if missing:
            raise NotFound(
                f"Unknown role ids: {', '.join(missing)}.",
                kind=Kind.ROLE,
                fields={"role_ids": "Unknown role"},
            )


@asynccontextmanager
async def role_managers_locked(
    claims: ClaimRepository, clock: Clock, *, wait: float = LOCK_WAIT.total_seconds()
) -> AsyncIterator[Lease]:
    """Hold ``ROLE_MANAGERS_LOCK`` (see ``UserService``), or raise CONFLICT after ``wait``
    seconds. Every change that could take the last acting administrator away holds it:
    ``UserService``'s and a role losing ``can_manage_roles`` (``core/services/roles.py``)."""
    loop = asyncio.get_running_loop()
    owner = uuid.uuid4().hex
    deadline = loop.time() + wait
    while not await claims.claim(ROLE_MANAGERS_LOCK, now=clock(), ttl=LOCK_LEASE, owner=owner):
        if loop.time() >= deadline:
            raise Conflict(
                "Someone else is changing roles, links or user status right now; "
                "try again in a moment."
            )
        await asyncio.sleep(random.uniform(0.005, 0.05))
    try:
        yield Lease(loop, loop.time())
    finally:
        await claims.release(ROLE_MANAGERS_LOCK, owner=owner)


class Lease:
    """A held lease; ``check`` before writing refuses once too much of it has been used."""

    def __init__(self, loop: asyncio.AbstractEventLoop, acquired_at: float) -> None:
        self._loop = loop
        self._acquired_at = acquired_at

    def check(self) -> None:
        if self._loop.time() - self._acquired_at > LOCK_LEASE.total_seconds() / 2:
            raise Conflict("Changing roles took too long and was not saved; try again.")


@dataclass(frozen=True)
class _AccessPlan:
    """What an access change writes (only what differs from the user as read), and the
    user it leaves."""

    grants: list[Role]
    revokes: list[Role]
    status: UserStatus | None
    after: User


def _planned(
    user: User, grants: list[Role], revokes: list[Role], status: UserStatus | None
) -> _AccessPlan:
    for role in revokes:
        _require_held(user, role)
    granted = [r for r in grants if r.id not in user.role_ids]
    revoked = {r.id for r in revokes}
    role_ids = [r for r in user.role_ids if r not in revoked] + [r.id for r in granted]
    new_status = status if status is not None and status is not user.status else None
    after = user.model_copy(update={"role_ids": role_ids, "status": new_status or user.status})
    return _AccessPlan(granted, revokes, new_status, after)


def is_acting_admin(user: User, managing_role_ids: set[str]) -> bool:
    """ACTIVE, holding a role that can manage roles, and linked to Slack (so able to act)."""
    return (
        user.status is UserStatus.ACTIVE
        and user.slack is not None
        and bool(managing_role_ids & set(user.role_ids))
    )


def _require_held(user: User, role: Role) -> None:
    if role.id not in user.role_ids:
        raise RuleViolation(
            f"User '{user.username}' does not have the role '{role.role_name}', so there is "
            "nothing to revoke."
        )


def _require_any(actor: Actor, permissions: tuple[Permission, ...], action: str) -> None:
    actor.require_active()
    if not any(actor.has(p) for p in permissions):
        names = " or ".join(f"'{p.value}'" for p in permissions)
        raise PermissionDenied(f"You need the {names} permission to {action}.")
