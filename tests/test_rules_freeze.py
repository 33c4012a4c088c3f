"""Freeze windows (issue 12): which releases a window freezes, when it is on, and who may
break glass during one."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from core.errors import PermissionDenied, ValidationFailed
from core.models.common import COMMENT_MAX, parse
from core.models.freeze import FreezeDraft, FreezeScope, FreezeWindow
from core.models.rbac import Permission, Role, User
from core.models.release import Release, ReleaseProduct
from core.rules.freeze import (
    Frozen,
    active_at,
    check_unfrozen,
    covering,
    for_release,
    in_scope,
    upcoming,
)
from core.rules.permissions import Actor
from tests.support import T0

START = T0 + timedelta(days=1)
END = START + timedelta(days=3)


def window(
    name: str = "Holiday freeze", start_day: int = 1, days: int = 3, **scope: Any
) -> FreezeWindow:
    start = T0 + timedelta(days=start_day)
    return FreezeWindow(
        name=name,
        starts_at=start,
        ends_at=start + timedelta(days=days),
        time_zone="Europe/Berlin",
        scope=FreezeScope(**scope),
        created_by="rhea",
        created_at=T0,
    )


def product(app: str = "pay", squads: list[str] | None = None) -> ReleaseProduct:
    return ReleaseProduct(
        application_id=app,
        product_id=f"{app}-api",
        product_name=f"{app.title()} API",
        participating_squad_ids=squads or [],
    )


def release(*products: ReleaseProduct, squads: list[str] | None = None) -> Release:
    return Release(
        release_id="REL-2026.12",
        release_name="December",
        release_date=date(2026, 12, 10),
        squad_ids=squads or ["payments"],
        products=list(products),
        created_by="rhea",
        created_at=T0,
    )


def actor(*permissions: Permission) -> Actor:
    role = Role.model_validate(
        {"role_name": "r", "created_at": T0, **{p.value: True for p in permissions}}
    )
    user = User(
        username="arjun",
        full_name="Arjun",
        email="arjun@example.com",
        role_ids=[role.id],
        created_at=T0,
    )
    return Actor(user, (role,))


# --- scope ----------------------------------------------------------------------------------


def test_a_window_without_scope_freezes_everything() -> None:
    assert in_scope(window(), release(), product("anything"))


def test_a_window_scoped_to_applications_freezes_their_products_only() -> None:
    frozen = window(application_ids=["pay"])
    pay, shop = product("pay"), product("shop")
    both = release(pay, shop, squads=["web"])

    assert in_scope(frozen, both, pay)
    assert not in_scope(frozen, both, shop)


def test_a_window_scoped_to_squads_freezes_the_squads_releases_and_products() -> None:
    frozen = window(squad_ids=["payments"])
    theirs = product("shop", squads=["payments"])
    other = product("web", squads=["web"])

    assert in_scope(frozen, release(other, squads=["payments"]), other)  # the release's squad
    assert in_scope(frozen, release(theirs, squads=["web"]), theirs)  # the product's squad
    assert not in_scope(frozen, release(other, squads=["web"]), other)


# --- when -----------------------------------------------------------------------------------


def test_a_window_is_on_from_its_start_until_just_before_its_end() -> None:
    frozen = window()

    assert not active_at(frozen, START - timedelta(seconds=1))
    assert active_at(frozen, START)
    assert active_at(frozen, END - timedelta(seconds=1))
    assert not active_at(frozen, END)


def test_a_window_ended_by_hand_stops_freezing_then() -> None:
    frozen = window().model_copy(update={"ended_at": START + timedelta(hours=1)})

    assert active_at(frozen, START)
    assert not active_at(frozen, START + timedelta(hours=1))


def test_upcoming_windows_start_within_the_horizon_soonest_first() -> None:
    later, sooner, far = window("later", 5), window("sooner", 2), window("far", 20)
    called_off = window("off", 3).model_copy(update={"ended_at": T0})

    assert upcoming([later, far, sooner, called_off], T0) == [sooner, later]
    assert upcoming([sooner], sooner.starts_at) == []  # on at its start: not upcoming


def test_covering_names_the_window_in_scope_that_ends_first() -> None:
    pay = product("pay")
    rel = release(pay)
    long, short = window("long", 1, 10), window("short", 1, 2)
    elsewhere = window("shop only", 1, 1, application_ids=["shop"])

    assert covering([long, elsewhere, short], rel, pay, START) == short
    assert covering([long, short], rel, pay, T0) is None


def test_a_release_shows_the_windows_on_and_to_come_that_touch_it() -> None:
    pay = product("pay")
    rel = release(pay, squads=["payments"])
    on, soon = window("on", 0, 2), window("soon", 4)
    others = window("others", 0, 2, squad_ids=["web"], application_ids=["shop"])

    assert for_release([soon, others, on], rel, T0) == ([on], [soon])


# --- break glass ----------------------------------------------------------------------------


def test_a_change_in_a_frozen_product_is_refused_with_the_freeze_named() -> None:
    pay = product("pay")
    frozen = window()

    with pytest.raises(Frozen) as refused:
        check_unfrozen([frozen], release(pay), pay, START, break_glass=None, actor=actor())

    assert refused.value.window == frozen
    assert refused.value.until == END
    assert "'Holiday freeze' is on until 2026-12-05T09:00Z" in refused.value.message
    assert "approval manager can break glass" in refused.value.message


def test_nothing_is_refused_outside_a_freeze_or_its_scope() -> None:
    pay = product("pay")
    args: dict[str, Any] = {"break_glass": None, "actor": actor()}

    assert check_unfrozen([window()], release(pay), pay, T0, **args) is None
    shop_only = window(application_ids=["shop"])
    assert check_unfrozen([shop_only], release(pay), pay, START, **args) is None


def test_an_approval_manager_breaks_glass_with_a_reason() -> None:
    pay = product("pay")
    frozen = window()
    manager = actor(Permission.IS_APPROVAL_MANAGER)

    found = check_unfrozen(
        [frozen], release(pay), pay, START, break_glass=" Card outage fix ", actor=manager
    )

    assert found == frozen


def test_only_an_approval_manager_may_break_glass() -> None:
    pay = product("pay")
    manager_of_releases = actor(Permission.CAN_CREATE_RELEASE, Permission.CAN_MANAGE_QUALITY_GATES)

    with pytest.raises(PermissionDenied) as refused:
        check_unfrozen(
            [window()], release(pay), pay, START, break_glass="urgent", actor=manager_of_releases
        )

    assert "only an approval manager can break glass" in refused.value.message
    assert refused.value.fields == {"break_glass": "Only an approval manager can break glass"}


@pytest.mark.parametrize(
    ("reason", "said"),
    [("   ", "Say why this change cannot wait"), ("x" * (COMMENT_MAX + 1), "At most 2000")],
)
def test_breaking_glass_needs_a_reason_of_a_comments_length(reason: str, said: str) -> None:
    pay = product("pay")
    manager = actor(Permission.IS_APPROVAL_MANAGER)

    with pytest.raises(ValidationFailed) as refused:
        check_unfrozen([window()], release(pay), pay, START, break_glass=reason, actor=manager)

    assert said in refused.value.fields["break_glass"]


# --- the draft --------------------------------------------------------------------------------


def test_a_draft_ends_after_it_starts_in_a_known_time_zone() -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse(
            FreezeDraft,
            {"name": "x", "starts_at": END, "ends_at": START, "time_zone": "Mars/Olympus"},
        )

    assert refused.value.fields == {
        "ends_at": "The freeze must end after it starts; pick a later end",
        "time_zone": "unknown time zone 'Mars/Olympus'; use an IANA name such as Europe/Paris",
    }
