"""Who may do what: a user's flags are the OR of their roles' flags."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.errors import Kind, NotFound, PermissionDenied
from core.models.rbac import Permission, Role, User, UserStatus
from core.models.release import Release, ReleaseHead
from core.models.timeline import EventActor


def resolve_permissions(user: User, roles: list[Role]) -> frozenset[Permission]:
    """The union of the flags of the user's roles; nothing at all unless the user is ACTIVE."""
    if user.status is not UserStatus.ACTIVE:
        return frozenset()
    granted: set[Permission] = set()
    for role in roles:
        if role.id in user.role_ids:
            granted |= role.permissions()
    return frozenset(granted)


@dataclass(frozen=True)
class Actor:
    """The acting portal user with roles and permissions as resolved from storage."""

    user: User
    roles: tuple[Role, ...]
    permissions: frozenset[Permission] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "permissions", resolve_permissions(self.user, list(self.roles)))

    @property
    def user_id(self) -> str:
        return self.user.id

    @property
    def role_names(self) -> list[str]:
        return sorted(r.role_name for r in self.roles if r.id in self.user.role_ids)

    @property
    def is_active(self) -> bool:
        return self.user.status is UserStatus.ACTIVE

    def has(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission, action: str) -> None:
        """Raise PERMISSION_DENIED naming the missing flag and what to do about it."""
        self.require_active()
        if not self.has(permission):
            raise PermissionDenied(
                f"You need the '{permission.value}' permission to {action}. "
                "Ask an admin to grant you a role that has it."
            )

    def require_active(self) -> None:
        if not self.is_active:
            raise PermissionDenied(
                f"Your account '{self.user.username}' is {self.user.status.value.lower()}; "
                "ask an admin to activate it."
            )

    def can_view(self, release: ReleaseHead) -> bool:
        if not self.is_active:
            return False
        if self.has(Permission.CAN_VIEW_ALL):
            return True
        return bool(set(self.user.assigned_squad_ids) & set(release.squad_ids))

    def require_view(self, release: Release, ref: str | None = None) -> None:
        """Raise for a release this actor may not see exactly as for an unknown id (its
        squads are not disclosed); ``ref`` is what the person typed, echoed back."""
        self.require_active()
        if not self.can_view(release):
            raise unknown_release(release.release_id if ref is None else ref)

    def visible_squads(self) -> list[str] | None:
        """Squads whose releases this actor may see; None means every release."""
        if self.has(Permission.CAN_VIEW_ALL):
            return None
        return list(self.user.assigned_squad_ids)

    def as_event_actor(self) -> EventActor:
        slack = self.user.slack.user_id if self.user.slack else None
        return EventActor(user_id=self.user.id, username=self.user.username, slack_user_id=slack)


def unknown_release(ref: str) -> NotFound:
    """The one answer for a release id that names nothing *this actor* may see: unknown and
    invisible (another squad's) releases read alike, so existence is not disclosed."""
    return NotFound(
        f"No release '{str(ref).strip()}'.",
        kind=Kind.RELEASE,
        fields={"release_id": "Unknown release"},
    )


SYSTEM_USER_ID = "releasebot"


def system_actor(now: datetime) -> Actor:
    """The product itself, for what it does on its own (an approval expiring): sees every
    release, may do nothing else; the timeline names it ``releasebot``."""
    role = Role(id=SYSTEM_USER_ID, role_name="releasebot", can_view_all=True, created_at=now)
    user = User(
        id=SYSTEM_USER_ID,
        username=SYSTEM_USER_ID,
        full_name="releasebot",
        email="releasebot@example.com",
        role_ids=[role.id],
        created_at=now,
    )
    return Actor(user, (role,))
