"""Freeze windows through FreezeService, on the fakes and on storage: who may plan and end
them (a refusal stores nothing), ending twice, and what is read back."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from core.errors import NotFound, PermissionDenied, RuleViolation
from core.models.freeze import FreezeDraft, FreezeScope
from core.models.rbac import Permission
from tests.support import World


@pytest.fixture
def world(any_world: World) -> World:
    return any_world


def draft(
    world: World, name: str = "Holiday freeze", start_in: int = 1, days: int = 3
) -> FreezeDraft:
    start = world.clock() + timedelta(days=start_in)
    return FreezeDraft(
        name=name,
        starts_at=start,
        ends_at=start + timedelta(days=days),
        time_zone="Europe/Berlin",
        scope=FreezeScope(squad_ids=["payments"]),
    )


async def stored(world: World) -> list[dict[str, Any]]:
    return await world.stored("freezes")


async def test_a_release_manager_plans_a_freeze(world: World) -> None:
    rhea = await world.actor("rhea", Permission.CAN_CREATE_RELEASE)

    made = await world.services.freezes.create(rhea, draft(world))

    assert (made.created_by, made.created_at) == (rhea.user_id, world.clock())
    assert await world.services.freezes.open(rhea) == [made]
    assert len(await stored(world)) == 1


async def test_a_squad_member_may_not_plan_or_end_a_freeze(world: World) -> None:
    rhea = await world.actor("rhea", Permission.CAN_CREATE_RELEASE)
    dana = await world.actor("dana", squads=["payments"])
    made = await world.services.freezes.create(rhea, draft(world))
    before = await stored(world)

    with pytest.raises(PermissionDenied) as refused:
        await world.services.freezes.create(dana, draft(world, "Mine"))
    with pytest.raises(PermissionDenied):
        await world.services.freezes.end(dana, made.id)

    assert "'can_create_release' permission to plan or end freeze windows" in (
        refused.value.message
    )
    assert await stored(world) == before


async def test_a_freeze_already_over_is_not_planned(world: World) -> None:
    rhea = await world.actor("rhea", Permission.CAN_CREATE_RELEASE)

    with pytest.raises(RuleViolation) as refused:
        await world.services.freezes.create(rhea, draft(world, start_in=-5, days=1))

    assert refused.value.fields == {"ends_at": "Already past: pick an end in the future"}
    assert await stored(world) == []


async def test_ending_a_freeze_by_name_stops_it_once(world: World) -> None:
    rhea = await world.actor("rhea", Permission.CAN_CREATE_RELEASE)
    made = await world.services.freezes.create(rhea, draft(world, start_in=0))
    assert [w.id for w in await world.services.freezes.active_windows()] == [made.id]
    world.clock.advance(hours=2)

    ended = await world.services.freezes.end(rhea, "holiday FREEZE")

    assert (ended.ended_at, ended.ended_by) == (world.clock(), rhea.user_id)
    assert await world.services.freezes.active_windows() == []
    assert await world.services.freezes.open(rhea) == []
    with pytest.raises(RuleViolation) as again:
        await world.services.freezes.end(rhea, made.id)
    assert again.value.message == (
        "The freeze 'Holiday freeze' was already ended, at 2026-12-01 11:00 UTC."
    )
    [doc] = await stored(world)
    assert doc["ended_by"] == rhea.user_id


async def test_an_unknown_freeze_is_not_found_with_the_names_that_are(world: World) -> None:
    rhea = await world.actor("rhea", Permission.CAN_CREATE_RELEASE)
    await world.services.freezes.create(rhea, draft(world))

    with pytest.raises(NotFound) as unknown:
        await world.services.freezes.end(rhea, "Holiday freez")

    assert unknown.value.message == "No open freeze named 'Holiday freez'."
    assert unknown.value.suggestions == ("Holiday freeze",)


async def test_two_open_freezes_of_one_name_are_ended_by_id(world: World) -> None:
    rhea = await world.actor("rhea", Permission.CAN_CREATE_RELEASE)
    first = await world.services.freezes.create(rhea, draft(world))
    await world.services.freezes.create(rhea, draft(world, start_in=7))

    with pytest.raises(RuleViolation) as ambiguous:
        await world.services.freezes.end(rhea, "Holiday freeze")
    ended = await world.services.freezes.end(rhea, first.id)

    assert "2 open freezes are named 'Holiday freeze'; end one by its id" in ambiguous.value.message
    assert ended.id == first.id


async def test_everyone_sees_freezes_on_and_to_come_but_not_those_over(world: World) -> None:
    rhea = await world.actor("rhea", Permission.CAN_CREATE_RELEASE)
    dana = await world.actor("dana", squads=["payments"])
    later = await world.services.freezes.create(rhea, draft(world, "Later", start_in=3))
    now = await world.services.freezes.create(rhea, draft(world, "Now", start_in=0, days=1))

    assert [w.name for w in await world.services.freezes.open(dana)] == ["Now", "Later"]
    world.clock.advance(days=1)
    assert await world.services.freezes.open(dana) == [later]
    assert now.id not in {w.id for w in await world.services.freezes.active_windows()}


async def test_two_people_ending_a_freeze_at_once_end_it_once(racing_world: World) -> None:
    world = racing_world
    rhea = await world.actor("rhea", Permission.CAN_CREATE_RELEASE)
    admin = await world.admin()
    made = await world.services.freezes.create(rhea, draft(world, start_in=0))

    outcomes = await asyncio.gather(
        world.services.freezes.end(rhea, made.id),
        world.services.freezes.end(admin, made.id),
        return_exceptions=True,
    )

    ended = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, RuleViolation)]
    assert (len(ended), len(refused)) == (1, 1)
    assert "was already ended" in refused[0].message
    assert (await world.repos.freezes.get(made.id)).ended_by == ended[0].ended_by
