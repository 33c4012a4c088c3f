"""Runbooks with their tasks, and the release's change ticket (CHG) with its CTASKs."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from core.clock import Clock
from core.errors import Conflict, Duplicate, RuleViolation, ValidationFailed
from core.models.common import DomainModel, Name, PlannedDatetime, Text
from core.models.release import (
    MAX_TASK_MINUTES,
    AttachmentRef,
    Change,
    CTask,
    Release,
    Runbook,
    RunbookTask,
    TaskStatus,
)
from core.models.timeline import TargetPath
from core.ports import ReleaseRepository
from core.rules.operations import ADD_RUNBOOK, MANAGE_CHANGE, UPDATE_TASK
from core.rules.permissions import Actor
from core.services.outbox import Outbox
from core.services.release_changes import Recorded, ReleaseChanges, jsonable

STALE_RELEASE = "The release changed since you opened this form; close it and open it again"
# The most tasks one runbook holds, whether given with it or added one by one later.
MAX_TASKS = 200


class RunbookDraft(DomainModel):
    runbook_name: Name
    description: Text = ""
    tasks: list[RunbookTask] = Field(default_factory=list, max_length=MAX_TASKS)


class TaskChange(DomainModel):
    """Fields left as None stay as they are."""

    status: TaskStatus | None = None
    scheduled_start: PlannedDatetime | None = None
    scheduled_end: PlannedDatetime | None = None
    duration_minutes: int | None = Field(default=None, ge=0, le=MAX_TASK_MINUTES)
    owner_id: str | None = None


class RunbookService:
    def __init__(self, releases: ReleaseRepository, outbox: Outbox, clock: Clock) -> None:
        self._changes = ReleaseChanges(releases, outbox, clock)

    async def add_runbook(self, actor: Actor, ref: str, draft: RunbookDraft) -> Release:
        ADD_RUNBOOK.require(actor)
        _check_tasks(draft.tasks)

        def change(release: Release, now: datetime) -> Recorded:
            if any(
                r.runbook_name.casefold() == draft.runbook_name.casefold() for r in release.runbooks
            ):
                raise Duplicate(
                    f"Release '{release.release_id}' already has a runbook "
                    f"named '{draft.runbook_name}'.",
                    fields={"runbook_name": "A runbook with this name exists"},
                )
            runbook = Runbook(**draft.model_dump(), created_by=actor.user_id, created_at=now)
            release.runbooks.append(runbook)
            target = TargetPath(runbook_id=runbook.runbook_id)
            return Recorded(
                "runbook.added",
                target,
                after={"runbook_name": runbook.runbook_name, "tasks": len(runbook.tasks)},
            )

        return await self._changes.apply(actor, ref, change)

    async def add_task(self, actor: Actor, ref: str, runbook_id: str, task: RunbookTask) -> Release:
        """One more task at the end of a runbook (by id or name), held to the rules of the
        tasks a runbook is created with: a name no other task of it has (any case),
        dependencies on tasks it has, a schedule that does not end before it starts, and at
        most ``MAX_TASKS`` tasks."""
        ADD_RUNBOOK.require(actor)
        _check_schedule(task, field="scheduled_end")

        def change(release: Release, _now: datetime) -> Recorded:
            runbook = release.runbook(runbook_id)
            if any(t.task_name.casefold() == task.task_name.casefold() for t in runbook.tasks):
                raise Duplicate(
                    f"Runbook '{runbook.runbook_name}' already has a task named "
                    f"'{task.task_name}'; pick another name, or change that task instead.",
                    fields={"task_name": "A task with this name exists"},
                )
            if len(runbook.tasks) >= MAX_TASKS:
                raise RuleViolation(
                    f"Runbook '{runbook.runbook_name}' already has {len(runbook.tasks)} tasks, "
                    "the most a runbook may have; add another runbook for the rest.",
                    fields={"task_name": f"At most {MAX_TASKS} tasks"},
                )
            _check_depends_on(task, {t.task_name.casefold() for t in runbook.tasks})
            runbook.tasks.append(task.model_copy(deep=True))
            target = TargetPath(runbook_id=runbook.runbook_id, task_name=task.task_name)
            shown = task.model_dump(
                exclude={"task_name", "status", "attachment_refs"}, exclude_defaults=True
            )
            return Recorded("task.added", target, after=jsonable({"status": task.status, **shown}))

        return await self._changes.apply(actor, ref, change)

    async def update_task(
        self, actor: Actor, ref: str, runbook_id: str, task_name: str, update: TaskChange
    ) -> Release:
        UPDATE_TASK.require(actor)

        def change(release: Release, _now: datetime) -> Recorded | None:
            runbook = release.runbook(runbook_id)
            task = runbook.task(task_name)
            edits = update.model_dump(exclude_none=True)
            before = {k: getattr(task, k) for k, v in edits.items() if getattr(task, k) != v}
            after = {k: edits[k] for k in before}
            if not after:
                return None
            _check_schedule(task.model_copy(update=after), field="scheduled_end")
            for name, value in after.items():
                setattr(task, name, value)
            target = TargetPath(runbook_id=runbook.runbook_id, task_name=task.task_name)
            return Recorded("task.updated", target, before=jsonable(before), after=jsonable(after))

        return await self._changes.apply(actor, ref, change)

    async def upsert_change(
        self, actor: Actor, ref: str, chg: Change, *, expected_version: int | None = None
    ) -> Release:
        """Create the release's CHG, or update it (same change_id).

        CTASKs are matched by ctask_id. One that is kept keeps what the update leaves out —
        a field not given, None or empty (assignee, times, dependencies, description, status)
        — and the files linked to it; a CTASK the update does not list is dropped.

        ``expected_version`` is the release's version the caller's view was read at: when the
        release has changed since, nothing is stored (CONFLICT), so what someone else changed
        meanwhile is not reverted.
        """
        MANAGE_CHANGE.require(actor)
        ids = [c.ctask_id for c in chg.ctasks]
        if len(ids) != len(set(ids)):
            raise ValidationFailed(
                "CTASK ids must be unique.", fields={"ctasks": "Duplicate CTASK id"}
            )

        def change(release: Release, _now: datetime) -> Recorded | None:
            if expected_version is not None and release.version != expected_version:
                raise Conflict(STALE_RELEASE)
            before = release.chg
            if before is not None and before.change_id != chg.change_id:
                raise Duplicate(
                    f"Release '{release.release_id}' already has change {before.change_id}; "
                    "update that one instead.",
                    fields={"change_id": f"The release's change is {before.change_id}"},
                )
            after = _merge_change(before, chg)
            _check_dependencies(after)
            if after == before:
                return None
            release.chg = after
            return Recorded(
                "change.created" if before is None else "change.updated",
                TargetPath(),
                before=before.model_dump(mode="json") if before else None,
                after=after.model_dump(mode="json"),
            )

        return await self._changes.apply(actor, ref, change)


def _check_tasks(tasks: list[RunbookTask]) -> None:
    names = [t.task_name.casefold() for t in tasks]
    if len(names) != len(set(names)):
        raise ValidationFailed(
            "Task names must be unique within a runbook.", fields={"tasks": "Duplicate task"}
        )
    known = set(names)
    for task in tasks:
        _check_depends_on(task, known, field="tasks")
        _check_schedule(task, field="tasks")


def _check_depends_on(
    task: RunbookTask, known: set[str], *, field: str = "depends_on_task_names"
) -> None:
    """``known``: the runbook's task names, casefolded (a task may not wait for itself)."""
    itself = task.task_name.casefold()
    if any(d.casefold() == itself for d in task.depends_on_task_names):
        raise ValidationFailed(
            f"Task '{task.task_name}' depends on itself; remove it from its own "
            "depends_on_task_names.",
            fields={field: "Depends on itself"},
        )
    missing = [d for d in task.depends_on_task_names if d.casefold() not in known]
    if missing:
        raise ValidationFailed(
            f"Task '{task.task_name}' depends on unknown tasks: {', '.join(missing)}.",
            fields={field: "Unknown dependency"},
        )


