"""Domain events: what a change to a release caused, named in the past tense.

Core derives them from the release before and after a change (``core/events.py``) and
stores them in the same write as the change, inside its outbox entry. What follows in Slack
(approval DMs, updating decided copies…) reacts to these, never to documents.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from core.models.common import DomainModel, Entity, UtcDatetime
from core.models.statuses import Decision, GateStatus, MilestoneStatus, TaskStatus


class ApprovalRef(DomainModel):
    """One milestone's approval inside a release."""

    product_id: str
    gate_name: str
    milestone_key: str


class ReleaseCreated(DomainModel):
    kind: Literal["release_created"] = "release_created"


class GateChanged(DomainModel):
    """A gate was added (``before`` None) or its status changed."""

    kind: Literal["gate_changed"] = "gate_changed"
    product_id: str
    gate_name: str
    before: GateStatus | None
    after: GateStatus


class MilestoneChanged(DomainModel):
    """A milestone was added (``before`` None) or its status changed."""

    kind: Literal["milestone_changed"] = "milestone_changed"
    ref: ApprovalRef
    before: MilestoneStatus | None
    after: MilestoneStatus


class ApprovalRequested(DomainModel):
    """An approval became pending: ``requested_at`` names this round of asking."""

    kind: Literal["approval_requested"] = "approval_requested"
    ref: ApprovalRef
    requested_at: UtcDatetime | None


class ApprovalDecided(DomainModel):
    kind: Literal["approval_decided"] = "approval_decided"
    ref: ApprovalRef
    decision: Decision
    by: str | None
    at: UtcDatetime | None


class ApprovalWithdrawn(DomainModel):
    """A pending approval is no longer needed (its milestone's approval was dropped)."""

    kind: Literal["approval_withdrawn"] = "approval_withdrawn"
    ref: ApprovalRef


class ApprovalVoted(DomainModel):
    """A vote came in (or one was dropped) and the approval still waits for others."""

    kind: Literal["approval_voted"] = "approval_voted"
    ref: ApprovalRef
    by: str | None


class VotesWithdrawn(DomainModel):
    """What the votes looked at changed: they were withdrawn (the approval is asked for
    again by an ``ApprovalRequested`` of its own)."""

    kind: Literal["votes_withdrawn"] = "votes_withdrawn"
    ref: ApprovalRef
    reason: str
    at: UtcDatetime
    round: UtcDatetime | None  # the round asked for before


class ApprovalExpired(DomainModel):
    kind: Literal["approval_expired"] = "approval_expired"
    ref: ApprovalRef
    round: UtcDatetime | None


class BrokeGlass(DomainModel):
    """A change went through a freeze by an approval manager's override."""

    kind: Literal["broke_glass"] = "broke_glass"
    freeze_name: str
    by: str
    reason: str
    what: str


class TaskChanged(DomainModel):
    """A runbook task was added (``before`` None) or its status changed."""

    kind: Literal["task_changed"] = "task_changed"
    runbook_id: str
    task_name: str
    before: TaskStatus | None
    after: TaskStatus


class AccessChanged(DomainModel):
    """What a person may do changed: a role granted or revoked, their Slack link made or
    undone, their account made (in)active, or the account made with roles."""

    kind: Literal["access_changed"] = "access_changed"
    user_id: str
    change: str  # what happened, in words: "granted Approval Manager"
    # The Slack person concerned: for an unlink, the one who no longer is this user.
    slack_user_id: str | None = None


DomainEvent = Annotated[
    ReleaseCreated
    | GateChanged
    | MilestoneChanged
    | ApprovalRequested
    | ApprovalDecided
    | ApprovalWithdrawn
    | ApprovalVoted
    | VotesWithdrawn
    | ApprovalExpired
    | BrokeGlass
    | TaskChanged
    | AccessChanged,
    Field(discriminator="kind"),
]


class PendingEvents(Entity):
    """An outbox entry of an aggregate without a timeline (a user): what one change caused,
    stored in the same write as the change."""

    at: UtcDatetime
    events: list[DomainEvent] = Field(default_factory=list)


def stamp(at: datetime | None) -> str:
    """A round of asking, as text (for claims and records)."""
    return at.isoformat() if at else "unknown"
