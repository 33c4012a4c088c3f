"""Invitations: an admin asks someone in by email, with the roles and squads they will have.

An invitation is *open* from when it is made until it expires (``expires_at``) or is
revoked; the first time the invited person uses the bot (their Slack email matches), an open
invitation makes their user and is ACCEPTED (``core/services/invitations.py``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import EmailStr, Field, field_validator

from core.models.common import DomainModel, Entity, Name, UtcDatetime

MAX_ROLES = 20
MAX_SQUADS = 50


class InvitationStatus(StrEnum):
    """As people read it: EXPIRED is not stored, it is an open invitation past its time."""

    INVITED = "INVITED"
    ACCEPTED = "ACCEPTED"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"


class InvitationDraft(DomainModel):
    """What an admin asks for: roles by name and squads by id (each checked to exist)."""

    email: EmailStr
    roles: list[Name] = Field(default_factory=list, max_length=MAX_ROLES)
    squad_ids: list[Name] = Field(default_factory=list, max_length=MAX_SQUADS)

    @field_validator("email")
    @classmethod
    def _lower_email(cls, value: str) -> str:
        return value.lower()


class Invitation(Entity):
    email: EmailStr
    role_ids: list[str] = Field(default_factory=list)
    role_names: list[str] = Field(default_factory=list)  # as they were named then, to show
    squad_ids: list[str] = Field(default_factory=list)
    invited_by: str  # user id
    invited_by_username: str
    created_at: UtcDatetime
    expires_at: UtcDatetime
    # Stored states only: INVITED until accepted or revoked (EXPIRED is read off the clock).
    state: InvitationStatus = InvitationStatus.INVITED
    accepted_at: UtcDatetime | None = None
    accepted_user_id: str | None = None
    revoked_at: UtcDatetime | None = None
    revoked_by_username: str | None = None

    @field_validator("email")
    @classmethod
    def _lower_email(cls, value: str) -> str:
        return value.lower()

    def status_at(self, now: datetime) -> InvitationStatus:
        if self.state is InvitationStatus.INVITED and self.expires_at <= now:
            return InvitationStatus.EXPIRED
        return self.state

    def open_at(self, now: datetime) -> bool:
        return self.status_at(now) is InvitationStatus.INVITED

    def ended_at(self) -> datetime | None:
        """When it stopped being usable without being accepted (for the retention job)."""
        if self.state is InvitationStatus.REVOKED:
            return self.revoked_at
        if self.state is InvitationStatus.INVITED:
            return self.expires_at
        return None