def _check_schedule(task: RunbookTask, *, field: str) -> None:
    if task.scheduled_start and task.scheduled_end and task.scheduled_end < task.scheduled_start:
        raise ValidationFailed(
            f"Task '{task.task_name}' would end before it starts; pick a later end.",
            fields={field: "The end must not precede the start"},
        )


def _check_dependencies(chg: Change) -> None:
    ids = {c.ctask_id for c in chg.ctasks}
    unknown = {d for c in chg.ctasks for d in c.dependency_ctask_ids} - ids
    if unknown:
        raise ValidationFailed(
            f"CTASKs depend on unknown CTASKs: {', '.join(sorted(unknown))}.",
            fields={"ctasks": "Unknown dependency"},
        )


# What a CTASK update may leave out, to keep the stored value (files are merged instead).
_KEPT_WHEN_LEFT_OUT = (
    "description",
    "assignee_id",
    "start_time",
    "end_time",
    "status",
    "dependency_ctask_ids",
)


def _merge_change(before: Change | None, chg: Change) -> Change:
    """The new CHG, its kept CTASKs completed from the stored ones (by ctask_id), and the
    files already linked to the CHG and its CTASKs carried over."""
    if before is None:
        return chg
    stored = {c.ctask_id: c for c in before.ctasks}
    ctasks = [_merge_ctask(stored.get(c.ctask_id), c) for c in chg.ctasks]
    refs = _merged(before.attachment_refs, chg.attachment_refs)
    return chg.model_copy(update={"ctasks": ctasks, "attachment_refs": refs})


def _merge_ctask(stored: CTask | None, given: CTask) -> CTask:
    if stored is None:
        return given
    kept = {
        name: getattr(stored, name)
        for name in _KEPT_WHEN_LEFT_OUT
        if name not in given.model_fields_set or getattr(given, name) in (None, "", [])
    }
    kept["attachment_refs"] = _merged(stored.attachment_refs, given.attachment_refs)
    return given.model_copy(update=kept)


def _merged(kept: list[AttachmentRef], given: list[AttachmentRef]) -> list[AttachmentRef]:
    known = {r.attachment_id for r in given}
    return [*given, *(r for r in kept if r.attachment_id not in known)]
