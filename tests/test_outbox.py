"""The outbox: a change, its audit entry and its events are one write; the timeline entry and
the reactions that did not happen (the process stopped, the database failed, a reaction
failed) happen later, exactly once."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

import pytest

from core.models.events import GateChanged
from core.models.rbac import Permission
from core.models.release import GateStatus, Release
from core.models.timeline import TimelineEvent
from core.ports import TimelineRepository
from core.rules.approvals import ApprovalPolicy
from core.services.container import build_services
from core.services.gates import GateChange
from core.services.outbox import Entry
from storage.engine import Database
from storage.wiring import open_repositories
from tests.support import FrozenClock, World

REL = "REL-2026.12"
GATE = "Security scan"


class Recording:
    """Reactions that remember what they were handed; ``later`` keeps jobs until run."""

    def __init__(self, *, fail: int = 0) -> None:
        """``fail``: how many calls fail (as Slack being down) before they succeed."""
        self.entries: list[Entry] = []
        self.jobs: list[Callable[[], Awaitable[None]]] = []
        self.fail = fail

    async def __call__(self, release: Release | None, entry: Entry) -> None:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("Slack is down")
        self.entries.append(entry)

    def later(self, job: Callable[[], Awaitable[None]]) -> None:
        self.jobs.append(job)

    async def run_jobs(self) -> None:
        jobs, self.jobs = self.jobs, []
        for job in jobs:
            await job()


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

    async def chained(
        self, release_oids: Sequence[str], *, since: datetime | None, until: datetime | None
    ) -> list[TimelineEvent]:
        return await self.inner.chained(release_oids, since=since, until=until)


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
    reacted = Recording()
    world.services.outbox.connect(reacted, later=reacted.later)
    release = await world.release(gates=[GATE])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    await reacted.run_jobs()
    reacted.entries.clear()
    _, before = await world.services.timeline.history(rhea, REL)
    timeline.down = True

    changed = await world.services.gates.update_gate(
        rhea, REL, "pay-api", GATE, GateChange(gate_status=GateStatus.IN_PROGRESS)
    )
    stored = await world.repos.releases.get(REL)
    _, missing = await world.services.timeline.history(rhea, REL)
    timeline.down = False
    scheduled = list(reacted.jobs)  # none: the process stopped before it could react
    delivered = await world.services.outbox.dispatch_pending()
    again = await world.services.outbox.dispatch_pending()
    _, after = await world.services.timeline.history(rhea, REL)

    assert changed.product("pay-api").gate(GATE).gate_status is GateStatus.IN_PROGRESS
    assert len(stored.outbox) == 1 and stored.outbox[0].action == "gate.updated"
    assert len(missing) == len(before)  # the change is stored, its entry waits
    assert (delivered, again) == (1, 0)
    assert len(after) == len(before) + 1 and after[0].id == stored.outbox[0].id
    assert (await world.repos.releases.get(REL)).outbox == []
    assert release.id == stored.id
    assert scheduled == []
    assert [entry.id for entry in reacted.entries] == [stored.outbox[0].id]  # reacted once


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


async def changed_gate(world: World, reacted: Recording | None = None, *, fail: int = 0) -> str:
    """The id of the entry of a gate's status change; what set it up is dealt with first."""
    if reacted is not None:
        world.services.outbox.connect(reacted, later=reacted.later)
    await world.release(gates=[GATE])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    if reacted is not None:
        await reacted.run_jobs()
        reacted.entries.clear()
        reacted.fail = fail
    await world.services.gates.update_gate(
        rhea, REL, "pay-api", GATE, GateChange(gate_status=GateStatus.PASSED)
    )
    return (await world.repos.releases.get(REL)).outbox[-1].id


async def test_reactions_follow_the_write_off_its_path_then_the_entry_leaves_the_outbox(
    world: World,
) -> None:
    reacted = Recording()
    entry = await changed_gate(world, reacted)
    waiting = (await world.repos.releases.get(REL)).outbox
    before = list(reacted.entries)
    await reacted.run_jobs()

    assert before == []  # the change returned before any reaction ran
    assert [e.id for e in waiting] == [entry]
    assert waiting[0].events == [
        GateChanged(
            product_id="pay-api",
            gate_name=GATE,
            before=GateStatus.NOT_STARTED,
            after=GateStatus.PASSED,
        )
    ]
    assert [e.id for e in reacted.entries] == [entry]
    assert (await world.repos.releases.get(REL)).outbox == []
    assert await world.services.outbox.dispatch_pending() == 0  # nothing twice


async def test_a_failed_reaction_is_retried_on_the_next_tick_and_then_done(world: World) -> None:
    reacted = Recording()
    entry = await changed_gate(world, reacted, fail=1)

    await reacted.run_jobs()  # Slack is down: the entry stays
    kept = (await world.repos.releases.get(REL)).outbox
    retried = await world.services.outbox.dispatch_pending()
    again = await world.services.outbox.dispatch_pending()

    assert [e.id for e in kept] == [entry]
    assert (retried, again) == (1, 0)
    assert [e.id for e in reacted.entries] == [entry]
    assert (await world.repos.releases.get(REL)).outbox == []


