"""Delegation: who decides in a person's place while they are away (rules in
``core/rules/delegation.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from core.clock import Clock
from core.errors import NotFound
from core.models.events import PendingEvents
from core.models.rbac import Delegation, User
from core.models.schedule import zone_or
from core.ports import UserRepository
from core.rules.delegation import (
    DELEGATE_FOR_OTHERS,
    DelegationStanding,
    last_day,
    planned_delegation,
    standing_of,
)
from core.rules.permissions import Actor
from core.services.identity import IdentityService
from core.services.outbox import Outbox, access_change


@dataclass(frozen=True)
class DelegationEnded:
    """After ``clear``: the delegator as stored, and the delegation that was in force (None
    when there was none)."""

    delegator: User
    ended: Delegation | None


class DelegationService:
    """Set, end and show delegations. Each change is one targeted write to the delegator's
    document, carrying in its outbox an ``AccessChanged`` for the delegator and one for the
    delegate (whose decisions changed): the reactions ask each of them by DM for what they
    may decide now and draw their App Home again."""

    def __init__(
        self, users: UserRepository, identity: IdentityService, clock: Clock, outbox: Outbox
    ) -> None:
        self._users = users
        self._identity = identity
        self._clock = clock
        self._outbox = outbox

    async def delegate(
        self,
        actor: Actor,
        delegate: str | User,
        until: date,
        zone: ZoneInfo,
        *,
        for_user: str | User | None = None,
    ) -> User:
        """``delegate`` (a username, or the user) decides in the place of ``actor`` — or of
        ``for_user``, for an admin — to the end of ``until`` in the delegator's time zone
        (``zone`` when theirs is not known). Replaces a delegation in force. The delegator as
        stored after the write."""
        actor.require_active()
        delegator = await self._delegator(actor, for_user)
        chosen = await self._identity.actor_for(await self._user(delegate))
        now = self._clock()
        zone = zone_or(delegator.user.time_zone, zone)
        delegation = planned_delegation(
            setter=actor, delegator=delegator, delegate=chosen, until=until, zone=zone, now=now
        )
        day = f"{last_day(delegation.until, zone):%Y-%m-%d}"
        caused = self._caused(
            delegator.user,
            chosen.user,
            f"delegated decisions to {chosen.user.username} until {day}",
            f"decides for {delegator.user.username} until {day}",
        )
        return self._recorded(
            await self._users.set_delegation(delegator.user_id, delegation, caused=caused)
        )

    async def clear(self, actor: Actor, *, for_user: str | User | None = None) -> DelegationEnded:
        """End the delegation of ``actor`` (or of ``for_user``, for an admin). With none in
        force nothing is said to change (an ended one left stored is cleaned up)."""
        actor.require_active()
        delegator = await self._delegator(actor, for_user)
        return await self._end(delegator.user)

    async def end_all_of(self, user: User) -> list[DelegationEnded]:
        """A user was disabled: their own delegation ends, and every one naming them as the
        delegate, each as ``clear`` ends one (the same events follow). Read afresh, so a
        second run ends nothing more."""
        ended = [await self._end(await self._users.get(user.id))]
        for delegator in await self._users.delegating_to(user.id, now=self._clock()):
            ended.append(await self._end(delegator))
        return [e for e in ended if e.ended is not None]

    async def _end(self, user: User) -> DelegationEnded:
        ended = user.active_delegation(self._clock())
        if user.delegation is None:
            return DelegationEnded(user, None)
        caused = None
        if ended is not None:
            delegate = await self._users.get(ended.delegate_user_id)
            caused = self._caused(
                user,
                delegate,
                f"ended the delegation to {ended.delegate_username}",
                f"no longer decides for {user.username}",
            )
        user = self._recorded(await self._users.set_delegation(user.id, None, caused=caused))
        return DelegationEnded(user, ended)

    async def standing(self, actor: Actor) -> DelegationStanding:
        """What ``whoami`` and App Home show: who delegates to the actor, from who is away as
        kept for display (``core.kept``; no read most of the time)."""
        now = self._clock()
        delegators = [
            u
            for u in await self._identity.away_shown()
            if (d := u.active_delegation(now)) is not None and d.delegate_user_id == actor.user_id
        ]
        return standing_of(actor.user, delegators, now)

    async def _delegator(self, actor: Actor, for_user: str | User | None) -> Actor:
        """The actor, or (for an admin only: refused before anyone is looked up) the user they
        set a delegation for, read fresh."""
        if for_user is None:
            return actor
        DELEGATE_FOR_OTHERS.require(actor)
        return await self._identity.actor_for(await self._user(for_user))

    async def _user(self, who: str | User) -> User:
        """A user as stored now: by username (ignoring case), or the given one read again."""
        if isinstance(who, User):
            return await self._users.get(who.id)
        try:
            return await self._users.get_by_username(who)
        except NotFound:
            raise NotFound(
                f"No user '{str(who).strip()}'; name a releasebot user by @mention or username.",
                fields={"delegate": "Unknown user"},
            ) from None

    def _caused(self, delegator: User, delegate: User, change: str, theirs: str) -> PendingEvents:
        now = self._clock()
        events = access_change(delegator, change, now).events
        events += access_change(delegate, theirs, now).events
        return PendingEvents(at=now, events=events)

    def _recorded(self, user: User) -> User:
        """After a delegation was written: its reactions soon, and who is away read again."""
        self._identity.delegations_changed()
        self._outbox.record_user(user)
        return user
