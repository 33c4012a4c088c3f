"""The outbox: a change and its audit entry are one write; a delivery that did not happen
(the process stopped, the database failed in between) happens later, exactly once."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest

from core.models.rbac import Permission
from core.models.release import GateStatus
from core.models.timeline import TimelineEvent
from core.ports import TimelineRepository
from core.rules.approvals import ApprovalPolicy
from core.services.container import build_services
from core.services.gates import GateChange
from storage.engine import Database
from storage.wiring import open_repositories
from tests.support import FrozenClock, World

REL = "REL-2026.12"
GATE = "Security scan"


class StopsAfterTheWrite:
    """A timeline that fails while ``down``: as if the process stopped, or the database
    went away, right after the change was written."""

    def __init__(self, inner: TimelineRepository) -> None:
        self.inner = inner
        self.down = False

    async def append(self, events: Sequence[TimelineEvent]) -> None:
        if self.down:
            raise ConnectionError("the database went away")
        await self.inner.append(events)

    async def for_release(self, release_oid: str, *, limit: int) -> list[TimelineEvent]:
        return await self.inner.for_release(release_oid, limit=limit)


@pytest.fixture
async def broken(
    db: Database, clock: FrozenClock, policy: ApprovalPolicy
) -> tuple[World, StopsAfterTheWrite]:
    stored = await open_repositories(db)
    timeline = StopsAfterTheWrite(stored.timeline)
    repos = dataclasses.replace(stored, timeline=timeline)
    services = build_services(repos, clock=clock, policy=policy)
    return World(db=db, repos=repos, services=services, clock=clock), timeline


async def test_a_change_whose_audit_entry_was_not_delivered_gets_it_exactly_once(
    broken: tuple[World, StopsAfterTheWrite],
) -> None:
    world, timeline = broken
    release = await world.release(gates=[GATE])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    _, before = await world.services.timeline.history(rhea, REL)
    timeline.down = True

    changed = await world.services.gates.update_gate(
        rhea, REL, "pay-api", GATE, GateChange(gate_status=GateStatus.IN_PROGRESS)
    )
    stored = await world.repos.releases.get(REL)
    _, missing = await world.services.timeline.history(rhea, REL)
    timeline.down = False
    delivered = await world.services.outbox.deliver_pending()
    again = await world.services.outbox.deliver_pending()
    _, after = await world.services.timeline.history(rhea, REL)

    assert changed.product("pay-api").gate(GATE).gate_status is GateStatus.IN_PROGRESS
    assert len(stored.outbox) == 1 and stored.outbox[0].action == "gate.updated"
    assert len(missing) == len(before)  # the change is stored, its entry waits
    assert (delivered, again) == (1, 0)
    assert len(after) == len(before) + 1 and after[0].id == stored.outbox[0].id
    assert (await world.repos.releases.get(REL)).outbox == []
    assert release.id == stored.id


async def test_an_entry_delivered_twice_is_stored_once(
    broken: tuple[World, StopsAfterTheWrite],
) -> None:
    """A writer that read the outbox before it was cleared writes it back: delivered again,
    the timeline still holds each entry once."""
    world, _ = broken
    await world.release(gates=[GATE])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    await world.services.gates.update_gate(
        rhea, REL, "pay-api", GATE, GateChange(gate_status=GateStatus.IN_PROGRESS)
    )
    _, events = await world.services.timeline.history(rhea, REL)
    entry = events[0]

    await world.repos.timeline.append([entry, entry])
    _, history = await world.services.timeline.history(rhea, REL)

    assert [e.id for e in history].count(entry.id) == 1
