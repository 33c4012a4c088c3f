"""Records of messages the bot sent, so it can update them later."""

from __future__ import annotations

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
