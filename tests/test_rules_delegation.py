"""Delegation rules (core/rules/delegation.py): who may be named, until when, and who a
delegate decides for."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.errors import DomainError, PermissionDenied, RuleViolation, ValidationFailed
from core.models.rbac import Delegation, Permission, Role, User, UserStatus
from core.rules.delegation import (
    MAX_DAYS_AHEAD,
    acting_for,
    day_end,
    delegate_ids,
    last_day,
    missing_roles,
    planned_delegation,
)
from core.rules.permissions import Actor
from tests.support import T0

BERLIN = ZoneInfo("Europe/Berlin")
APPROVER = Role(role_name="Approval Manager", is_approval_manager=True, created_at=T0)
PAYMENTS = Role(role_name="Payments Owner", created_at=T0)
ADMIN = Role.model_validate(
    {"role_name": "Admin", "created_at": T0, **{p.value: True for p in Permission}}
)
ROLES = (APPROVER, PAYMENTS, ADMIN)
XMAS_EVE = date(2026, 12, 24)


def person(
    username: str,
    *roles: Role,
    status: UserStatus = UserStatus.ACTIVE,
    delegation: Delegation | None = None,
) -> Actor:
    user = User(
        username=username,
        full_name=username.title(),
        email=f"{username}@example.com",
        role_ids=[r.id for r in roles],
        status=status,
        delegation=delegation,
        created_at=T0,
    )
    return Actor(user, ROLES)


def away_to(delegate: Actor, until: datetime = T0 + timedelta(days=3)) -> Delegation:
    return Delegation(
        delegate_user_id=delegate.user_id,
        delegate_username=delegate.user.username,
        until=until,
        set_at=T0,
        set_by="someone",
    )


def plan(
    delegator: Actor, delegate: Actor, *, setter: Actor | None = None, until: date = XMAS_EVE
) -> Delegation:
    return planned_delegation(
        setter=setter or delegator,
        delegator=delegator,
        delegate=delegate,
        until=until,
        zone=BERLIN,
        now=T0,
    )


def refused(error: pytest.ExceptionInfo[DomainError]) -> tuple[type[DomainError], str]:
    return type(error.value), error.value.message


def test_a_delegate_holding_every_role_of_mine_decides_until_the_end_of_the_day_in_my_zone() -> (
    None
):
    arjun = person("arjun", APPROVER, PAYMENTS)
    dana = person("dana", APPROVER, PAYMENTS)

    delegation = plan(arjun, dana)

    assert delegation == Delegation(
        delegate_user_id=dana.user_id,
        delegate_username="dana",
        until=datetime(2026, 12, 24, 23, 0, tzinfo=UTC),  # midnight in Berlin
        set_at=T0,
        set_by="arjun",
        admin_approved_by=None,
    )
    assert last_day(delegation.until, BERLIN) == XMAS_EVE


def test_naming_yourself_is_refused() -> None:
    arjun = person("arjun", APPROVER)

    with pytest.raises(RuleViolation) as error:
        plan(arjun, arjun)

    assert "You cannot name yourself" in error.value.message


def test_a_delegate_without_one_of_my_roles_is_refused_naming_the_role() -> None:
    arjun = person("arjun", APPROVER, PAYMENTS)
    dana = person("dana", APPROVER)

    with pytest.raises(PermissionDenied) as error:
        plan(arjun, dana)

    assert "dana cannot hold your vote: they do not have Payments Owner" in error.value.message
    assert "ask an admin to set it for you" in error.value.message
    assert missing_roles(arjun, dana) == [PAYMENTS]


def test_an_admin_approves_a_delegate_without_the_roles_and_it_is_recorded() -> None:
    arjun = person("arjun", APPROVER)
    dana = person("dana")
    root = person("root", ADMIN)

    delegation = plan(arjun, dana, setter=root)

    assert (delegation.set_by, delegation.admin_approved_by) == ("root", "root")


def test_only_an_admin_sets_someone_elses_delegation() -> None:
    arjun = person("arjun", APPROVER)
    rhea = person("rhea", APPROVER)

    with pytest.raises(PermissionDenied) as error:
        plan(arjun, rhea, setter=person("dana", APPROVER))

    assert "'can_manage_roles' permission to set who decides in someone else's place" in (
        error.value.message
    )


def test_a_delegate_who_is_away_cannot_take_my_vote_on() -> None:
    eve = person("eve", APPROVER)
    dana = person("dana", APPROVER, delegation=away_to(eve))

    with pytest.raises(RuleViolation) as error:
        plan(person("arjun", APPROVER), dana)

    assert refused(error) == (
        RuleViolation,
        "dana is away themselves until the end of Fri 04 Dec (eve decides in their place), and "
        "a delegate cannot pass a vote on; name someone who is not away.",
    )


def test_a_delegate_whose_own_delegation_ended_may_be_named() -> None:
    eve = person("eve", APPROVER)
    dana = person("dana", APPROVER, delegation=away_to(eve, until=T0))  # ended just now

    assert plan(person("arjun", APPROVER), dana).delegate_username == "dana"


def test_an_inactive_delegate_is_refused() -> None:
    dana = person("dana", APPROVER, status=UserStatus.DISABLED)

    with pytest.raises(RuleViolation) as error:
        plan(person("arjun", APPROVER), dana)

    assert "dana's account is disabled" in error.value.message


def test_an_inactive_person_cannot_delegate() -> None:
    arjun = person("arjun", APPROVER, status=UserStatus.DISABLED)

    with pytest.raises(PermissionDenied):
        plan(arjun, person("dana", APPROVER))


def test_the_day_must_be_today_or_later_and_at_most_90_days_ahead() -> None:
    arjun, dana = person("arjun", APPROVER), person("dana", APPROVER)
    today = date(2026, 12, 1)

    with pytest.raises(ValidationFailed) as past:
        plan(arjun, dana, until=today - timedelta(days=1))
    with pytest.raises(ValidationFailed) as far:
        plan(arjun, dana, until=today + timedelta(days=MAX_DAYS_AHEAD + 1))

    assert "2026-11-30 has passed (today is 2026-12-01)" in past.value.message
    assert "at most 90 days: name a day until 2027-03-01" in far.value.message
    assert plan(arjun, dana, until=today).until == day_end(today, BERLIN)
    assert plan(arjun, dana, until=today + timedelta(days=MAX_DAYS_AHEAD)).until > T0


def test_a_delegate_acts_for_those_away_now_and_not_transitively() -> None:
    eve = person("eve", APPROVER)
    dana = person("dana", APPROVER, delegation=away_to(eve))
    arjun = person("arjun", APPROVER, delegation=away_to(dana))
    over = person("omar", APPROVER, delegation=away_to(dana, until=T0 - timedelta(hours=1)))
    everyone = [arjun, dana, eve, over]

    assert acting_for(dana.user_id, everyone, T0) == [arjun]
    assert acting_for(eve.user_id, everyone, T0) == [dana]  # not arjun: not transitive
    assert delegate_ids(everyone, T0) == {arjun.user_id: dana.user_id, dana.user_id: eve.user_id}
    later = T0 + timedelta(days=3)
    assert acting_for(dana.user_id, everyone, later) == [] and delegate_ids(everyone, later) == {}
