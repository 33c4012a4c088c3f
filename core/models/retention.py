"""How long data the product no longer needs is kept, and what a retention run let go.

Releases, their timeline (the audit trail), users and roles are never purged: they have no
period here on purpose."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum


class Purged(StrEnum):
    """What a retention run lets go, each with a period of its own."""

    FINISHED_CLAIMS = "finished_claims"  # delivery claims whose work was done
    EXPIRED_CLAIMS = "expired_claims"  # Slack events' dedupe records, abandoned deliveries
    WEBHOOK_DELIVERIES = "webhook_deliveries"  # delivered or given up: their logs
    API_TOKENS = "api_tokens"  # expired or revoked
    IDEMPOTENCY_KEYS = "idempotency_keys"  # past the window a retried request comes in
    INVITATIONS = "invitations"  # expired or revoked (accepted ones are kept)
    APPROVAL_MESSAGES = "approval_messages"  # the DM ledger: where each request was sent


@dataclass(frozen=True, slots=True)
class RetentionPeriods:
    """How long each kind of data is kept after it stopped being needed. The defaults are
    the settings' (``bot.settings``): finished claims and dedupe records as the scheduler
    always kept them, webhook logs a quarter, API tokens and invitations a month past their end."""

    finished_claims: timedelta = timedelta(days=7)
    expired_claims: timedelta = timedelta(days=1)
    webhook_deliveries: timedelta = timedelta(days=90)
    api_tokens: timedelta = timedelta(days=30)
    # As the TTL index of ``idempotency_keys``: a retried request comes within minutes.
    idempotency_keys: timedelta = timedelta(days=1)
    invitations: timedelta = timedelta(days=30)
    # A ledger record is how a decision updates a request's DM copy: kept far longer than
    # any approval stays pending.
    approval_messages: timedelta = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """One run: how many documents of each kind were purged, and the cut-off of each
    (what ended before it was let go)."""

    day: date
    purged: dict[Purged, int] = field(default_factory=dict)
    cutoffs: dict[Purged, datetime] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.purged.values())
