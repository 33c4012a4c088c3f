"""Outbound webhooks: where a machine wants to hear of changes, and each delivery's log."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, HttpUrl, field_validator

from core.models.common import DomainModel, Entity, UtcDatetime

URL_MAX = 2000
ATTEMPTS_MAX = 10  # then a delivery is given up (FAILED)


class WebhookEvent(StrEnum):
    """What a hook can subscribe to; named ``thing.past_tense``."""

    RELEASE_CREATED = "release.created"
    RELEASE_READY = "release.ready"  # every required gate passed and no blocker, newly
    GATE_CHANGED = "gate.changed"
    MILESTONE_CHANGED = "milestone.changed"
    APPROVAL_REQUESTED = "approval.requested"
    APPROVAL_DECIDED = "approval.decided"
    APPROVAL_WITHDRAWN = "approval.withdrawn"
    APPROVAL_VOTED = "approval.voted"  # a vote in; others still needed
    APPROVAL_VOTES_WITHDRAWN = "approval.votes_withdrawn"  # what the votes looked at changed
    APPROVAL_EXPIRED = "approval.expired"
    FREEZE_BROKEN = "freeze.break_glass"  # a change made through a freeze, with its reason
    TASK_CHANGED = "task.changed"


class WebhookRequest(DomainModel):
    """What a hook is made from: checked the same whichever entry point makes it."""

    url: HttpUrl = Field(
        description="Where deliveries are POSTed: an http:// or https:// URL on a public host "
        "(private addresses and local names are refused unless WEBHOOK_ALLOW_PRIVATE is set)"
    )
    events: list[WebhookEvent] = Field(min_length=1, description="The events to deliver")

    @field_validator("url")
    @classmethod
    def _short_enough(cls, url: HttpUrl) -> HttpUrl:
        if len(str(url)) > URL_MAX:
            raise ValueError(f"must be at most {URL_MAX} characters")
        return url

    @field_validator("events")
    @classmethod
    def _once_each(cls, events: list[WebhookEvent]) -> list[WebhookEvent]:
        return list(dict.fromkeys(events))


class Webhook(Entity):
    """A hook as its owner sees it: never its secret."""

    user_id: str
    url: str
    events: list[WebhookEvent]
    created_at: UtcDatetime


class StoredWebhook(Webhook):
    """As stored: its signing secret encrypted (``core.secrets``), never in plain text."""

    secret_encrypted: str = Field(repr=False)

    def public(self) -> Webhook:
        return Webhook.model_validate(self.model_dump(exclude={"secret_encrypted"}))


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"  # waiting for its first attempt or a retry
    DELIVERED = "DELIVERED"  # the receiver answered 2xx
    FAILED = "FAILED"  # given up after ATTEMPTS_MAX attempts


class DeliveryAttempt(DomainModel):
    number: int = Field(ge=1)
    at: UtcDatetime
    status_code: int | None = Field(description="The receiver's HTTP status; None: no answer")
    duration_ms: int
    error: str | None = Field(description="Why it failed, in words; None when delivered")


class WebhookDelivery(Entity):
    """One event for one hook. ``key`` (event id and hook id) makes it once per pair,
    however often the reaction that stores it runs."""

    key: str
    hook_id: str
    event_id: str
    event: WebhookEvent
    created_at: UtcDatetime
    data: dict[str, Any]
    status: DeliveryStatus = DeliveryStatus.PENDING
    next_attempt_at: UtcDatetime | None
    delivered_at: UtcDatetime | None = None
    attempts: list[DeliveryAttempt] = Field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """The JSON body POSTed to the hook."""
        return {
            "id": self.event_id,
            "event": self.event.value,
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
            "data": self.data,
        }
