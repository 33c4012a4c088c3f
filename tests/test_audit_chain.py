"""The audit chain: every timeline entry of a release links to the one before it, written
with the change; an export verifies, and any edit, removal or truncation is found."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from core.errors import PermissionDenied
from core.models.rbac import Permission
from core.models.statuses import GateStatus
from core.rules import audit
from core.seeds.demo import seed_demo_data
from core.services.gates import GateChange
from tests.support import World

REL = "REL-2026.12"
GATE = "Regression suite"


@pytest.fixture
def world(any_world: World) -> World:
    return any_world


async def _changes(world: World, n: int = 3) -> None:
    await world.release(gates=[GATE])
    kim = await world.actor("kim", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    for i in range(n):
        status = GateStatus.PASSED if i % 2 == 0 else GateStatus.FAILED
        await world.services.gates.update_gate(
            kim, REL, "pay-api", GATE, GateChange(gate_status=status, comment=f"run {i}")
        )


async def exported(world: World, **options: Any) -> list[dict[str, Any]]:
    auditor = await world.admin_actor()
    records = [r async for r in world.services.audit.export(auditor, **options)]
    carried: list[dict[str, Any]] = json.loads(json.dumps(records))  # as a file carries them
    return carried


def checked(records: list[dict[str, Any]]) -> audit.Verified:
    return audit.verify(enumerate(records, start=1))


async def test_each_change_appends_to_its_releases_chain_with_the_change(world: World) -> None:
    await _changes(world)

    release = await world.repos.releases.get(REL)
    entries = sorted(
        await world.repos.timeline.for_release(release.id, limit=100), key=lambda e: e.seq
    )
    assert [e.seq for e in entries] == list(range(1, release.audit_seq + 1))
    assert entries[0].prev_hash == ""
    for before, entry in zip(entries, entries[1:], strict=False):
        assert entry.prev_hash == before.hash
        assert entry.hash == audit.digest(audit.audited(entry))
    assert release.audit_head == entries[-1].hash


async def test_an_export_verifies(world: World) -> None:
    await _changes(world)

    records = await exported(world)

    assert records[0]["kind"] == "header" and records[0]["algorithm"] == "sha256"
    result = checked(records)
    assert result.ok and result.releases == 1 and result.entries == 6
    assert [r["kind"] for r in records[-2:]] == ["head", "end"]
    assert records[-1]["entries"] == 6


async def test_an_entry_edited_in_the_database_is_found(storage_world: World) -> None:
    world = storage_world
    await _changes(world)
    events = world.mongo["events"]
    await events.update_one({"seq": 4}, {"$set": {"comment": "run 0 (nothing failed)"}})

    result = checked(await exported(world))

    assert result.broken is not None
    assert (result.broken.release_id, result.broken.seq) == (REL, 4)
    assert "does not match its hash" in result.broken.problem


async def test_an_entry_removed_or_the_last_one_cut_off_is_found(storage_world: World) -> None:
    world = storage_world
    await _changes(world)
    events = world.mongo["events"]
    # delivered: the release's outbox no longer holds its entries (no reactions run here)
    await world.mongo["releases"].update_many({}, {"$set": {"outbox": []}})

    await events.delete_one({"seq": 3})
    removed = checked(await exported(world))
    assert removed.broken is not None and removed.broken.seq == 4
    assert "missing or moved" in removed.broken.problem

    await events.delete_many({"seq": {"$gte": 3}})
    cut = checked(await exported(world))
    assert cut.broken is not None
    assert "the chain ends at entry 2 but the release's head is entry 6" in cut.broken.problem


async def test_an_export_of_a_period_verifies_from_where_it_starts(world: World) -> None:
    await _changes(world)
    release = await world.repos.releases.get(REL)
    entries = await world.repos.timeline.for_release(release.id, limit=100)
    since = sorted(e.at for e in entries)[0]

    records = await exported(world, release=REL, since=since)

    assert checked(records).ok


async def test_racing_changes_still_make_one_chain(racing_world: World) -> None:
    world = racing_world
    await world.release(gates=[GATE])
    kim = await world.actor("kim", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)

    await asyncio.gather(
        *(
            world.services.gates.update_gate(
                kim, REL, "pay-api", GATE, GateChange(description=f"take {i}")
            )
            for i in range(8)
        )
    )

    records = await exported(world)
    result = checked(records)
    assert result.ok and result.entries == 3 + 8


async def test_only_those_allowed_may_export(world: World) -> None:
    await _changes(world, 1)
    dana = await world.actor("dana", Permission.CAN_VIEW_ALL)

    with pytest.raises(PermissionDenied, match="can_view_audit"):
        [r async for r in world.services.audit.export(dana)]


async def test_the_demo_data_chain_verifies(world: World) -> None:
    await seed_demo_data(world.repos)

    result = checked(await exported(world))
    assert result.ok and result.releases >= 4


async def test_a_file_cut_short_between_records_is_found(world: World) -> None:
    await _changes(world)
    records = await exported(world)

    cut = checked(records[:-2])  # the head and the end lost, cleanly between lines

    assert cut.broken is not None and "its end record is missing" in cut.broken.problem


async def test_a_releases_first_entries_removed_are_found(storage_world: World) -> None:
    world = storage_world
    await _changes(world)
    await world.mongo["releases"].update_many({}, {"$set": {"outbox": []}})  # delivered
    await world.mongo["events"].delete_many({"seq": {"$lte": 2}})

    result = checked(await exported(world))

    assert result.broken is not None and result.broken.seq == 3
    assert "the chain starts at entry 3: its first are missing" in result.broken.problem


async def test_an_entry_without_a_hash_after_the_chain_began_is_found(world: World) -> None:
    await _changes(world)
    records = await exported(world)
    last = max(i for i, r in enumerate(records) if r["kind"] == "entry")
    records[last].update(hash="")

    result = checked(records)

    assert result.broken is not None and "without a hash after the chain began" in (
        result.broken.problem
    )
