"""Delegation: while away, a person's approval decisions may also be made by someone else.

Who may be named (``planned_delegation``):
- someone else, whose account is active;
- who could hold the person's vote themselves: they hold every role the person holds
  (approval policies may name any role, so every role counts, not only the approval
  flags) — or an admin (``can_manage_roles``) sets the delegation and so approves a
  delegate without them, recorded in ``Delegation.admin_approved_by``;
- who is not away themselves: a delegate cannot pass a vote on.

The delegation ends by itself at the end of the named day in the delegator's time zone,
which must be today or later, and at most ``MAX_DAYS_AHEAD`` days ahead.

**Not transitive.** A delegate decides with their own vote and with the votes of those who
delegated to them (``acting_for``), never with votes delegated to those people in turn: if
arjun delegates to dana and dana to eve, eve decides for dana only, not for arjun. Counting
votes applies this; naming a delegate who is away is refused so that a vote is not left
with someone who cannot use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.errors import PermissionDenied, RuleViolation, ValidationFailed
from core.models.rbac import Delegation, Permission, Role, User
from core.rules.operations import Operation
from core.rules.permissions import Actor

MAX_DAYS_AHEAD = 90
# Setting (or ending) someone else's delegation; an admin doing so approves the delegate.
DELEGATE_FOR_OTHERS = Operation(
    Permission.CAN_MANAGE_ROLES, "set who decides in someone else's place"
)


def day_end(day: date, zone: ZoneInfo) -> datetime:
    """The end of ``day`` in ``zone`` (the next day's midnight there), in UTC."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)


def last_day(until: datetime, zone: ZoneInfo) -> date:
    """The day a delegation ending at ``until`` was named for, in ``zone``."""
    return (until.astimezone(zone) - timedelta(microseconds=1)).date()


def planned_delegation(
    *,
    setter: Actor,
    delegator: Actor,
    delegate: Actor,
    until: date,
    zone: ZoneInfo,
    now: datetime,
) -> Delegation:
    """The delegation ``setter`` sets for ``delegator`` (themself, or anyone for an admin):
    ``delegate`` decides in their place to the end of ``until`` in ``zone`` (the delegator's).
    Raises, naming what to change, when the module's rules refuse it."""
    setter.require_active()
    own = setter.user_id == delegator.user_id
    if not own:
        DELEGATE_FOR_OTHERS.require(setter)
    whose = "your" if own else f"{delegator.user.username}'s"
    _require_day(until, zone, now)
    if delegate.user_id == delegator.user_id:
        raise RuleViolation(
            "You cannot name yourself; name the person who decides in your place."
            if own
            else f"{delegator.user.username} cannot decide in their own place; name someone else.",
            fields={"delegate": "Someone else"},
        )
    name = delegate.user.username
    if not delegate.is_active:
        raise RuleViolation(
            f"{name}'s account is {delegate.user.status.value.lower()}, so they could not "
            "decide; name someone whose account is active.",
            fields={"delegate": "Not active"},
        )
    away = delegate.user.active_delegation(now)
    if away is not None:
        raise RuleViolation(
            f"{name} is away themselves until the end of {last_day(away.until, zone):%a %d %b} "
            f"({away.delegate_username} decides in their place), and a delegate cannot pass "
            f"a vote on; name someone who is not away.",
            fields={"delegate": "Away"},
        )
    missing = missing_roles(delegator, delegate)
    approved_by: str | None = None
    if missing:
        if not DELEGATE_FOR_OTHERS.allows(setter):
            roles = ", ".join(r.role_name for r in missing)
            raise PermissionDenied(
                f"{name} cannot hold {whose} vote: they do not have {roles}. Name someone "
                f"who holds every role {'you hold' if own else 'they hold'}, or ask an admin "
                f"to set it for you (an admin's delegation approves {name}).",
                fields={"delegate": "Lacks roles"},
            )
        approved_by = setter.user.username
    return Delegation(
        delegate_user_id=delegate.user_id,
        delegate_username=name,
        until=day_end(until, zone),
        set_at=now,
        set_by=setter.user.username,
        admin_approved_by=approved_by,
    )


def missing_roles(delegator: Actor, delegate: Actor) -> list[Role]:
    """The delegator's roles the delegate does not hold, by name."""
    held = set(delegate.user.role_ids)
    mine = [r for r in delegator.roles if r.id in delegator.user.role_ids]
    return sorted((r for r in mine if r.id not in held), key=lambda r: r.role_name)


def acting_for(delegate_user_id: str, candidates: Iterable[Actor], now: datetime) -> list[Actor]:
    """The candidates whose delegation in force at ``now`` names ``delegate_user_id``: those
    this person decides for (besides themself). Not transitive: see the module docstring."""
    return [
        actor
        for actor in candidates
        if (delegation := actor.user.active_delegation(now)) is not None
        and delegation.delegate_user_id == delegate_user_id
    ]


def delegate_ids(candidates: Iterable[Actor], now: datetime) -> dict[str, str]:
    """Delegator user id → delegate user id, for the candidates away at ``now``."""
    return {
        actor.user_id: delegation.delegate_user_id
        for actor in candidates
        if (delegation := actor.user.active_delegation(now)) is not None
    }


@dataclass(frozen=True)
class DelegationStanding:
    """A person's delegations in force: who decides in their place (``away``, None when they
    are not away), and who they decide for, each with that person's delegation."""

    away: Delegation | None
    deciding_for: list[tuple[User, Delegation]]


def standing_of(user: User, delegators: Iterable[User], now: datetime) -> DelegationStanding:
    """``user``'s standing at ``now``; ``delegators``: users who may delegate to them (those
    whose delegation in force names someone else, or has ended, are left out)."""
    deciding_for = [
        (other, delegation)
        for other in delegators
        if (delegation := other.active_delegation(now)) is not None
        and delegation.delegate_user_id == user.id
    ]
    return DelegationStanding(user.active_delegation(now), deciding_for)


def _require_day(until: date, zone: ZoneInfo, now: datetime) -> None:
    today = now.astimezone(zone).date()
    if until < today:
        raise ValidationFailed(
            f"{until:%Y-%m-%d} has passed (today is {today:%Y-%m-%d}); name today or a later day.",
            fields={"until": "In the past"},
        )
    latest = today + timedelta(days=MAX_DAYS_AHEAD)
    if until > latest:
        raise ValidationFailed(
            f"A delegation lasts at most {MAX_DAYS_AHEAD} days: name a day until "
            f"{latest:%Y-%m-%d}, and set it again later if you are away longer.",
            fields={"until": f"At most {MAX_DAYS_AHEAD} days ahead"},
        )
