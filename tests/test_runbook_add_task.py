"""RunbookService.add_task: one more task on an existing runbook, held to the rules of the
tasks a runbook is created with; a refusal changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.errors import Duplicate, NotFound, PermissionDenied, RuleViolation, ValidationFailed
from core.models.events import TaskChanged
from core.models.rbac import Permission
from core.models.release import Release, RunbookTask, TaskStatus
from core.rules.permissions import Actor
from core.services.runbooks import MAX_TASKS, RunbookDraft
from tests.support import T0, World

REL = "REL-2026.12"


@pytest.fixture
def world(any_world: World) -> World:
    """Every test here runs on the in-memory fakes and on the storage adapters."""
    return any_world


async def with_runbook(world: World, *tasks: str) -> tuple[Actor, Release]:
    await world.release(REL)
    rui = await world.actor("rui", Permission.CAN_MANAGE_RUNBOOKS, Permission.CAN_VIEW_ALL)
    draft = RunbookDraft(
        runbook_name="Deploy",
        tasks=[RunbookTask(task_name=name) for name in tasks or ("Drain traffic",)],
    )
    return rui, await world.services.runbooks.add_runbook(rui, REL, draft)


async def test_a_task_is_added_last_with_its_event_and_timeline_entry(world: World) -> None:
    rui, release = await with_runbook(world)
    runbook_id = release.runbook("Deploy").runbook_id
    task = RunbookTask(
        task_name="Deploy pods",
        owner_id=rui.user_id,
        duration_minutes=30,
        scheduled_start=T0,
        depends_on_task_names=["DRAIN traffic"],
    )

    saved = await world.services.runbooks.add_task(rui, REL, runbook_id, task)

    stored = (await world.repos.releases.get(REL)).runbook("Deploy")
    assert [t.task_name for t in stored.tasks] == ["Drain traffic", "Deploy pods"]
    assert stored.task("deploy pods") == task
    assert saved.runbook("Deploy").tasks == stored.tasks
    _, events = await world.services.timeline.history(rui, REL, limit=1)
    assert events[0].action == "task.added"
    assert events[0].target.runbook_id == runbook_id
    assert events[0].target.task_name == "Deploy pods"
    assert events[0].after == {
        "status": "TODO",
        "owner_id": rui.user_id,
        "duration_minutes": 30,
        "scheduled_start": T0.isoformat(),
        "depends_on_task_names": ["DRAIN traffic"],
    }
    # What it caused rides with it, as for the tasks a runbook is created with.
    assert events[0].events == [
        TaskChanged(
            runbook_id=runbook_id, task_name="Deploy pods", before=None, after=TaskStatus.TODO
        )
    ]


async def test_the_runbook_may_be_named_instead_of_its_id(world: World) -> None:
    rui, _ = await with_runbook(world)

    await world.services.runbooks.add_task(
        rui, REL, "Deploy", RunbookTask(task_name="Verify", status=TaskStatus.DONE)
    )

    task = (await world.repos.releases.get(REL)).runbook("Deploy").task("Verify")
    assert task.status is TaskStatus.DONE


async def refused(world: World, actor: Actor, runbook: str, task: RunbookTask) -> Exception:
    """What add_task raised, after checking that storage was left as it was."""
    before = await world.snapshot()
    with pytest.raises(Exception) as caught:
        await world.services.runbooks.add_task(actor, REL, runbook, task)
    assert await world.snapshot() == before
    return caught.value


async def test_a_name_the_runbook_has_in_any_case_is_a_duplicate(world: World) -> None:
    rui, _ = await with_runbook(world)

    error = await refused(world, rui, "Deploy", RunbookTask(task_name="drain TRAFFIC"))

    assert isinstance(error, Duplicate)
    assert error.fields == {"task_name": "A task with this name exists"}
    assert "Deploy" in error.message and "drain TRAFFIC" in error.message


@pytest.mark.parametrize(
    ("depends_on", "problem"),
    [(["Backup"], "Unknown dependency"), (["verify"], "Depends on itself")],
    ids=["unknown", "itself"],
)
async def test_dependencies_must_name_other_tasks_of_the_runbook(
    world: World, depends_on: list[str], problem: str
) -> None:
    rui, _ = await with_runbook(world)
    task = RunbookTask(task_name="Verify", depends_on_task_names=depends_on)

    error = await refused(world, rui, "Deploy", task)

    assert isinstance(error, ValidationFailed)
    assert error.fields == {"depends_on_task_names": problem}


async def test_a_task_ending_before_it_starts_is_refused(world: World) -> None:
    rui, _ = await with_runbook(world)
    task = RunbookTask(
        task_name="Verify", scheduled_start=T0, scheduled_end=T0 - timedelta(minutes=1)
    )

    error = await refused(world, rui, "Deploy", task)

    assert isinstance(error, ValidationFailed)
    assert error.fields == {"scheduled_end": "The end must not precede the start"}


async def test_a_full_runbook_takes_no_more_tasks(world: World) -> None:
    rui, _ = await with_runbook(world, *(f"Step {i}" for i in range(MAX_TASKS)))

    error = await refused(world, rui, "Deploy", RunbookTask(task_name="One more"))

    assert isinstance(error, RuleViolation)
    assert f"already has {MAX_TASKS} tasks" in error.message


async def test_an_unknown_runbook_is_not_found_naming_the_runbooks(world: World) -> None:
    rui, _ = await with_runbook(world)

    error = await refused(world, rui, "Rollback", RunbookTask(task_name="Verify"))

    assert isinstance(error, NotFound) and "Deploy" in error.message


async def test_adding_a_task_needs_the_runbook_permission(world: World) -> None:
    await with_runbook(world)
    viewer = await world.actor("vic", Permission.CAN_VIEW_ALL)

    error = await refused(world, viewer, "Deploy", RunbookTask(task_name="Verify"))

    assert isinstance(error, PermissionDenied) and "can_manage_runbooks" in error.message


# --- the same schedule rule for a runbook's own tasks -----------------------------------------


async def test_a_runbook_whose_task_ends_before_it_starts_is_refused(world: World) -> None:
    await world.release(REL)
    rui = await world.actor("rui", Permission.CAN_MANAGE_RUNBOOKS, Permission.CAN_VIEW_ALL)
    backwards = RunbookTask(task_name="Deploy", scheduled_start=T0, scheduled_end=T0 - timedelta(1))
    before = await world.snapshot()

    with pytest.raises(ValidationFailed, match="would end before it starts") as caught:
        await world.services.runbooks.add_runbook(
            rui, REL, RunbookDraft(runbook_name="Deploy", tasks=[backwards])
        )

    assert caught.value.fields == {"tasks": "The end must not precede the start"}
    assert await world.snapshot() == before


async def test_a_runbook_task_depending_on_itself_is_refused(world: World) -> None:
    await world.release(REL)
    rui = await world.actor("rui", Permission.CAN_MANAGE_RUNBOOKS, Permission.CAN_VIEW_ALL)
    loop = RunbookTask(task_name="Deploy", depends_on_task_names=["deploy"])
    before = await world.snapshot()

    with pytest.raises(ValidationFailed, match="depends on itself"):
        await world.services.runbooks.add_runbook(
            rui, REL, RunbookDraft(runbook_name="Deploy", tasks=[loop])
        )

    assert await world.snapshot() == before
