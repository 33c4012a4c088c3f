"""The outbox: a change, its audit entry and its events are one write; what follows comes after.

A release write carries one entry per change in ``release.outbox``: the timeline entry people
read, with the domain events the change caused (``core/events.py``). The conditional write
that stores the change stores them too, so no crash can split the two. A change to a user's
access carries its events the same way, in ``user.outbox`` (no timeline entry).

Then, in order:
1. ``record`` (right after the write, on the request's path): the entry is appended to the
   timeline, which stores an entry once however often it is appended, so the history agrees
   with the data at once.
2. Dispatch (soon after, in the background, when a process has connected its reactions; on
   the aggregate as it is by then): each entry is claimed for a lease, appended to the
   timeline if step 1 did not happen, handed to the reactions, removed from the outbox, and
   its claim completed. One replica handles it.
3. ``dispatch_pending`` (every scheduler tick, every replica): whatever a stopped process, a
   failed reaction or a process without reactions (a script) left in outboxes goes through
   step 2. A reaction that failed is retried on the next tick, for a day at most (then given
   up, with an error logged); nothing is lost on restart.

Reactions must be safe to run twice for the rare crash between reacting and the clean-up.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence, Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from core.clock import Clock
from core.models.events import AccessChanged, PendingEvents
from core.models.rbac import SlackIdentity, User
from core.models.release import Release
from core.models.timeline import TimelineEvent
from core.ports import ClaimRepository, ReleaseRepository, TimelineRepository, UserRepository

log = logging.getLogger(__name__)
PENDING_BATCH = 100
LEASE = timedelta(minutes=15)  # a dispatcher that stopped mid-way is taken over after this
GIVE_UP = timedelta(days=1)  # reactions failing for this long are given up (logged)

Entry = TimelineEvent | PendingEvents
# What follows one stored change (its entry, with its events), for the release as it is now
# (None for a change to a user: access changes belong to no release).
React = Callable[[Release | None, Entry], Awaitable[None]]
# Runs a job soon, off the request's path (the bot's after-ack queue).
Later = Callable[[Callable[[], Awaitable[None]]], None]


@dataclass(frozen=True)
class _Box:
    """One aggregate's outbox: its entries, and how they leave it."""

    label: str
    entries: Sequence[Entry]
    release: Release | None
    clear: Callable[[list[str]], Awaitable[None]]


def access_change(
    user: User, change: str, at: datetime, slack: SlackIdentity | None = None
) -> PendingEvents:
    """The outbox entry of a change to what ``user`` may do, written with it. ``slack``: the
    Slack person concerned when it is not (or no longer) the user's own link."""
    slack = slack or user.slack
    event = AccessChanged(
        user_id=user.id, change=change, slack_user_id=slack.user_id if slack else None
    )
    return PendingEvents(at=at, events=[event])


