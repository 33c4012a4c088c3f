"""Approval DMs: ask every person who may decide, then update every copy once decided."""

from __future__ import annotations

import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from blocks.approvals import approval_decided_message, approval_request_message
from bot.reach import reach
from bot.workspace import Workspace
from core.clock import Clock
from core.models.notification import ApprovalMessage
from core.models.release import ApprovalStatus, Release
from core.models.schedule import zone_or
from core.ports import ApprovalMessageRepository, ClaimRepository
from core.rules.readiness import MilestoneRef, summarize
from core.services.approvals import key_of
from core.services.container import Services

log = logging.getLogger(__name__)
REQUEST_CLAIM = timedelta(days=1)


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
        self, client: AsyncWebClient, release: Release, refs: list[MilestoneRef]
    ) -> int:
        """DM every linked person who may decide each approval; returns the DMs sent."""
        sent = 0
        summary = summarize(release)
        for ref in refs:
            key = key_of(release.id, ref)
            if not await self._claim_request(key, ref):
                continue
            for decider in await self._services.approvals.deciders(release, ref):
                # Found (and linked) by email if need be, with the time zone Slack gave.
                reached = await reach(client, self._services.identity, self._home, decider)
                if reached is None:
                    continue
                slack_id, actor = reached.slack_id, reached.actor
                message = approval_request_message(
                    release, summary, ref, zone_or(actor.user.time_zone, self._default_tz)
                )
                try:
                    # A user id as channel opens the app's DM (no conversations.open, a
                    # much tighter rate tier); the reply names the DM channel for updates.
                    posted = await client.chat_postMessage(channel=slack_id, **message.to_dict())
                    channel = str(posted["channel"])
                except SlackApiError as error:  # one unreachable person must not stop the rest
                    log.warning("could not DM %s: %s", actor.user.username, error)
                    continue
                await self._messages.record(
                    ApprovalMessage(
                        approval_key=key,
                        user_id=actor.user_id,
                        channel=channel,
                        ts=str(posted["ts"]),
                        sent_at=self._clock(),
                    )
                )
                sent += 1
        return sent

    async def announce_decision(
        self, client: AsyncWebClient, release: Release, ref: MilestoneRef
    ) -> list[ApprovalMessage]:
        """Replace every approval DM of this milestone with who decided and when; no buttons.

        Returns the DMs it updated, so a caller can tell whether a click came from one."""
        if ref.milestone.approval.status not in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED):
            return []
        key = key_of(release.id, ref)
        records = await self._messages.for_approval(key)
        people = await self._services.identity.people({r.user_id for r in records})
        for record in records:
            user = people.get(record.user_id)
            tz = zone_or(user.time_zone if user else None, self._default_tz)
            message = approval_decided_message(release, ref, tz)
            try:
                await client.chat_update(channel=record.channel, ts=record.ts, **message.to_dict())
            except SlackApiError as error:  # one lost DM must not hide the others
                log.warning(
                    "could not update approval DM %s/%s: %s", record.channel, record.ts, error
                )
        return records

    async def _claim_request(self, key: str, ref: MilestoneRef) -> bool:
        """One round of request DMs per time an approval became pending, even if two saves
        (or two replicas) both noticed it."""
        requested = ref.milestone.approval.requested_at
        stamp = requested.isoformat() if requested else "unknown"
        now = self._clock()
        return await self._claims.claim(f"request:{key}:{stamp}", now=now, ttl=REQUEST_CLAIM)
