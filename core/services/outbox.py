"""The outbox: a change and its audit entries are one write; delivering them comes after.

A release write carries its timeline entries in ``release.outbox``, so the conditional
write that stores the change stores them too: no crash can split the two. Right after the
write they are delivered (appended to the timeline, which stores an entry once however often
it is delivered) and removed from the outbox. An entry whose delivery did not happen — the
process stopped, the database failed in between — stays in the outbox; ``deliver_pending``,
run on every scheduler tick by every replica, delivers it later, exactly once in effect.
"""

from __future__ import annotations

import logging

from core.models.release import Release
from core.ports import ReleaseRepository, TimelineRepository

log = logging.getLogger(__name__)
PENDING_BATCH = 100


class Outbox:
    def __init__(self, releases: ReleaseRepository, timeline: TimelineRepository) -> None:
        self._releases = releases
        self._timeline = timeline

    async def deliver(self, release: Release) -> bool:
        """Deliver the release's outbox; False (and left for later) when storage failed."""
        if not release.outbox:
            return True
        try:
            await self._timeline.append(release.outbox)
            await self._releases.clear_outbox(release.id, [e.id for e in release.outbox])
        except Exception:  # the change is stored; its entries wait for the next tick
            log.warning("outbox of %s left for later", release.release_id, exc_info=True)
            return False
        release.outbox = []
        return True

    async def deliver_pending(self, *, limit: int = PENDING_BATCH) -> int:
        """Deliver what earlier writes left in outboxes; the number of entries delivered."""
        delivered = 0
        for release in await self._releases.with_outbox(limit=limit):
            count = len(release.outbox)
            if await self.deliver(release):
                delivered += count
        return delivered
