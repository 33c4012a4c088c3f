"""Roles and who holds them, kept as code: what a roles file changes (``plan_access``).

A roles file names roles with their flags and users with their roles (and squads). Pure:
the stored roles, users and squads come in, the plan comes out, nothing is read or written.

What the file means:
- a role it names is created when missing; when stored, its flags become exactly the listed
  ones (and its description the file's, when the file gives one). Roles it does not name are
  left alone: the file never deletes a role.
- a user it names must exist (the file grants and revokes, it does not create people): their
  roles become exactly the listed ones, from the file or already stored; ``squads``, when
  given, become exactly those (catalog squads). Users it does not name are left alone.
Names are matched ignoring case, as storage matches them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from core.errors import Kind, NotFound, ValidationFailed
from core.models.rbac import Permission, Role, RoleDraft, RoleFlags, User
from core.suggestions import closest

# The id a role the plan creates goes by in ``AccessPlan.role_ids_after`` (it has none yet).
NEW_ROLE = "new-role:"


@dataclass(frozen=True)
class RoleEntry:
    """A role as a file names it; ``where``: how an error points at it ("line 4")."""

    name: str
    flags: frozenset[Permission]
    description: str | None = None
    where: str = ""


@dataclass(frozen=True)
class UserEntry:
    username: str
    roles: tuple[str, ...]
    squads: tuple[str, ...] | None = None  # None: the file leaves their squads alone
    where: str = ""


@dataclass(frozen=True)
class AccessFile:
    roles: tuple[RoleEntry, ...] = ()
    users: tuple[UserEntry, ...] = ()


@dataclass(frozen=True)
class RoleFlagsChange:
    """A stored role whose flags (or description) the file changes."""

    role: Role
    flags: RoleFlags
    description: str

    @property
    def added(self) -> frozenset[Permission]:
        return self.flags.permissions() - self.role.permissions()

    @property
    def removed(self) -> frozenset[Permission]:
        return self.role.permissions() - self.flags.permissions()

    @property
    def takes_role_management(self) -> bool:
        """It takes ``can_manage_roles`` away: whoever holds the role may stop being an
        administrator (judged under the role managers' lease)."""
        return Permission.CAN_MANAGE_ROLES in self.removed


@dataclass(frozen=True)
class UserChange:
    """What the file changes for one user: role names to grant and to revoke (as stored, or
    as the file spells a new role), and their squads when those change."""

    user: User
    grant: tuple[str, ...] = ()
    revoke: tuple[str, ...] = ()
    squads: tuple[str, ...] | None = None


@dataclass(frozen=True)
class AccessPlan:
    create: tuple[RoleDraft, ...] = ()
    reflag: tuple[RoleFlagsChange, ...] = ()
    users: tuple[UserChange, ...] = ()
    # After the plan: every named user's role ids (``NEW_ROLE`` + folded name for a role it
    # creates), and the ids of the roles that can manage roles.
    role_ids_after: dict[str, tuple[str, ...]] = field(default_factory=dict)
    managing_after: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        return not (self.create or self.reflag or self.users)

    def users_after(self, users: Iterable[User]) -> list[User]:
        """``users`` as the plan leaves their roles (to judge who can still administer)."""
        return [
            u.model_copy(update={"role_ids": list(self.role_ids_after[u.id])})
            if u.id in self.role_ids_after
            else u
            for u in users
        ]

    def lines(self) -> list[str]:
        """The plan in words, one change a line; "nothing to change" when in sync."""
        if self.empty:
            return ["nothing to change: storage already matches the file"]
        out = [f"create role '{d.role_name}': {_flag_names(d.permissions())}" for d in self.create]
        for change in self.reflag:
            parts = []
            if change.added:
                parts.append(f"add {_flag_names(change.added)}")
            if change.removed:
                parts.append(f"remove {_flag_names(change.removed)}")
            if change.description != change.role.description:
                parts.append(f"description '{change.description}'")
            out.append(f"change role '{change.role.role_name}': {'; '.join(parts)}")
        for user in self.users:
            parts = []
            if user.grant:
                parts.append(f"grant {', '.join(user.grant)}")
            if user.revoke:
                parts.append(f"revoke {', '.join(user.revoke)}")
            if user.squads is not None:
                before = ", ".join(user.user.assigned_squad_ids) or "none"
                parts.append(f"squads {before} -> {', '.join(user.squads) or 'none'}")
            out.append(f"user '{user.user.username}': {'; '.join(parts)}")
        return out


def flags_named(names: Sequence[str], where: str) -> frozenset[Permission]:
    """The flags these names are; an unknown one is refused, with the closest names."""
    known = {p.value: p for p in Permission}
    flags = set()
    for name in names:
        flag = known.get(str(name).strip().lower())
        if flag is None:
            near = closest(str(name), list(known))
            hint = f" Did you mean {' or '.join(near)}?" if near else ""
            raise ValidationFailed(
                f"{where}: unknown flag '{name}'. The flags are: {', '.join(known)}.{hint}",
                fields={"flags": f"Unknown flag '{name}'"},
            )
        flags.add(flag)
    return frozenset(flags)


def plan_access(
    file: AccessFile, *, roles: Sequence[Role], users: Sequence[User], squad_ids: Iterable[str]
) -> AccessPlan:
    """What applying ``file`` changes, from the stored ``roles``, ``users`` and catalog
    ``squad_ids``. Refuses (ValidationFailed, NotFound), naming the entry, a file with a
    name twice, or a user, role or squad that does not exist."""
    _require_unique([(r.name, r.where) for r in file.roles], "role")
    _require_unique([(u.username, u.where) for u in file.users], "user")
    planned = _plan_roles(file.roles, roles)
    by_name = {u.username.casefold(): u for u in users}
    known_squads = set(squad_ids)
    changes: list[UserChange] = []
    role_ids_after: dict[str, tuple[str, ...]] = {}
    for entry in file.users:
        user = by_name.get(entry.username.casefold())
        if user is None:
            raise NotFound(
                f"{entry.where}: no user '{entry.username}'. A roles file grants and revokes "
                "roles of people who already exist; add them first (or fix the name).",
                kind=Kind.USER,
                suggestions=closest(entry.username, list(by_name)),
                fields={"username": "Unknown user"},
            )
        wanted = planned.ids_of(entry, user)
        squads = _squads(entry, user, known_squads)
        held = [r for r in user.role_ids if r in planned.shown]  # unknown ids stay
        grant = [r for r in wanted if r not in user.role_ids]
        revoke = [r for r in held if r not in wanted]
        role_ids_after[user.id] = tuple([r for r in user.role_ids if r not in revoke] + grant)
        if grant or revoke or squads is not None:
            shown = planned.shown
            changes.append(
                UserChange(
                    user,
                    grant=tuple(shown[r] for r in grant),
                    revoke=tuple(shown[r] for r in revoke),
                    squads=squads,
                )
            )
    return AccessPlan(
        create=tuple(planned.create),
        reflag=tuple(planned.reflag),
        users=tuple(changes),
        role_ids_after=role_ids_after,
        managing_after=frozenset(planned.managing),
    )


@dataclass
class _PlannedRoles:
    """The roles after the file: what is created and changed, the id each (folded) name goes
    by, the name each id is shown by, and the ids of the roles that can manage roles."""

    create: list[RoleDraft]
    reflag: list[RoleFlagsChange]
    ids: dict[str, str]
    shown: dict[str, str]
    managing: set[str]

    def ids_of(self, entry: UserEntry, user: User) -> list[str]:
        """The ids of the roles the entry gives; NotFound for a name nobody defines."""
        wanted: list[str] = []
        for name in entry.roles:
            role_id = self.ids.get(name.casefold())
            if role_id is None:
                raise NotFound(
                    f"{entry.where}: user '{user.username}' is given the role '{name}', which "
                    "is neither in the file's roles nor stored; define it under roles: or fix "
                    "the name.",
                    kind=Kind.ROLE,
                    suggestions=closest(name, list(self.shown.values())),
                    fields={"roles": f"Unknown role '{name}'"},
                )
            if role_id not in wanted:
                wanted.append(role_id)
        return wanted


def _plan_roles(entries: Sequence[RoleEntry], roles: Sequence[Role]) -> _PlannedRoles:
    stored = {r.role_name.casefold(): r for r in roles}
    planned = _PlannedRoles(
        create=[],
        reflag=[],
        ids={key: r.id for key, r in stored.items()},
        shown={r.id: r.role_name for r in roles},
        managing={r.id for r in roles if r.can_manage_roles},
    )
    for entry in entries:
        key = entry.name.casefold()
        flags = RoleFlags(**{p.value: True for p in entry.flags})
        role = stored.get(key)
        if role is None:
            role_id = NEW_ROLE + key
            draft = _draft(entry, flags)
            planned.create.append(draft)
            planned.ids[key], planned.shown[role_id] = role_id, draft.role_name
        else:
            role_id = role.id
            description = role.description if entry.description is None else entry.description
            if flags.permissions() != role.permissions() or description != role.description:
                planned.reflag.append(RoleFlagsChange(role, flags, description))
        if flags.can_manage_roles:
            planned.managing.add(role_id)
        else:
            planned.managing.discard(role_id)
    return planned


def _draft(entry: RoleEntry, flags: RoleFlags) -> RoleDraft:
    try:
        return RoleDraft(
            role_name=entry.name, description=entry.description or "", **flags.model_dump()
        )
    except ValidationError as error:
        refused = ValidationFailed.from_pydantic(error)
        raise ValidationFailed(f"{entry.where}: {refused.message}", fields=refused.fields) from None


def _squads(entry: UserEntry, user: User, known: set[str]) -> tuple[str, ...] | None:
    """The user's squads after the file, when it names them and they differ."""
    if entry.squads is None:
        return None
    for squad in entry.squads:
        if squad not in known:
            raise NotFound(
                f"{entry.where}: user '{user.username}' is put in squad '{squad}', which is "
                "not in the catalog; add the squad first or fix the id.",
                kind=Kind.SQUAD,
                suggestions=closest(squad, sorted(known)),
                fields={"squads": f"Unknown squad '{squad}'"},
            )
    wanted = tuple(dict.fromkeys(entry.squads))
    return None if set(wanted) == set(user.assigned_squad_ids) else wanted


def _require_unique(names: Sequence[tuple[str, str]], what: str) -> None:
    first: dict[str, str] = {}
    for name, where in names:
        key = name.casefold()
        if key in first:
            raise ValidationFailed(
                f"{where}: the {what} '{name}' is named twice (first at {first[key]}); "
                f"name each {what} once.",
                fields={what: "Named twice"},
            )
        first[key] = where


def _flag_names(flags: Iterable[Permission]) -> str:
    names = sorted(p.value for p in flags)
    return ", ".join(names) if names else "no flags"
