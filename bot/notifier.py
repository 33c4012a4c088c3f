"""Approval DMs: ask every person who may decide, then update every copy once decided.

Each request DM is claimed per person and round of asking (the approval's ``requested_at``)
and recorded once sent, so a retried or doubled delivery never DMs anyone twice, and a
Slack failure for one person is retried for that person only. A DM whose answer was lost
(or that was sent but not recorded) is found in the DM's history on the retry and recorded
then, instead of being sent again (``bot.delivery``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from blocks.approvals import (
    ApprovalTarget,
    approval_decided_message,
    approval_expired_message,
    approval_expired_notice,
    approval_request_message,
    approval_withdrawn_message,
    votes_withdrawn_message,
)
from blocks.message import Message
from bot.delivery import Outcome, Poster, deliver_once
from bot.reach import reach
from bot.slack_client import error_code, is_permanent
from bot.workspace import Workspace
from core.clock import Clock
from core.models.events import ApprovalExpired, VotesWithdrawn, stamp
from core.models.notification import ApprovalMessage
from core.models.release import ApprovalStatus, Release
from core.models.schedule import zone_or
from core.ports import ApprovalMessageRepository, ClaimRepository
from core.rules.permissions import Actor
from core.rules.readiness import MilestoneRef, ReadinessSummary, summarize
from core.services.approvals import key_of
from core.services.container import Services

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)  # an attempt that stopped mid-send is taken over after this


def same_round(record: ApprovalMessage, requested_at: datetime | None) -> bool:
    """Whether a DM asked for this round of asking. One recorded before rounds were (no
    ``round``) counts for the round it was sent in."""
    if record.round is not None:
        return record.round == requested_at
    return requested_at is None or record.sent_at >= requested_at


def request_claim(approval_key: str, asked_at: datetime | None, user_id: str) -> str:
    """The claim on one approval request DM, per person and round of asking: finished
    without a recorded DM means Slack refused that person for good."""
    return f"request:{approval_key}:{stamp(asked_at)}:{user_id}"


class NotAllDelivered(Exception):
    """Some recipients could not be asked for now; the delivery is to be tried again."""


@dataclass(frozen=True)
class _Ask:
    """One approval to ask for, as the release has it."""

    client: AsyncWebClient
    release: Release
    summary: ReadinessSummary
    ref: MilestoneRef

    @property
    def key(self) -> str:
        return key_of(self.release.id, self.ref)

    @property
    def round(self) -> datetime | None:
        """The round of asking: when the approval (last) became pending."""
        return self.ref.milestone.approval.requested_at


class ApprovalNotifier:
    def __init__(
        self,
        services: Services,
        messages: ApprovalMessageRepository,
        claims: ClaimRepository,
        clock: Clock,
        default_tz: ZoneInfo,
        home: Workspace,
    ) -> None:
        self._home = home
        self._services = services
        self._messages = messages
        self._claims = claims
        self._clock = clock
        self._default_tz = default_tz

    async def request_decisions(
        self,
        client: AsyncWebClient,
        release: Release,
        refs: list[MilestoneRef],
        *,
        only: Set[str] | None = None,
    ) -> int:
        """DM every linked person who may decide each approval (of them, the users in
        ``only``), once per person and round of asking; returns the DMs sent. Raises
        ``NotAllDelivered`` after trying everyone when some could not be asked for now (they
        are asked on the next attempt, the others not again)."""
        sent, failed = 0, 0
        summary = summarize(release)
        deciders_of = await self._services.approvals.deciders_of(release, refs)
        for ref, deciders in zip(refs, deciders_of, strict=True):
            ask = _Ask(client, release, summary, ref)
            records = await self._messages.for_approval(ask.key)
            asked = {r.user_id for r in records if same_round(r, ask.round)}
            for decider in deciders:
                if decider.user_id in asked or (only is not None and decider.user_id not in only):
                    continue
                outcome = await self._request_once(ask, decider)
                sent += outcome is True
                failed += outcome is None
        if failed:
            raise NotAllDelivered(f"{failed} approval request DMs of {release.release_id}")
        return sent

    async def _request_once(self, ask: _Ask, decider: Actor) -> bool | None:
        """True: sent; False: not sent, and not to be retried now (asked already, refused for
        good, or not in Slack: a later link asks them); None: not sent for now (Slack or
        storage failed, or another attempt is at it), to be retried."""
        claim = request_claim(ask.key, ask.round, decider.user_id)

        async def send(poster: Poster) -> bool:
            return await self._send_request(ask, decider, poster)

        outcome = await deliver_once(self._claims, ask.client, claim, send, lease=LEASE)
        if outcome is Outcome.SKIPPED:
            return False if await self._claims.finished(claim) else None
        if outcome is Outcome.FAILED:
            return None
        # Not in Slack (yet): their link is an access change that asks them then.
        return outcome is Outcome.SENT

    async def _send_request(self, ask: _Ask, decider: Actor, poster: Poster) -> bool:
        # Found (and linked) by email if need be, with the time zone Slack gave.
        reached = await reach(ask.client, self._services.identity, self._home, decider)
        if reached is None:
            return False
        slack_id, actor = reached.slack_id, reached.actor
        zone = zone_or(actor.user.time_zone, self._default_tz)
        message = approval_request_message(ask.release, ask.summary, ask.ref, zone)
        # A user id as channel opens the app's DM (no conversations.open, a much tighter
        # rate tier); the reply names the DM channel for updates.
        posted = await poster.post(slack_id, message)
        # Not recorded (storage failed): the claim is let go unsure, and the retry finds this
        # DM in history and records it, so the decision still updates it.
        await self._messages.record(
            ApprovalMessage(
                approval_key=ask.key,
                user_id=actor.user_id,
                channel=posted.channel,
                ts=posted.ts,
                sent_at=self._clock(),
                round=ask.round,
            ),
        )
        return True

    async def announce_decision(
        self, client: AsyncWebClient, release: Release, ref: MilestoneRef
    ) -> list[ApprovalMessage]:
        """Replace every approval DM of this milestone with who decided and when; no buttons.
        Returns the DMs it updated."""
        if ref.milestone.approval.status not in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED):
            return []
        return await self._update_copies(
            client, release, ref, lambda _, tz: approval_decided_message(release, ref, tz)
        )

    async def announce_withdrawal(
        self, client: AsyncWebClient, release: Release, ref: MilestoneRef
    ) -> list[ApprovalMessage]:
        """Replace every approval DM of this milestone with "no longer needed"; no buttons."""
        if ref.milestone.approval.status is not ApprovalStatus.NOT_REQUIRED:
            return []
        return await self._update_copies(
            client, release, ref, lambda _, tz: approval_withdrawn_message(release, ref, tz)
        )

    async def announce_progress(
        self, client: AsyncWebClient, release: Release, ref: MilestoneRef
    ) -> list[ApprovalMessage]:
        """A vote is in and the approval waits for others: every DM of this round shows how
        far it got and who voted; whoever voted (or had their vote cast) sees no buttons."""
        approval = ref.milestone.approval
        if approval.status is not ApprovalStatus.PENDING:
            return []
        voted = {v.user_id for v in approval.votes} | {
            v.cast_by_user_id for v in approval.votes if v.cast_by_user_id
        }
        summary = summarize(release)

        def build(record: ApprovalMessage, tz: ZoneInfo) -> Message:
            mine = record.user_id in voted
            return approval_request_message(release, summary, ref, tz, voted=mine)

        return await self._update_copies(
            client, release, ref, build, only=lambda r: same_round(r, approval.requested_at)
        )

    async def announce_votes_withdrawn(
        self, client: AsyncWebClient, release: Release, ref: MilestoneRef, event: VotesWithdrawn
    ) -> list[ApprovalMessage]:
        """The DMs of the round whose votes were withdrawn say what changed; no buttons (the
        new round's requests follow)."""

        def build(_: ApprovalMessage, tz: ZoneInfo) -> Message:
            return votes_withdrawn_message(release, ref, tz, reason=event.reason, at=event.at)

        return await self._update_copies(
            client, release, ref, build, only=lambda r: same_round(r, event.round)
        )

    async def announce_expiry(
        self, client: AsyncWebClient, release: Release, ref: MilestoneRef, event: ApprovalExpired
    ) -> list[ApprovalMessage]:
        """The DMs of the round that ran out say so; no buttons."""
        if ref.milestone.approval.status is not ApprovalStatus.EXPIRED:
            return []
        return await self._update_copies(
            client,
            release,
            ref,
            lambda _, tz: approval_expired_message(release, ref, tz),
            only=lambda r: same_round(r, event.round),
        )

    async def tell_expired(
        self, client: AsyncWebClient, release: Release, ref: MilestoneRef, event: ApprovalExpired
    ) -> None:
        """Who asked and the release managers who see the release are told, once each per
        round (claimed as every DM is), with a button to ask again."""
        told = await self._services.approvals.told_of_expiry(release, ref)
        key = key_of(release.id, ref)
        target = ApprovalTarget.of(release, ref)
        failed = 0
        for person in told:
            claim = f"expired:{key}:{stamp(event.round)}:{person.user_id}"

            async def send(poster: Poster, person: Actor = person) -> bool:
                reached = await reach(client, self._services.identity, self._home, person)
                if reached is None:
                    return False
                zone = zone_or(reached.actor.user.time_zone, self._default_tz)
                await poster.post(
                    reached.slack_id, approval_expired_notice(release, ref, zone, target)
                )
                return True

            outcome = await deliver_once(self._claims, client, claim, send, lease=LEASE)
            failed += outcome is Outcome.FAILED
        if failed:
            raise NotAllDelivered(f"{failed} expiry notices of {release.release_id}")

    async def _update_copies(
        self,
        client: AsyncWebClient,
        release: Release,
        ref: MilestoneRef,
        build: Callable[[ApprovalMessage, ZoneInfo], Message],
        *,
        only: Callable[[ApprovalMessage], bool] | None = None,
    ) -> list[ApprovalMessage]:
        """Each copy (of them, those ``only`` keeps) in its reader's zone. Updating is
        idempotent: a copy Slack failed to update for now makes the whole update retried
        (``NotAllDelivered``); one gone for good (deleted, channel closed) is skipped."""
        records = await self._messages.for_approval(key_of(release.id, ref))
        if only is not None:
            records = [r for r in records if only(r)]
        people = await self._services.identity.people({r.user_id for r in records})
        failed = 0
        for record in records:
            user = people.get(record.user_id)
            message = build(record, zone_or(user.time_zone if user else None, self._default_tz))
            try:
                await client.chat_update(channel=record.channel, ts=record.ts, **message.to_dict())
            except SlackApiError as error:  # one lost DM must not hide the others
                log.warning(
                    "could not update approval DM %s/%s: %s",
                    record.channel,
                    record.ts,
                    error_code(error),
                )
                failed += not is_permanent(error) and error_code(error) != "message_not_found"
        if failed:
            raise NotAllDelivered(f"{failed} approval DM updates of {release.release_id}")
        return records
