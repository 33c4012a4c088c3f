"""Timeline events: the audit trail of every change to a release."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from core.models.common import DomainModel, Entity, UtcDatetime


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