class Outbox:
    def __init__(
        self,
        releases: ReleaseRepository,
        users: UserRepository,
        timeline: TimelineRepository,
        claims: ClaimRepository,
        clock: Clock,
        *,
        lease: timedelta = LEASE,
    ) -> None:
        self._releases = releases
        self._users = users
        self._timeline = timeline
        self._claims = claims
        self._clock = clock
        self._lease = lease
        self._react: React | None = None
        self._later: Later | None = None

    def connect(self, react: React, later: Later) -> None:
        """Hand every stored change to ``react``, run by ``later`` right after the write."""
        self._react, self._later = react, later

    async def record(self, release: Release, *, written: Sequence[Entry] | None = None) -> None:
        """Right after a release write: the timeline now, the reactions soon, of ``written``
        (the entries this write added; all of them for a new release). Entries an earlier
        write left are that write's reaction's, or the tick's: taking them again on every
        write would make a busy release's writes cost more the further reactions lag."""
        entries = list(release.outbox if written is None else written)
        if not entries:
            return
        try:
            await self._timeline.append([e for e in entries if isinstance(e, TimelineEvent)])
        except Exception:  # the change is stored; its entries wait for the next tick
            log.warning("outbox of %s left for later", release.release_id, exc_info=True)
            return
        release_oid, ids = release.id, {e.id for e in entries}
        if not any(e.events for e in entries):
            # Nothing to react to: the entries only have to leave, in one write, unread.
            if self._later is not None:
                self._later(partial(self._release_box(release).clear, sorted(ids)))
            return

        async def load() -> _Box:
            return self._release_box(await self._releases.with_entries(release_oid, sorted(ids)))

        self._soon(load, appended=ids)

    def record_user(self, user: User) -> None:
        """Right after a user write: the reactions soon."""
        if not user.outbox:
            return
        user_id = user.id

        async def load() -> _Box:
            return self._user_box(await self._users.get(user_id))

        self._soon(load, appended=frozenset())

    async def dispatch_pending(self, *, limit: int = PENDING_BATCH) -> int:
        """Deliver what earlier writes left in outboxes; the number of entries delivered."""
        boxes = [self._release_box(r) for r in await self._releases.with_outbox(limit=limit)]
        boxes += [self._user_box(u) for u in await self._users.with_outbox(limit=limit)]
        delivered = 0
        for box in boxes:
            try:
                delivered += await self._dispatch(box)
            except Exception:  # one aggregate's failure must not hold up the others
                log.warning("outbox of %s left for later", box.label, exc_info=True)
        return delivered

    def _release_box(self, release: Release) -> _Box:
        async def clear(ids: list[str]) -> None:
            await self._releases.clear_outbox(release.id, ids)

        return _Box(release.release_id, release.outbox, release, clear)

    def _user_box(self, user: User) -> _Box:
        async def clear(ids: list[str]) -> None:
            await self._users.clear_outbox(user.id, ids)

        return _Box(f"user {user.username}", user.outbox, None, clear)

    def _soon(self, load: Callable[[], Awaitable[_Box]], *, appended: Set[str]) -> None:
        if self._later is None:
            return  # left for a process that reacts (the bot's tick)

        async def react() -> None:
            # Reactions act on the aggregate as it is now, not as it was written: an
            # approval decided meanwhile is not asked for.
            await self._dispatch(await load(), appended=appended)

        self._later(react)

    async def _dispatch(self, box: _Box, *, appended: Set[str] = frozenset()) -> int:
        """Each entry leaves the outbox (and its claim is completed) as soon as it is
        delivered, so one slow entry never holds the others past their lease."""
        quiet = [e for e in box.entries if not e.events]
        if quiet:  # nothing to react to: into the timeline if need be, out in one write
            missing = [e for e in quiet if isinstance(e, TimelineEvent) and e.id not in appended]
            if missing:
                await self._timeline.append(missing)
            await box.clear([e.id for e in quiet])
        delivered = len(quiet)
        for entry in box.entries:
            if entry.events:
                delivered += await self._deliver(box, entry, appended=entry.id in appended)
        return delivered

    async def _deliver(self, box: _Box, entry: Entry, *, appended: bool) -> bool:
        missing = entry if isinstance(entry, TimelineEvent) and not appended else None
        if self._react is None:
            if missing is not None:
                await self._timeline.append([missing])
            return False  # the events wait for a process that reacts (the bot's tick)
        key, owner = f"outbox:{entry.id}", uuid.uuid4().hex
        if not await self._claims.claim(key, now=self._clock(), ttl=self._lease, owner=owner):
            # Another replica is delivering it; or it was delivered and its clean-up failed
            # (or a version before this one wrote it back): then it only has to go.
            if await self._claims.finished(key):
                await box.clear([entry.id])
            return False
        try:
            if missing is not None:
                await self._timeline.append([missing])
            await self._react(box.release, entry)
        except BaseException as error:
            if isinstance(error, Exception) and self._given_up(box, entry):
                log.error("gave up reacting to %s of %s", entry.id, box.label, exc_info=True)
            else:  # retried on a later tick (or after a restart, for a cancelled one)
                await self._claims.release(key, owner=owner)
                if not isinstance(error, Exception):
                    raise
                log.exception("reactions to %s of %s failed; retried", entry.id, box.label)
                return False
        # Out of the outbox before the claim is completed: a crash in between leaves an
        # expiring claim on nothing, never a finished claim on an entry still waiting.
        await box.clear([entry.id])
        await self._claims.complete(key, now=self._clock(), owner=owner)
        return True

    def _given_up(self, box: _Box, entry: Entry) -> bool:
        """An entry whose reactions kept failing for ``GIVE_UP`` leaves the outbox (logged
        as an error) instead of being retried on every tick forever."""
        return self._clock() - entry.at > GIVE_UP
