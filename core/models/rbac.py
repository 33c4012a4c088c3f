"""Roles, users and their Slack identity."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import EmailStr, Field, field_validator

from core.models.common import DomainModel, Entity, Key, Name, Text, UtcDatetime
from core.models.events import PendingEvents


class Permission(StrEnum):
    """A role flag. The value is the flag's field name on Role."""

    IS_APPROVAL_MANAGER = "is_approval_manager"
    CAN_CREATE_RELEASE = "can_create_release"
    CAN_EDIT_RELEASE_DESCRIPTION = "can_edit_release_description"
    CAN_DEFINE_FIXED_VERSIONS = "can_define_fixed_versions"
    CAN_MANAGE_RUNBOOKS = "can_manage_runbooks"
    CAN_MANAGE_QUALITY_GATES = "can_manage_quality_gates"
    CAN_UPLOAD_ATTACHMENTS = "can_upload_attachments"
    CAN_MANAGE_ROLES = "can_manage_roles"
    CAN_INVITE_USERS = "can_invite_users"
    CAN_VIEW_ALL = "can_view_all"
    CAN_VIEW_AUDIT = "can_view_audit"


class RoleFlags(DomainModel):
    is_approval_manager: bool = False
    can_create_release: bool = False
    can_edit_release_description: bool = False
    can_define_fixed_versions: bool = False
    can_manage_runbooks: bool = False
    can_manage_quality_gates: bool = False
    can_upload_attachments: bool = False
    can_manage_roles: bool = False
    can_invite_users: bool = False
    can_view_all: bool = False
    can_view_audit: bool = False  # export the audit chain (issue 13)

    def permissions(self) -> frozenset[Permission]:
        return frozenset(p for p in Permission if getattr(self, p.value))


class RoleDraft(RoleFlags):
    role_name: Name
    description: Text = ""


class Role(Entity, RoleDraft):
    created_by: str | None = None
    created_at: UtcDatetime


class UserStatus(StrEnum):
    INVITED = "INVITED"
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


class SlackIdentity(DomainModel):
    team_id: Key
    user_id: Key


class UserDraft(DomainModel):
    username: Key
    full_name: Name
    email: EmailStr
    password: str | None = Field(default=None, min_length=8, max_length=72)
    role_ids: list[str] = Field(default_factory=list)
    assigned_squad_ids: list[str] = Field(default_factory=list)

    @field_validator("email")
    @classmethod
    def _lower_email(cls, value: str) -> str:
        return value.lower()


class Delegation(DomainModel):
    """While away, the user's approval decisions may also be made by ``delegate_user_id``
    (``core/rules/delegation.py``). Not transitive: the delegate decides with their own vote
    and this one, never with votes delegated to the delegator by others."""

    delegate_user_id: str
    delegate_username: str
    # Exclusive end: the end of the named day in the delegator's time zone.
    until: UtcDatetime
    set_at: UtcDatetime
    set_by: str  # username of who set it (the delegator, or an admin for them)
    # The admin who approved a delegate who does not hold every role of the delegator.
    admin_approved_by: str | None = None

    def active(self, now: datetime) -> bool:
        return now < self.until


class User(Entity):
    username: Key
    full_name: Name
    email: EmailStr
    password_hash: str | None = None
    role_ids: list[str] = Field(default_factory=list)
    assigned_squad_ids: list[str] = Field(default_factory=list)
    slack: SlackIdentity | None = None
    # False once an admin unlinked the user's Slack identity: from then on only an explicit
    # link connects them again, never a matching email on first contact.
    auto_link: bool = True
    time_zone: str | None = None
    # When Slack was last asked for the zone: it is asked again after a day (people travel).
    time_zone_checked_at: UtcDatetime | None = None
    status: UserStatus = UserStatus.ACTIVE
    created_at: UtcDatetime
    # Who decides in this user's place while they are away (ends by itself at ``until``).
    delegation: Delegation | None = None
    # When a role this user holds last had its flags edited (roles as code): a replica that
    # read its roles before then reads them again (``IdentityService.actor_for``).
    access_changed_at: UtcDatetime | None = None
    # The outbox: what access changes caused, written with them (core/services/outbox.py).
    outbox: list[PendingEvents] = Field(default_factory=list)

    @field_validator("email")
    @classmethod
    def _lower_email(cls, value: str) -> str:
        # Emails are unique case-insensitively: stored lower-cased, compared lower-cased.
        return value.lower()

    def active_delegation(self, now: datetime) -> Delegation | None:
        """The delegation in force at ``now``; None when there is none or it has ended."""
        delegation = self.delegation
        return delegation if delegation is not None and delegation.active(now) else None
