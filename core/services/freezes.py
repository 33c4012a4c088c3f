"""Freeze windows: planned and ended by release managers, read by everyone, and checked
(``core.rules.freeze.check_unfrozen``) by approvals and gate moves of `prod` milestones."""

from __future__ import annotations

from datetime import datetime

from core.clock import Clock
from core.errors import NotFound, RuleViolation, literal
from core.kept import Kept
from core.models.common import NAME_MAX, is_object_id
from core.models.freeze import FreezeDraft, FreezeWindow
from core.models.release import Release
from core.ports import FreezeRepository
from core.rules.freeze import MANAGE_FREEZES, FreezeOutlook, active_at, outlook
from core.rules.permissions import Actor
from core.suggestions import closest


class FreezeService:
    def __init__(self, freezes: FreezeRepository, clock: Clock) -> None:
        self._freezes = freezes
        self._clock = clock
        # What status, Home and the digest show (``core.kept``); never what a rule checks.
        self._shown: Kept[list[FreezeWindow]] = Kept(
            lambda: self._freezes.list_open(now=self._clock())
        )

    async def create(self, actor: Actor, draft: FreezeDraft) -> FreezeWindow:
        """A window that is still to end: one already over would freeze nothing."""
        MANAGE_FREEZES.require(actor)
        now = self._clock()
        if draft.ends_at <= now:
            raise RuleViolation(
                f"The freeze '{draft.name}' would already be over; pick an end in the future.",
                fields={"ends_at": "Already past: pick an end in the future"},
            )
        window = FreezeWindow(**draft.model_dump(), created_by=actor.user_id, created_at=now)
        added = await self._freezes.add(window)
        self._shown.drop()
        return added

    async def end(self, actor: Actor, ref: str) -> FreezeWindow:
        """End the window ``ref`` names (its id, or the name of an open one) now: one on
        stops freezing, one to come is called off."""
        MANAGE_FREEZES.require(actor)
        now = self._clock()
        window = await self._find(ref, now)
        if window.ended_at is not None or window.closes_at <= now:
            raise _already_over(window)
        if not await self._freezes.end(window.id, ended_at=now, ended_by=actor.user_id):
            raise _already_over(await self._freezes.get(window.id))  # ended meanwhile
        self._shown.drop()
        return await self._freezes.get(window.id)

    async def open(self, actor: Actor) -> list[FreezeWindow]:
        """The windows on now and those still to come, the first to start first."""
        actor.require_active()
        return await self._freezes.list_open(now=self._clock())

    async def outlook(
        self, release: Release | None = None, *, at: datetime | None = None
    ) -> FreezeOutlook:
        """What status, App Home and the digest show: the windows on now and those starting
        within the horizon, as kept for display (``core.kept``: no read most of the time);
        only those touching ``release`` when given (one the caller has already read for the
        person, who may see it). ``at``: another moment than the clock's (a tick's)."""
        now = at or self._clock()
        return outlook(await self._shown.get(), now, release)

    async def active_windows(self) -> list[FreezeWindow]:
        """The windows on now, in one read: what a decision or a gate move is checked
        against (``check_unfrozen``)."""
        now = self._clock()
        return [w for w in await self._freezes.list_open(now=now) if active_at(w, now)]

    async def _find(self, ref: str, now: datetime) -> FreezeWindow:
        ref = ref.strip()
        shown = ref if len(ref) <= NAME_MAX else ref[:NAME_MAX] + "…"
        if is_object_id(ref):
            return await self._freezes.get(ref)
        opened = await self._freezes.list_open(now=now)
        named = [w for w in opened if w.name.casefold() == ref.casefold()]
        if len(named) == 1:
            return named[0]
        if named:
            ids = ", ".join(w.id for w in named)
            raise RuleViolation(
                f"{len(named)} open freezes are named '{shown}'; end one by its id ({ids})."
            )
        raise NotFound(
            f"No open freeze named '{shown}'.",
            suggestions=closest(ref, [w.name for w in opened]),
        )


def _already_over(window: FreezeWindow) -> RuleViolation:
    if window.ended_at is not None:
        return RuleViolation(
            f"The freeze '{literal(window.name)}' was already ended, at {{at}}.",
            moments={"at": window.ended_at},
        )
    return RuleViolation(f"The freeze '{window.name}' is already over.")