async def test_two_replicas_ticking_at_once_react_to_each_entry_once(
    racing_world: World,
) -> None:
    """Every database call yields, so the two dispatchers really interleave."""
    world = racing_world
    await changed_gate(world)  # no reactions in this process: the events wait for a bot
    waiting = [e.id for e in (await world.repos.releases.get(REL)).outbox if e.events]
    reacted = Recording()
    world.services.outbox.connect(reacted, later=reacted.later)

    await asyncio.gather(
        world.services.outbox.dispatch_pending(), world.services.outbox.dispatch_pending()
    )

    assert len(waiting) >= 2  # the gate's adding and its status change, at least
    assert sorted(e.id for e in reacted.entries) == sorted(waiting)
    assert (await world.repos.releases.get(REL)).outbox == []


async def test_a_cancelled_reaction_lets_go_of_its_entry_at_once(world: World) -> None:
    """A process stopping mid-reaction (its task cancelled) releases the entry's claim, so
    the next tick, on any replica, takes it up without waiting for the lease."""
    entry = await changed_gate(world, Recording())

    async def stopped(release: Release | None, entry: Entry) -> None:
        raise asyncio.CancelledError

    world.services.outbox.connect(stopped, later=lambda job: None)
    with pytest.raises(asyncio.CancelledError):
        await world.services.outbox.dispatch_pending()
    reacted = Recording()
    world.services.outbox.connect(reacted, later=reacted.later)
    delivered = await world.services.outbox.dispatch_pending()

    assert delivered == 1 and [e.id for e in reacted.entries] == [entry]


async def test_reactions_failing_for_a_day_are_given_up_and_logged(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    entry = await changed_gate(world, Recording(), fail=10**6)
    tick = world.services.outbox.dispatch_pending

    early = await tick()
    world.clock.advance(hours=23)
    still = (await world.repos.releases.get(REL)).outbox
    await tick()
    world.clock.advance(hours=2)
    given_up = await tick()

    assert early == 0 and [e.id for e in still] == [entry]
    assert given_up == 1 and (await world.repos.releases.get(REL)).outbox == []
    assert any(r.levelname == "ERROR" and "gave up" in r.getMessage() for r in caplog.records)


async def test_an_entry_a_writer_read_before_its_clean_up_is_not_written_back(
    world: World,
) -> None:
    reacted = Recording()
    entry = await changed_gate(world, reacted)
    stale = await world.repos.releases.get(REL)  # read before the clean-up
    await reacted.run_jobs()

    stale.description = "Written from what it read before"
    await world.repos.releases.save(stale)  # a save adds to the outbox, never writes it back
    written_back = [e.id for e in (await world.repos.releases.get(REL)).outbox]
    await world.services.outbox.dispatch_pending()

    assert written_back == []
    assert [e.id for e in reacted.entries] == [entry]  # once
    assert (await world.repos.releases.get(REL)).outbox == []


async def test_a_process_without_reactions_leaves_only_the_events_for_one_that_has(
    world: World,
) -> None:
    entry = await changed_gate(world)
    admin = await world.admin_actor()
    await world.services.releases.edit_description(admin, REL, "Nothing follows from this")

    await world.services.outbox.dispatch_pending()

    left = (await world.repos.releases.get(REL)).outbox
    assert entry in [e.id for e in left] and all(e.events for e in left)
    _, history = await world.services.timeline.history(admin, REL)
    assert history[0].action == "release.description"  # the history has everything already
    assert {e.id for e in left} <= {e.id for e in history}


class CountsAppends(StopsAfterTheWrite):
    """A timeline that counts the entries each append is handed."""

    def __init__(self, inner: TimelineRepository) -> None:
        super().__init__(inner)
        self.sizes: list[int] = []

    async def append(self, events: Sequence[TimelineEvent]) -> None:
        self.sizes.append(len(events))
        await super().append(events)


async def test_while_reactions_lag_each_write_handles_only_its_own_entry(
    db: Database, clock: FrozenClock, policy: ApprovalPolicy
) -> None:
    """Ten changes while the reactions have not run yet: each write appends and dispatches
    its own entry, not every entry still waiting (which made a busy release's writes cost
    more the further its reactions lagged)."""
    stored = await open_repositories(db)
    timeline = CountsAppends(stored.timeline)
    repos = dataclasses.replace(stored, timeline=timeline)
    services = build_services(repos, clock=clock, policy=policy)
    world = World(db=db, repos=repos, services=services, clock=clock)
    reacted = Recording()
    world.services.outbox.connect(reacted, later=reacted.later)
    await world.release(gates=[GATE])
    rhea = await world.actor("rhea", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL)
    await reacted.run_jobs()
    reacted.entries.clear()
    timeline.sizes.clear()

    statuses = [GateStatus.IN_PROGRESS, GateStatus.BLOCKED] * 5
    for status in statuses:
        await world.services.gates.update_gate(
            rhea, REL, "pay-api", GATE, GateChange(gate_status=status)
        )
    waiting = len((await world.repos.releases.get(REL)).outbox)
    await reacted.run_jobs()

    assert waiting == len(statuses)  # the reactions lagged behind all ten
    assert timeline.sizes == [1] * len(statuses)  # one entry appended per write
    assert len(reacted.entries) == len(statuses)
    assert len({e.id for e in reacted.entries}) == len(statuses)  # each reacted to once
    assert (await world.repos.releases.get(REL)).outbox == []
