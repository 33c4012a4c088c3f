"""What every FreezeRepository promises (core/ports.py), on the in-memory fake and on the
storage adapter: the same answers, so the fake cannot drift."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.errors import NotFound
from core.models.common import new_id
from core.models.freeze import FreezeScope, FreezeWindow
from core.services.container import Repositories
from tests.support import T0, World


@pytest.fixture
def repos(any_world: World) -> Repositories:
    return any_world.repos


def window(name: str, start_day: int, days: int = 2) -> FreezeWindow:
    start = T0 + timedelta(days=start_day)
    return FreezeWindow(
        name=name,
        starts_at=start,
        ends_at=start + timedelta(days=days),
        time_zone="Asia/Kolkata",
        scope=FreezeScope(application_ids=["pay"]),
        created_by="rhea",
        created_at=T0,
    )


async def test_a_window_reads_back_as_stored(repos: Repositories) -> None:
    made = await repos.freezes.add(window("Holiday", 1))

    assert await repos.freezes.get(made.id) == made
    assert await repos.freezes.get(made.id.upper()) == made


async def test_open_windows_are_those_not_over_nor_ended_the_first_to_start_first(
    repos: Repositories,
) -> None:
    later = await repos.freezes.add(window("later", 5))
    over = await repos.freezes.add(window("over", -3, days=1))
    on = await repos.freezes.add(window("on", 0))
    ended = await repos.freezes.add(window("ended", 2))
    assert await repos.freezes.end(ended.id, ended_at=T0, ended_by="rhea")

    assert [w.name for w in await repos.freezes.list_open(now=T0)] == ["on", "later"]
    at_its_end = on.ends_at
    assert [w.id for w in await repos.freezes.list_open(now=at_its_end)] == [later.id]
    assert over.id not in {w.id for w in await repos.freezes.list_open(now=T0)}


async def test_a_window_is_ended_once(repos: Repositories) -> None:
    made = await repos.freezes.add(window("Holiday", 0))

    first = await repos.freezes.end(made.id, ended_at=T0, ended_by="rhea")
    second = await repos.freezes.end(made.id, ended_at=T0 + timedelta(hours=1), ended_by="admin")

    assert (first, second) == (True, False)
    stored = await repos.freezes.get(made.id)
    assert (stored.ended_at, stored.ended_by) == (T0, "rhea")


async def test_an_unknown_window_is_not_found(repos: Repositories) -> None:
    unknown = new_id()

    with pytest.raises(NotFound) as garbled:
        await repos.freezes.get("not-an-id")
    with pytest.raises(NotFound) as missing:
        await repos.freezes.get(unknown)

    assert (garbled.value.message, garbled.value.fields) == (
        "No freeze window with id 'not-an-id'.",
        {},
    )
    assert missing.value.fields == {"id": "Unknown freeze window"}
    assert not await repos.freezes.end("not-an-id", ended_at=T0, ended_by="rhea")
    assert not await repos.freezes.end(unknown, ended_at=T0, ended_by="rhea")
