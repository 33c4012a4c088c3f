"""Apply a change to the release aggregate with optimistic concurrency, recording what it did
(the timeline entry) and what it caused (domain events) in the same write."""

from __future__ import annotations

import asyncio
import random
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.clock import Clock
from core.errors import Conflict, NotFound, StaleVersion
from core.events import caused, snapshot
from core.models.approval import BreakGlass
from core.models.events import DomainEvent
from core.models.freeze import FreezeWindow
from core.models.release import Release
from core.models.timeline import TargetPath, TimelineEvent
from core.ports import ReleaseRepository
from core.rules import approvals, audit
from core.rules.approvals import Withdrawn
from core.rules.archive import require_not_archived
from core.rules.freeze import NeedsWindows
from core.rules.permissions import Actor, unknown_release
from core.services.outbox import Outbox
from core.suggestions import CANDIDATES, closest

MAX_ATTEMPTS = 40


@dataclass(frozen=True)
class Recorded:
    """What one change did, for the timeline."""

    action: str
    target: TargetPath = field(default_factory=TargetPath)
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    comment: str | None = None


# A change gets a freshly loaded release and the time; it mutates the release in place and
# returns what it did, or None when there was nothing to change. It may raise domain errors.
ChangeFn = Callable[[Release, datetime], Recorded | None]
# The same, also given the freeze windows on now: None until it asks for them (NeedsWindows).
GuardedFn = Callable[[Release, datetime, Sequence[FreezeWindow] | None], Recorded | None]


class ReleaseChanges:
    """Read, change in Python, write back conditioned on ``version``; retry on a lost race.

    The change's timeline entry and the events it caused ride in the same write (the
    release's outbox). Round trips on the caller's path: one read (none when the caller
    read the release already), one conditional write, one timeline insert; reactions and
    the outbox clean-up follow off that path.
    """

    def __init__(self, releases: ReleaseRepository, outbox: Outbox, clock: Clock) -> None:
        self._releases = releases
        self._outbox = outbox
        self._clock = clock
        # One writer at a time per release in this process: sixteen CI reports on one release
        # at once would otherwise each lose the race to the others, re-read and retry (each
        # change paid for about forty times). Other replicas still meet the version check.
        self._turns: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def _turn(self, release_oid: str) -> asyncio.Lock:
        turn = self._turns.get(release_oid)
        if turn is None:
            turn = self._turns[release_oid] = asyncio.Lock()
        return turn

    async def apply(
        self,
        actor: Actor,
        ref: str,
        change: ChangeFn,
        *,
        read: Release | None = None,
        archived_ok: bool = False,
    ) -> Release:
        """``read``: the release ``ref`` names (by ``_id``) as the caller read it a moment ago
        (the approvals list or App Home a decision is made from). The first attempt starts
        from a copy of it instead of reading again, checked as ``visible_release`` checks;
        the write is conditioned on its version as on any other, so if the release changed
        since, it is refused and the next attempt reads afresh.

        An archived release is changed by nothing (``core.rules.archive``) but the changes
        that say ``archived_ok`` (archiving and restoring, which check it themselves)."""
        for attempt in range(MAX_ATTEMPTS):
            given = None
            if attempt == 0 and read is not None and read.id == ref:
                given = read.model_copy(deep=True)  # changed here; the caller's stays as read
            release = await visible_release(
                self._releases, actor, ref, read=given, with_outbox=False
            )
            turn = self._turn(release.id)
            waited = turn.locked()
            async with turn:
                if waited:  # another change to it went first here: start from what it wrote
                    release = await visible_release(self._releases, actor, ref, with_outbox=False)
                if not archived_ok:
                    require_not_archived(release)
                now = self._clock()
                before = snapshot(release)
                recorded = change(release, now)
                if recorded is None:
                    return release
                withdrawn = approvals.withdraw_stale(release, before.evidence, now, actor)
                entries = [
                    self.event(actor, release, recorded, now, events=caused(before, release))
                ]
                entries += [self.event(actor, release, _withdrawal(w), now) for w in withdrawn]
                entries += [
                    self.event(actor, release, _broke_glass(b), now)
                    for b in release.break_glass[before.break_glass :]
                ]
                for entry in entries:  # the audit chain grows with the release, in one write
                    audit.chain(release, entry)
                release.outbox.extend(entries)
                try:
                    saved = await self._releases.save(release, added=entries)
                except StaleVersion:  # another replica's change went first
                    saved = None
            if saved is None:
                await asyncio.sleep(random.uniform(0, 0.002 * (attempt + 1)))
                continue
            await self._outbox.record(saved, written=entries)
            return saved
        raise Conflict(
            f"Release '{ref}' is being changed by others right now; try again in a moment."
        )

    async def apply_guarded(
        self,
        actor: Actor,
        ref: str,
        change: GuardedFn,
        windows: Callable[[], Awaitable[Sequence[FreezeWindow]]],
        *,
        read: Release | None = None,
    ) -> Release:
        """``apply`` for a change a freeze may hold: it runs without the freeze windows, and
        only if it asks for them (a prod approval, a gate of a prod milestone passing) are
        they read and the change made again with them."""
        try:
            return await self.apply(actor, ref, lambda r, now: change(r, now, None), read=read)
        except NeedsWindows:
            on = await windows()
        return await self.apply(actor, ref, lambda r, now: change(r, now, on))

    @staticmethod
    def event(
        actor: Actor,
        release: Release,
        recorded: Recorded,
        now: datetime,
        *,
        events: list[DomainEvent] | None = None,
    ) -> TimelineEvent:
        """The outbox entry of one change: what people read, and what it caused."""
        return TimelineEvent(
            release_oid=release.id,
            release_id=release.release_id,
            actor=actor.as_event_actor(),
            action=recorded.action,
            target=recorded.target,
            before=recorded.before,
            after=recorded.after,
            comment=recorded.comment,
            at=now,
            events=events or [],
        )


