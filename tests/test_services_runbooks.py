"""RunbookService: runbooks and their tasks, and the release's change ticket with CTASKs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.errors import Conflict, Duplicate, NotFound, PermissionDenied, ValidationFailed
from core.models.attachment import AttachmentDraft, AttachmentTarget
from core.models.rbac import Permission
from core.models.release import (
    Change,
    ChangeStatus,
    CTask,
    CTaskStatus,
    Release,
    RunbookTask,
    TaskStatus,
)
from core.rules.permissions import Actor
from core.services.runbooks import RunbookDraft, TaskChange
from tests.support import T0, World

REL = "REL-2026.12"


@pytest.fixture
def world(any_world: World) -> World:
    """Every test here runs on the in-memory fakes and on the storage adapters."""
    return any_world


async def runner(world: World) -> Actor:
    return await world.actor("rui", Permission.CAN_MANAGE_RUNBOOKS, Permission.CAN_VIEW_ALL)


def deploy_runbook(name: str = "Deploy") -> RunbookDraft:
    return RunbookDraft(
        runbook_name=name,
        tasks=[
            RunbookTask(task_name="Drain traffic"),
            RunbookTask(task_name="Deploy pods", depends_on_task_names=["drain traffic"]),
        ],
    )


async def with_runbook(world: World) -> tuple[Actor, Release]:
    await world.release(REL)
    rui = await runner(world)
    release = await world.services.runbooks.add_runbook(rui, REL, deploy_runbook())
    return rui, release


def chg(change_id: str = "CHG0001", *ctasks: CTask, **extra: object) -> Change:
    return Change.model_validate({"change_id": change_id, "ctasks": list(ctasks), **extra})


# --- runbooks -------------------------------------------------------------------------------


async def test_add_runbook_stores_its_tasks_and_records_an_event(world: World) -> None:
    rui, _ = await with_runbook(world)

    stored = await world.repos.releases.get(REL)
    runbook = stored.runbook("Deploy")
    assert [t.task_name for t in runbook.tasks] == ["Drain traffic", "Deploy pods"]
    assert runbook.created_by == rui.user_id
    _, events = await world.services.timeline.history(rui, REL, limit=1)
    assert events[0].action == "runbook.added"
    assert events[0].target.runbook_id == runbook.runbook_id
    assert events[0].after == {"runbook_name": "Deploy", "tasks": 2}


async def test_add_runbook_without_permission_is_denied_and_changes_nothing(
    world: World,
) -> None:
    await world.release(REL)
    gatekeeper = await world.actor(
        "gia", Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL
    )
    before = await world.snapshot()

    with pytest.raises(PermissionDenied, match="can_manage_runbooks"):
        await world.services.runbooks.add_runbook(gatekeeper, REL, deploy_runbook())

    assert await world.snapshot() == before


async def test_a_second_runbook_with_the_same_name_is_a_duplicate(world: World) -> None:
    rui, _ = await with_runbook(world)
    before = await world.snapshot()

    with pytest.raises(Duplicate) as caught:
        await world.services.runbooks.add_runbook(rui, REL, deploy_runbook("DEPLOY"))

    assert "runbook_name" in caught.value.fields
    assert await world.snapshot() == before


@pytest.mark.parametrize(
    ("tasks", "message"),
    [
        ([RunbookTask(task_name="Deploy", depends_on_task_names=["Backup"])], "Backup"),
        ([RunbookTask(task_name="Deploy"), RunbookTask(task_name="deploy")], "unique"),
    ],
    ids=["unknown-dependency", "duplicate-task"],
)
async def test_a_runbook_with_inconsistent_tasks_is_refused(
    world: World, tasks: list[RunbookTask], message: str
) -> None:
    await world.release(REL)
    rui = await runner(world)
    before = await world.snapshot()

    with pytest.raises(ValidationFailed, match=message) as caught:
        await world.services.runbooks.add_runbook(
            rui, REL, RunbookDraft(runbook_name="Deploy", tasks=tasks)
        )

    assert "tasks" in caught.value.fields
    assert await world.snapshot() == before


# --- tasks ----------------------------------------------------------------------------------


async def test_update_task_stores_status_and_timing_in_utc(world: World) -> None:
    rui, _ = await with_runbook(world)
    paris = timezone(timedelta(hours=1))
    start = datetime(2026, 12, 10, 22, 0, tzinfo=paris)

    await world.services.runbooks.update_task(
        rui,
        REL,
        "Deploy",
        "deploy PODS",
        TaskChange(status=TaskStatus.DOING, scheduled_start=start, duration_minutes=45),
    )

    task = (await world.repos.releases.get(REL)).runbook("Deploy").task("Deploy pods")
    assert task.status is TaskStatus.DOING
    assert task.scheduled_start == datetime(2026, 12, 10, 21, 0, tzinfo=UTC)
    assert task.scheduled_start.utcoffset() == timedelta(0)
    assert task.duration_minutes == 45
    _, events = await world.services.timeline.history(rui, REL, limit=1)
    assert events[0].action == "task.updated"
    assert events[0].target.task_name == "Deploy pods"
    assert events[0].before == {"status": "TODO", "scheduled_start": None, "duration_minutes": None}
    assert events[0].after == {
        "status": "DOING",
        "scheduled_start": "2026-12-10T21:00:00+00:00",
        "duration_minutes": 45,
    }


async def test_update_task_ending_before_it_starts_is_refused(world: World) -> None:
    rui, _ = await with_runbook(world)
    await world.services.runbooks.update_task(
        rui, REL, "Deploy", "Deploy pods", TaskChange(scheduled_start=T0)
    )
    before = await world.snapshot()

    with pytest.raises(ValidationFailed) as caught:
        await world.services.runbooks.update_task(
            rui, REL, "Deploy", "Deploy pods", TaskChange(scheduled_end=T0 - timedelta(minutes=1))
        )

    assert "scheduled_end" in caught.value.fields
    assert await world.snapshot() == before


async def test_update_of_an_unknown_task_is_not_found_and_names_the_known_tasks(
    world: World,
) -> None:
    rui, _ = await with_runbook(world)

    with pytest.raises(NotFound) as caught:
        await world.services.runbooks.update_task(
            rui, REL, "Deploy", "Reboot", TaskChange(status=TaskStatus.DONE)
        )

    assert "Drain traffic" in caught.value.message
    assert "Deploy pods" in caught.value.message


async def test_update_task_with_the_same_values_records_nothing(world: World) -> None:
    rui, _ = await with_runbook(world)
    await world.services.runbooks.update_task(
        rui, REL, "Deploy", "Drain traffic", TaskChange(status=TaskStatus.DONE)
    )
    before = await world.snapshot()

    await world.services.runbooks.update_task(
        rui, REL, "Deploy", "Drain traffic", TaskChange(status=TaskStatus.DONE)
    )

    assert await world.snapshot() == before


async def test_update_task_without_permission_is_denied(world: World) -> None:
    await with_runbook(world)
    viewer = await world.actor("vic", Permission.CAN_VIEW_ALL)
    before = await world.snapshot()

    with pytest.raises(PermissionDenied):
        await world.services.runbooks.update_task(
            viewer, REL, "Deploy", "Deploy pods", TaskChange(status=TaskStatus.DONE)
        )

    assert await world.snapshot() == before


# --- change ticket --------------------------------------------------------------------------


async def test_upsert_change_creates_then_updates_the_same_change(world: World) -> None:
    await world.release(REL)
    rui = await runner(world)

    await world.services.runbooks.upsert_change(rui, REL, chg("CHG0001", CTask(ctask_id="CTASK1")))
    world.clock.advance(minutes=1)
    await world.services.runbooks.upsert_change(
        rui,
        REL,
        chg(
            "CHG0001",
            CTask(ctask_id="CTASK1", status=CTaskStatus.DONE),
            CTask(ctask_id="CTASK2", dependency_ctask_ids=["CTASK1"]),
            status=ChangeStatus.SCHEDULED,
        ),
    )

    stored = (await world.repos.releases.get(REL)).chg
    assert stored is not None and stored.status is ChangeStatus.SCHEDULED
    assert [(c.ctask_id, c.status) for c in stored.ctasks] == [
        ("CTASK1", CTaskStatus.DONE),
        ("CTASK2", CTaskStatus.TODO),
    ]
    _, events = await world.services.timeline.history(rui, REL, limit=2)
    assert [e.action for e in events] == ["change.updated", "change.created"]
    assert events[0].before is not None and events[0].before["status"] == "NEW"


async def test_a_different_change_id_is_refused_while_one_exists(world: World) -> None:
    await world.release(REL)
    rui = await runner(world)
    await world.services.runbooks.upsert_change(rui, REL, chg("CHG0001"))
    before = await world.snapshot()

    with pytest.raises(Duplicate, match="CHG0001") as caught:
        await world.services.runbooks.upsert_change(rui, REL, chg("CHG0002"))

    assert "change_id" in caught.value.fields
    assert await world.snapshot() == before


@pytest.mark.parametrize(
    "change",
    [
        chg("CHG0001", CTask(ctask_id="CTASK1"), CTask(ctask_id="CTASK1")),
        chg("CHG0001", CTask(ctask_id="CTASK1", dependency_ctask_ids=["CTASK9"])),
    ],
    ids=["duplicate-ctask", "unknown-dependency"],
)
async def test_a_change_with_inconsistent_ctasks_is_refused(world: World, change: Change) -> None:
    await world.release(REL)
    rui = await runner(world)
    before = await world.snapshot()

    with pytest.raises(ValidationFailed) as caught:
        await world.services.runbooks.upsert_change(rui, REL, change)

    assert "ctasks" in caught.value.fields
    assert await world.snapshot() == before


async def test_upsert_change_without_permission_is_denied(world: World) -> None:
    await world.release(REL)
    viewer = await world.actor("vic", Permission.CAN_VIEW_ALL)
    before = await world.snapshot()

    with pytest.raises(PermissionDenied):
        await world.services.runbooks.upsert_change(viewer, REL, chg("CHG0001"))

    assert await world.snapshot() == before


async def test_updating_the_change_keeps_files_attached_to_its_ctasks(world: World) -> None:
    await world.release(REL)
    admin = await world.admin_actor()
    await world.services.runbooks.upsert_change(
        admin, REL, chg("CHG0001", CTask(ctask_id="CTASK1"))
    )
    await world.services.attachments.attach(
        admin,
        AttachmentDraft(
            file_name="backout.pdf",
            file_type="application/pdf",
            file_size=1,
            file_url="https://files.example.com/backout.pdf",
            sha256="cd" * 32,
        ),
        AttachmentTarget(release_id=REL, ctask_id="CTASK1"),
    )

    await world.services.runbooks.upsert_change(
        admin, REL, chg("CHG0001", CTask(ctask_id="CTASK1", status=CTaskStatus.DONE))
    )

    stored = (await world.repos.releases.get(REL)).chg
    assert stored is not None
    assert [r.label for r in stored.ctasks[0].attachment_refs] == ["backout.pdf"]


def assigned(ctask_id: str, **fields: object) -> CTask:
    """A CTASK with what the change form does not show: assignee, times, dependencies."""
    return CTask.model_validate(
        {
            "ctask_id": ctask_id,
            "description": f"{ctask_id} as planned",
            "assignee_id": "u-ops",
            "start_time": T0 + timedelta(days=9),
            "end_time": T0 + timedelta(days=9, hours=1),
            "status": CTaskStatus.DOING,
            **fields,
        }
    )


async def test_updating_the_change_keeps_what_a_ctask_update_leaves_out(world: World) -> None:
    await world.release(REL)
    rui = await runner(world)
    first, second = assigned("CTASK1"), assigned("CTASK2", dependency_ctask_ids=["CTASK1"])
    await world.services.runbooks.upsert_change(rui, REL, chg("CHG0001", first, second))

    # As the change form sends them: id, description and status only — or less.
    await world.services.runbooks.upsert_change(
        rui,
        REL,
        chg(
            "CHG0001",
            CTask(ctask_id="CTASK1", description="Deploy", status=CTaskStatus.DONE),
            CTask(ctask_id="CTASK2"),
            CTask(ctask_id="CTASK3", description="Tell support"),
        ),
    )

    stored = (await world.repos.releases.get(REL)).chg
    assert stored is not None
    one, two, three = stored.ctasks
    assert (one.description, one.status) == ("Deploy", CTaskStatus.DONE)
    assert (one.assignee_id, one.start_time, one.end_time) == (
        first.assignee_id,
        first.start_time,
        first.end_time,
    )
    assert two == second  # nothing given: all kept, its status and dependency too
    assert (three.description, three.status, three.assignee_id) == (
        "Tell support",
        CTaskStatus.TODO,
        None,
    )


async def test_given_ctask_fields_replace_the_stored_ones_and_left_out_ctasks_go(
    world: World,
) -> None:
    await world.release(REL)
    rui = await runner(world)
    await world.services.runbooks.upsert_change(
        rui, REL, chg("CHG0001", assigned("CTASK1"), assigned("CTASK2"))
    )

    await world.services.runbooks.upsert_change(
        rui,
        REL,
        chg("CHG0001", assigned("CTASK2", assignee_id="u-dba", status=CTaskStatus.TODO)),
    )

    stored = (await world.repos.releases.get(REL)).chg
    assert stored is not None
    assert [(c.ctask_id, c.assignee_id, c.status) for c in stored.ctasks] == [
        ("CTASK2", "u-dba", CTaskStatus.TODO)
    ]


async def test_dropping_a_ctask_that_a_kept_one_depends_on_is_refused(world: World) -> None:
    await world.release(REL)
    rui = await runner(world)
    await world.services.runbooks.upsert_change(
        rui,
        REL,
        chg("CHG0001", assigned("CTASK1"), assigned("CTASK2", dependency_ctask_ids=["CTASK1"])),
    )
    before = await world.snapshot()

    with pytest.raises(ValidationFailed, match="CTASK1") as caught:
        await world.services.runbooks.upsert_change(
            rui, REL, chg("CHG0001", CTask(ctask_id="CTASK2"))
        )

    assert caught.value.fields == {"ctasks": "Unknown dependency"}
    assert await world.snapshot() == before


async def test_a_change_based_on_an_older_release_is_a_conflict_and_stores_nothing(
    world: World,
) -> None:
    await world.release(REL)
    rui = await runner(world)
    await world.services.runbooks.upsert_change(rui, REL, chg("CHG0001", assigned("CTASK1")))
    opened_at = (await world.repos.releases.get(REL)).version
    # Someone else finishes CTASK1 while the form is open.
    await world.services.runbooks.upsert_change(
        rui, REL, chg("CHG0001", CTask(ctask_id="CTASK1", status=CTaskStatus.DONE))
    )
    before = await world.snapshot()

    with pytest.raises(Conflict) as caught:
        await world.services.runbooks.upsert_change(
            rui,
            REL,
            chg("CHG0001", CTask(ctask_id="CTASK1", status=CTaskStatus.DOING)),
            expected_version=opened_at,
        )

    assert caught.value.message == (
        "The release changed since you opened this form; close it and open it again"
    )
    assert await world.snapshot() == before


async def test_a_change_based_on_the_current_release_is_saved(world: World) -> None:
    await world.release(REL)
    rui = await runner(world)
    current = (await world.repos.releases.get(REL)).version

    saved = await world.services.runbooks.upsert_change(
        rui, REL, chg("CHG0001", CTask(ctask_id="CTASK1")), expected_version=current
    )

    assert saved.version == current + 1
    stored = (await world.repos.releases.get(REL)).chg
    assert stored is not None and [c.ctask_id for c in stored.ctasks] == ["CTASK1"]
