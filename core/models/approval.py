"""What a milestone's approval asks for (its policy) and what people answered (votes)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Self

from pydantic import Field, model_validator

from core.models.common import Comment, DomainModel, Name, UtcDatetime
from core.models.rbac import Permission
from core.models.statuses import Decision

MAX_QUORUM = 9  # people per rule
MAX_RULES = 5
MAX_EXPIRY_HOURS = 24 * 90

FLAG_LABELS = {
    Permission.IS_APPROVAL_MANAGER: "Approval Manager",
    Permission.CAN_MANAGE_QUALITY_GATES: "Gate Manager",
}


class QuorumRule(DomainModel):
    """``count`` distinct people holding the role named ``role``, or (no ``role``) any of
    the role flags ``flags``."""

    count: int = Field(default=1, ge=1, le=MAX_QUORUM)
    role: Name | None = None
    flags: list[Permission] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if (self.role is None) == (not self.flags):
            raise ValueError("a rule names either one role or role flags")
        return self

    @property
    def label(self) -> str:
        if self.role is not None:
            return self.role
        return " or ".join(FLAG_LABELS.get(f, f.value) for f in self.flags)

    def admits(self, role_names: list[str], flags: list[Permission]) -> bool:
        if self.role is not None:
            wanted = self.role.casefold()
            return any(name.casefold() == wanted for name in role_names)
        return any(flag in flags for flag in self.flags)


class Policy(DomainModel):
    """Every rule met by distinct people approves; one rejection rejects."""

    rules: list[QuorumRule] = Field(min_length=1, max_length=MAX_RULES)
    expires_after_hours: int | None = Field(default=None, ge=1, le=MAX_EXPIRY_HOURS)
    # None: on for prod milestones, off otherwise.
    withdraw_when_evidence_changes: bool | None = None

    @property
    def needs_approval_manager(self) -> bool:
        return any(r.flags == [Permission.IS_APPROVAL_MANAGER] for r in self.rules)

    def describe(self) -> str:
        return " + ".join(f"{r.count} × {r.label}" for r in self.rules)


ONE_APPROVAL_MANAGER = Policy(rules=[QuorumRule(flags=[Permission.IS_APPROVAL_MANAGER])])
ONE_DECIDER = Policy(
    rules=[QuorumRule(flags=[Permission.IS_APPROVAL_MANAGER, Permission.CAN_MANAGE_QUALITY_GATES])]
)


class Vote(DomainModel):
    """One person's answer. ``user_id`` is whose vote it is (who counts); a delegate casting
    it in their place is ``cast_by``."""

    user_id: str
    username: str
    role_snapshot: list[str] = Field(default_factory=list)
    flag_snapshot: list[Permission] = Field(default_factory=list)
    decision: Decision
    comment: Comment | None = None
    at: UtcDatetime
    cast_by_user_id: str | None = None
    cast_by_username: str | None = None
    evidence: str = ""  # fingerprint of what the vote looked at (``core.rules.evidence``)

    def of_any(self, user_ids: Collection[str]) -> bool:
        """Whether one of ``user_ids`` cast it, or it counts as theirs."""
        return self.user_id in user_ids or self.cast_by_user_id in user_ids

    @property
    def by_label(self) -> str:
        """ "dana for arjun", or "arjun"."""
        if self.cast_by_username:
            return f"{self.cast_by_username} for {self.username}"
        return self.username


class Withdrawal(DomainModel):
    """Votes withdrawn because what they looked at changed."""

    reason: str  # "Regression suite PASSED → FAILED"
    at: UtcDatetime
    voters: list[str] = Field(default_factory=list)


class BreakGlass(DomainModel):
    """A change made during a freeze by an approval manager's recorded override."""

    freeze_id: str
    freeze_name: str
    reason: Comment
    by: str  # username
    at: UtcDatetime
    what: str  # "approved prod-deploy", "Regression suite → PASSED"
