"""The retention job: data the product no longer needs is let go after its period.

The scheduler's tick runs it (``run_daily``) at most once a day across replicas: the run
claims ``retention:<UTC day>`` as every delivery claims its key, so a replica ticking at
the same time finds it claimed and purges nothing. A run that fails lets go of its claim
(the next tick tries again); one that finished is not run again that day.

What it purges, each after its own period (``RetentionPeriods``, set in ``bot.settings``):
finished delivery claims, expired unfinished claims (Slack events' dedupe records,
deliveries abandoned), webhook deliveries that are over, expired and revoked API tokens,
Idempotency-Keys, expired and revoked invitations, and the approval DM ledger's records
(``approval_messages``: where each request DM went, so a decision updates every copy) once
they are older than any approval stays pending (a year by default; a copy older than that is
no longer updated, and a click on it is still checked afresh). It holds no repository of
releases, their timeline (the audit trail), users or roles: it cannot touch them. Sign-in
attempts are not here: a TTL index forgets each count once its window is over.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from core.clock import Clock
from core.models.retention import Purged, RetentionPeriods, RetentionReport
from core.ports import (
    ApiTokenRepository,
    ApprovalMessageRepository,
    ClaimRepository,
    IdempotencyRepository,
    InvitationRepository,
    WebhookRepository,
)

log = logging.getLogger(__name__)

# A run that died holding the day's claim is taken over by another replica after this.
LEASE = timedelta(minutes=10)
# Before anything stored: ``ClaimRepository.purge`` given it for one kind purges only the other.
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def run_key(now: datetime) -> str:
    """The claim of the day's run: one a UTC day, whichever replica ticks."""
    return f"retention:{now.astimezone(UTC).date().isoformat()}"


class RetentionService:
    def __init__(
        self,
        claims: ClaimRepository,
        api_tokens: ApiTokenRepository,
        webhooks: WebhookRepository,
        idempotency_keys: IdempotencyRepository,
        clock: Clock,
        invitations: InvitationRepository | None = None,
        approval_messages: ApprovalMessageRepository | None = None,
    ) -> None:
        self._invitations = invitations
        self._approval_messages = approval_messages
        self._claims = claims
        self._api_tokens = api_tokens
        self._webhooks = webhooks
        self._idempotency_keys = idempotency_keys
        self._clock = clock

    async def run_daily(self, periods: RetentionPeriods | None = None) -> RetentionReport | None:
        """Purge, unless today's run was claimed already (by this replica or another): then
        None."""
        now = self._clock()
        key, owner = run_key(now), uuid.uuid4().hex
        if not await self._claims.claim(key, ttl=LEASE, owner=owner, now=now):
            return None
        try:
            report = await self.purge(periods or RetentionPeriods(), now=now)
        except BaseException:
            await self._claims.release(key, owner=owner)
            raise
        await self._claims.complete(key, owner=owner, now=self._clock())
        return report

    async def purge(
        self, periods: RetentionPeriods, *, now: datetime | None = None
    ) -> RetentionReport:
        """Purge what each period let go by ``now`` (default: the clock), each kind logged
        with its count and cut-off. Cut-offs are judged by the injected clock, claims' too
        (their times are the database's: replicas' clocks differ from it by far less than
        the shortest period, a day)."""
        now = now or self._clock()
        cutoffs = {
            Purged.FINISHED_CLAIMS: now - periods.finished_claims,
            Purged.EXPIRED_CLAIMS: now - periods.expired_claims,
            Purged.WEBHOOK_DELIVERIES: now - periods.webhook_deliveries,
            Purged.API_TOKENS: now - periods.api_tokens,
            Purged.IDEMPOTENCY_KEYS: now - periods.idempotency_keys,
            Purged.INVITATIONS: now - periods.invitations,
            Purged.APPROVAL_MESSAGES: now - periods.approval_messages,
        }
        claims = self._claims
        purged = {
            Purged.FINISHED_CLAIMS: await claims.purge(
                before=_NEVER, done_before=cutoffs[Purged.FINISHED_CLAIMS]
            ),
            Purged.EXPIRED_CLAIMS: await claims.purge(
                before=cutoffs[Purged.EXPIRED_CLAIMS], done_before=_NEVER
            ),
            Purged.WEBHOOK_DELIVERIES: await self._webhooks.purge_deliveries(
                before=cutoffs[Purged.WEBHOOK_DELIVERIES]
            ),
            Purged.API_TOKENS: await self._api_tokens.purge(
                ended_before=cutoffs[Purged.API_TOKENS]
            ),
            Purged.IDEMPOTENCY_KEYS: await self._idempotency_keys.purge(
                before=cutoffs[Purged.IDEMPOTENCY_KEYS]
            ),
        }
        if self._invitations is not None:
            purged[Purged.INVITATIONS] = await self._invitations.purge(
                ended_before=cutoffs[Purged.INVITATIONS]
            )
        else:
            del cutoffs[Purged.INVITATIONS]
        if self._approval_messages is not None:
            purged[Purged.APPROVAL_MESSAGES] = await self._approval_messages.purge(
                before=cutoffs[Purged.APPROVAL_MESSAGES]
            )
        else:
            del cutoffs[Purged.APPROVAL_MESSAGES]
        for kind, count in purged.items():
            log.info(
                "retention: purged %d %s (ended before %s)",
                count,
                kind.value,
                cutoffs[kind].isoformat(timespec="seconds"),
            )
        return RetentionReport(day=now.astimezone(UTC).date(), purged=purged, cutoffs=cutoffs)
