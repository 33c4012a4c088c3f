"""What follows a stored change in Slack, in one place: each domain event to its reaction.

Events and what follows them:
- ``ApprovalRequested``: a DM to everyone who may decide (claimed per person and round), and
  their App Home drawn again (its pending list changed);
- ``ApprovalDecided``: every DM copy updated to who decided, without buttons, and the App
  Home of the others who could have decided drawn again;
- ``AccessChanged`` (a role granted or revoked, a Slack link, an account (in)activated):
  the person is asked by DM for the pending approvals they may now decide, and their App
  Home is drawn as they may now see it;
- the others (gates, milestones, tasks, new releases) have no Slack consequence yet; they
  are where webhooks and status posts will hook in.

The core's outbox hands every stored change (its entry, with the events it caused) to
``Reactions``, right after the write and again on the scheduler's tick if that did not
happen; whichever entry point made the change (a form, a click, the API, a script), the
same consequences follow. Reactions run off the request's path and may run twice after a
crash, so each is idempotent: request DMs are claimed per person and round, and updating
the copies of a decided approval sets them to the same content.
"""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import BotDeps
from bot.home_tab import publish_home
from core.errors import DomainError
from core.models.events import (
    AccessChanged,
    ApprovalDecided,
    ApprovalRequested,
    DomainEvent,
)
from core.models.release import ApprovalStatus, Release
from core.models.schedule import zone_or
from core.rules.readiness import MilestoneRef
from core.services.approvals import PendingApproval, milestone_ref
from core.services.outbox import Entry

log = logging.getLogger(__name__)


class Reactions:
    def __init__(self, deps: BotDeps, client: AsyncWebClient) -> None:
        self._deps = deps
        self._client = client

    async def __call__(self, release: Release | None, entry: Entry) -> None:
        if release is not None:
            await self._release_changed(release, entry.events)
        for event in entry.events:
            if isinstance(event, AccessChanged):
                await self._access_changed(event)

    async def _release_changed(self, release: Release, events: list[DomainEvent]) -> None:
        asked: list[MilestoneRef] = []
        changed: list[MilestoneRef] = []  # approvals whose deciders' Home lists changed
        decided_by: set[str] = set()
        notifier = self._deps.notifier
        for event in events:
            if isinstance(event, ApprovalRequested):
                ref = milestone_ref(release, event.ref)
                if ref is not None and _still_asked(ref, event):
                    asked.append(ref)
            elif isinstance(event, ApprovalDecided):
                ref = milestone_ref(release, event.ref)
                if ref is not None:  # every DM copy shows who decided, without buttons
                    await notifier.announce_decision(self._client, release, ref)
                    changed.append(ref)
                    decided_by.add(event.by or "")
        try:
            if asked:  # ask whoever may decide, by DM
                await notifier.request_decisions(self._client, release, asked)
        finally:
            await self._refresh_homes(release, asked + changed, but=decided_by)

    async def _access_changed(self, event: AccessChanged) -> None:
        services = self._deps.services
        try:
            actor = await services.identity.actor_by_id(event.user_id)
            pending = await services.approvals.pending_for(actor)
        except DomainError:  # gone, or no longer active: nothing to ask them
            pending = []
            actor = None
        by_release: dict[str, list[PendingApproval]] = {}
        for item in pending:
            by_release.setdefault(item.release_oid, []).append(item)
        for release_oid, items in by_release.items():
            release = await self._deps.repos.releases.get(release_oid)
            refs = [item.ref for item in items]
            await self._deps.notifier.request_decisions(self._client, release, refs)
        if actor is not None and actor.user.slack is not None:
            tz = zone_or(actor.user.time_zone, self._deps.default_tz)
            await publish_home(self._deps, self._client, actor.user.slack.user_id, actor, tz)

    async def _refresh_homes(
        self, release: Release, refs: list[MilestoneRef], *, but: set[str]
    ) -> None:
        """Draw again the App Home of everyone who may decide these approvals (their
        pending list changed), except who decided: their surface is redrawn where they
        clicked. Best effort: Home is drawn afresh whenever it is opened anyway."""
        seen: set[str] = set(but)
        for ref in refs:
            for actor in await self._deps.services.approvals.deciders(
                release, ref, as_if_pending=True
            ):
                slack = actor.user.slack
                if slack is None or actor.user_id in seen:
                    continue
                seen.add(actor.user_id)
                tz = zone_or(actor.user.time_zone, self._deps.default_tz)
                try:
                    await publish_home(self._deps, self._client, slack.user_id, actor, tz)
                except Exception:  # one Home that could not be drawn must not stop the rest
                    log.warning("could not refresh the Home of %s", actor.user.username)


def _still_asked(ref: MilestoneRef, event: ApprovalRequested) -> bool:
    """Still pending in the round the event asked for: a later round has its own event."""
    approval = ref.milestone.approval
    return approval.status is ApprovalStatus.PENDING and approval.requested_at == event.requested_at
