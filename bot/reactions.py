"""What follows a stored change in Slack, in one place: each domain event to its reaction.

The core's outbox hands every stored change (its entry, with the events it caused) to
``Reactions``, right after the write and again on the scheduler's tick if that did not
happen; whichever entry point made the change (a form, a click, the API, a script), the
same consequences follow. Reactions run off the request's path and may run twice after a
crash, so each is idempotent: request DMs are claimed per person and round, and updating
the copies of a decided approval sets them to the same content.
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.notifier import ApprovalNotifier
from core.models.events import ApprovalDecided, ApprovalRequested
from core.models.release import ApprovalStatus, Release
from core.models.timeline import TimelineEvent
from core.rules.readiness import MilestoneRef
from core.services.approvals import milestone_ref


class Reactions:
    def __init__(self, notifier: ApprovalNotifier, client: AsyncWebClient) -> None:
        self._notifier = notifier
        self._client = client

    async def __call__(self, release: Release, entry: TimelineEvent) -> None:
        asked: list[MilestoneRef] = []
        for event in entry.events:
            if isinstance(event, ApprovalRequested):
                ref = milestone_ref(release, event.ref)
                if ref is not None and _still_asked(ref, event):
                    asked.append(ref)
            elif isinstance(event, ApprovalDecided):
                ref = milestone_ref(release, event.ref)
                if ref is not None:  # every DM copy shows who decided, without buttons
                    await self._notifier.announce_decision(self._client, release, ref)
        if asked:  # ask whoever may decide, by DM
            await self._notifier.request_decisions(self._client, release, asked)


def _still_asked(ref: MilestoneRef, event: ApprovalRequested) -> bool:
    """Still pending in the round the event asked for: a later round has its own event."""
    approval = ref.milestone.approval
    return approval.status is ApprovalStatus.PENDING and approval.requested_at == event.requested_at
