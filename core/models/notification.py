"""Records of messages the bot sent, so it can update them later, and of delivery claims taken."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.models.common import DomainModel, UtcDatetime


def approval_key(release_oid: str, product_id: str, gate_name: str, milestone_key: str) -> str:
    """One approval, named stably (the gate by its case-folded name)."""
    return f"{release_oid}|{product_id}|{gate_name.casefold()}|{milestone_key}"


class ApprovalMessage(DomainModel):
    approval_key: str
    user_id: str
    channel: str
    ts: str
    sent_at: UtcDatetime
    round: UtcDatetime | None = None  # the approval's requested_at when this DM asked


@dataclass(frozen=True)
class Taken:
    """A claim taken. ``earlier``: when an earlier attempt at the same work began, if that
    attempt may have done it (it let go unsure of the outcome, or its lease ran out); None
    on a first attempt."""

    earlier: datetime | None = None
