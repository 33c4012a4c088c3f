"""Timeline events: the audit trail of every change to a release."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from core.models.common import DomainModel, Entity, UtcDatetime
from core.models.events import DomainEvent

# Fields of before / after (at any depth) whose value is a portal user's id.
USER_FIELDS = frozenset(
    {"owner_id", "approver_user_id", "assignee_id", "created_by", "added_by", "uploaded_by"}
)


class TargetPath(DomainModel):
    """What inside the release changed; unset parts are the release itself."""

    product_id: str | None = None
    gate_name: str | None = None
    milestone_key: str | None = None
    runbook_id: str | None = None
    task_name: str | None = None
    ctask_id: str | None = None
    attachment_id: str | None = None

    def label(self) -> str:
        parts = [
            self.product_id,
            self.gate_name,
            self.milestone_key,
            self.runbook_id,
            self.task_name,
            self.ctask_id,
            self.attachment_id,
        ]
        return " / ".join(p for p in parts if p) or "release"


class EventActor(DomainModel):
    user_id: str
    username: str
    slack_user_id: str | None = None


class TimelineEvent(Entity):
    release_oid: str
    release_id: str
    actor: EventActor
    action: str
    target: TargetPath = Field(default_factory=TargetPath)
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    comment: str | None = None
    at: UtcDatetime
    # The audit chain (core/rules/audit.py): the entry's place in its release's chain, the
    # hash of the entry before it and its own. 0 / "" / "": written before the chain existed.
    seq: int = 0
    prev_hash: str = ""
    hash: str = ""
    # What the change caused, for the reactions (core/services/outbox.py); the entry above
    # is what people read in the history.
    events: list[DomainEvent] = Field(default_factory=list)

    def user_ids(self) -> set[str]:
        """Every portal user the event names (its actor, owners, approvers…): what a reader
        needs resolved to names, in one read for a whole page of events."""
        found = {self.actor.user_id}
        _collect_users(self.before, found)
        _collect_users(self.after, found)
        return found


def _collect_users(value: object, found: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in USER_FIELDS and isinstance(item, str) and item:
                found.add(item)
            else:
                _collect_users(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect_users(item, found)
