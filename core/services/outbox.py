"""The outbox: a change, its audit entry and its events are one write; what follows comes after.

A release write carries one entry per change in ``release.outbox``: the timeline entry people
read, with the domain events the change caused (``core/events.py``). The conditional write
that stores the change stores them too, so no crash can split the two.

Then, in order:
1. ``record`` (right after the write, on the request's path): the entry is appended to the
   timeline, which stores an entry once however often it is appended, so the history agrees
   with the data at once.
2. ``dispatch`` (soon after, in the background, when a process has connected its reactions):
   each entry is claimed for a lease, appended again if step 1 did not happen, handed to the
   reactions, removed from the outbox, and its claim completed. One replica handles it.
3. ``dispatch_pending`` (every scheduler tick, every replica): whatever a stopped process, a
   failed reaction or a process without reactions (a script) left in outboxes goes through
   step 2. A reaction that failed is retried on the next tick; nothing is lost on restart.

Reactions must be safe to run twice for the rare crash between reacting and the clean-up.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from core.clock import Clock
from core.models.release import Release
from core.models.timeline import TimelineEvent
from core.ports import ClaimRepository, ReleaseRepository, TimelineRepository

log = logging.getLogger(__name__)
PENDING_BATCH = 100
LEASE = timedelta(minutes=5)  # a dispatcher that stopped mid-way is taken over after this

# What follows one stored change (its entry, with its events), for the release as it is now.
React = Callable[[Release, TimelineEvent], Awaitable[None]]
# Runs a job soon, off the request's path (the bot's after-ack queue).
Later = Callable[[Callable[[], Awaitable[None]]], None]


class Outbox:
    def __init__(
        self,
        releases: ReleaseRepository,
        timeline: TimelineRepository,
        claims: ClaimRepository,
        clock: Clock,
        *,
        lease: timedelta = LEASE,
    ) -> None:
        self._releases = releases
        self._timeline = timeline
        self._claims = claims
        self._clock = clock
        self._lease = lease
        self._react: React | None = None
        self._later: Later | None = None

    def connect(self, react: React, later: Later) -> None:
        """Hand every stored change to ``react``, run by ``later`` right after the write."""
        self._react, self._later = react, later

    async def record(self, release: Release) -> None:
        """Right after the write: the timeline now, the reactions soon."""
        if not release.outbox:
            return
        try:
            await self._timeline.append(release.outbox)
        except Exception:  # the change is stored; its entries wait for the next tick
            log.warning("outbox of %s left for later", release.release_id, exc_info=True)
            return
        if self._later is not None:

            async def react() -> None:
                await self.dispatch(release, appended=True)

            self._later(react)

    async def dispatch(self, release: Release, *, appended: bool = False) -> int:
        """Deliver the release's outbox entries nobody else holds; how many were delivered.

        An entry leaves the outbox before its claim is completed: a crash in between leaves
        an expiring claim on nothing, never a finished claim on an entry still waiting."""
        done: list[TimelineEvent] = []
        claimed: list[tuple[str, str]] = []
        for entry in release.outbox:
            delivered, claim = await self._deliver(release, entry, appended=appended)
            if delivered:
                done.append(entry)
            if claim is not None:
                claimed.append(claim)
        if done:
            await self._releases.clear_outbox(release.id, [e.id for e in done])
        for key, owner in claimed:
            await self._claims.complete(key, now=self._clock(), owner=owner)
        return len(done)

    async def dispatch_pending(self, *, limit: int = PENDING_BATCH) -> int:
        """Deliver what earlier writes left in outboxes; the number of entries delivered."""
        delivered = 0
        for release in await self._releases.with_outbox(limit=limit):
            try:
                delivered += await self.dispatch(release)
            except Exception:  # one release's failure must not hold up the others
                log.warning("outbox of %s left for later", release.release_id, exc_info=True)
        return delivered

    async def _deliver(
        self, release: Release, entry: TimelineEvent, *, appended: bool
    ) -> tuple[bool, tuple[str, str] | None]:
        """(delivered, the claim to complete once it has left the outbox)."""
        if not entry.events or self._react is None:
            if not appended:
                await self._timeline.append([entry])
            # Events wait in the outbox for a process that reacts (the bot's tick).
            return not entry.events, None
        key, owner = f"outbox:{entry.id}", uuid.uuid4().hex
        if not await self._claims.claim(key, now=self._clock(), ttl=self._lease, owner=owner):
            # Another replica is delivering it; or it was delivered, and a writer that read
            # the outbox before it was cleared wrote it back: then it only has to go.
            return await self._claims.finished(key), None
        try:
            if not appended:
                await self._timeline.append([entry])
            await self._react(release, entry)
        except Exception:
            await self._claims.release(key, owner=owner)
            log.exception("reactions to %s of %s failed; retried later", entry.id, release.id)
            return False, None
        return True, (key, owner)