def _broke_glass(record: BreakGlass) -> Recorded:
    """The timeline's (and the audit's) word on a change made through a freeze."""
    return Recorded(
        "freeze.break_glass",
        after={"freeze": record.freeze_name, "freeze_id": record.freeze_id, "what": record.what},
        comment=record.reason,
    )


def _withdrawal(withdrawn: Withdrawn) -> Recorded:
    """The timeline's word on votes withdrawn by a change: whose, and why."""
    target = TargetPath(
        product_id=withdrawn.product_id,
        gate_name=withdrawn.gate_name,
        milestone_key=withdrawn.milestone.milestone_key,
    )
    withdrawal = withdrawn.withdrawal
    return Recorded(
        "approval.votes_withdrawn",
        target,
        before={"votes": withdrawal.voters},
        after={"status": withdrawn.milestone.approval.status.value},
        comment=f"Withdrawn: {withdrawal.reason}",
    )


async def visible_release(
    releases: ReleaseRepository,
    actor: Actor,
    ref: str,
    *,
    read: Release | None = None,
    with_outbox: bool = True,
) -> Release:
    """The release ``ref`` names, if the actor may see it (``read``: as already read, checked
    the same way without reading it again).

    Every read and write by release reference comes through here. A release in squads the
    actor is not in answers exactly like an unknown id (same error, same message, the id as
    typed), so its existence is not disclosed; a disabled actor is told so before either.
    Not finding it costs one more query, for "did you mean": the ids of the newest releases
    the actor may see, so an invisible release is never offered and never changes the answer.
    """
    actor.require_active()
    try:
        release = read if read is not None else await releases.get(ref, with_outbox=with_outbox)
        actor.require_view(release, ref)
    except NotFound:
        ids = await releases.recent_ids(squads=actor.visible_squads(), limit=CANDIDATES)
        raise unknown_release(ref).suggesting(closest(ref, ids)) from None
    return release


def jsonable(values: dict[str, Any]) -> dict[str, Any]:
    """Values as the timeline stores them: datetimes as ISO-8601 strings."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}
