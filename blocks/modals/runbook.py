"""`/release runbook <release>` (add a runbook with its tasks) and `/release task <release>`
(update a task's status and timing)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from blocks.ids import CallbackId, EditField
from blocks.message import context
from blocks.modals.form import (
    EditingMetadata,
    Group,
    Pick,
    datetime_input,
    enum_options,
    modal,
    notice_view,
    select_input,
    text_input,
    user_input,
)
from blocks.modals.form_state import Form, present
from blocks.modals.lines import TaskLine, parse_duration, parse_task_lines
from blocks.text import esc
from core.errors import ValidationFailed
from core.models.common import NAME_MAX, TEXT_MAX, parse
from core.models.release import Release, RunbookTask, TaskStatus
from core.services.runbooks import RunbookDraft, TaskChange

RUNBOOK_TITLE = "Add a runbook"
TASK_TITLE = "Runbook task"
TASK_LINES_HINT = (
    "One task per line: name | owner's username | duration, e.g. "
    "“Deploy payments-api | rhea | 30m”. Owner and duration (45, 45m, 1h30m) are optional."
)


def runbook_modal(release: Release, metadata: EditingMetadata) -> View:
    existing = ", ".join(esc(r.runbook_name) for r in release.runbooks) or "none yet"
    blocks: list[Block] = [
        context(
            f"*{esc(release.release_id)}* · {esc(release.release_name)} — runbooks: {existing}"
        ),
        text_input(
            EditField.RUNBOOK_NAME,
            "Name",
            placeholder="Payments cutover",
            max_length=NAME_MAX,
        ),
        text_input(
            EditField.DESCRIPTION, "Description", optional=True, multiline=True, max_length=TEXT_MAX
        ),
        text_input(
            EditField.TASKS,
            "Tasks",
            optional=True,
            multiline=True,
            max_length=TEXT_MAX,
            placeholder="Freeze ledger writes | rhea | 10m",
            hint=TASK_LINES_HINT,
        ),
    ]
    return modal(RUNBOOK_TITLE, CallbackId.RUNBOOK, blocks, metadata, submit="Add")


@dataclass(frozen=True)
class TaskPick(Pick):
    runbook_id: str
    task_name: str


def task_picks(release: Release) -> list[TaskPick]:
    return [TaskPick(r.runbook_id, t.task_name) for r in release.runbooks for t in r.tasks]


def _task_label(task: RunbookTask, tz: ZoneInfo) -> str:
    status = task.status.value.capitalize()
    if task.scheduled_start:
        return f"{task.task_name} · {status} · {task.scheduled_start.astimezone(tz):%d %b %H:%M}"
    return f"{task.task_name} · {status}"


def task_modal(release: Release, metadata: EditingMetadata, tz: ZoneInfo) -> View:
    groups = [
        Group(
            runbook.runbook_name,
            [
                TaskPick(runbook.runbook_id, t.task_name).option(_task_label(t, tz))
                for t in runbook.tasks
            ],
        )
        for runbook in release.runbooks
    ]
    if not any(g.options for g in groups):
        return notice_view(
            TASK_TITLE,
            CallbackId.TASK,
            f"*{esc(release.release_id)}* has no runbook tasks yet; add a runbook with "
            f"`/release runbook {esc(release.release_id)}` first.",
        )
    blocks: list[Block] = [
        context(
            f"*{esc(release.release_id)}* · {esc(release.release_name)} — only the fields you "
            f"fill in change. Times are in your time zone ({esc(tz.key)})."
        ),
        select_input(EditField.TASK, "Task", groups=groups),
        select_input(EditField.STATUS, "Status", options=enum_options(TaskStatus), optional=True),
        datetime_input(EditField.SCHEDULED_START, "Scheduled start", optional=True),
        datetime_input(EditField.SCHEDULED_END, "Scheduled end", optional=True),
        text_input(
            EditField.DURATION,
            "Duration",
            optional=True,
            placeholder="45m",
            hint="Minutes (45), or 45m, 1h, 1h30m.",
        ),
        user_input(EditField.OWNER, "Owner"),
    ]
    return modal(TASK_TITLE, CallbackId.TASK, blocks, metadata)


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunbookInput:
    """The Runbook form as typed; its tasks' owners are usernames, still to be looked up."""

    runbook_name: str | None
    description: str | None
    tasks: tuple[TaskLine, ...]

    def owners(self) -> dict[str, str]:
        """Each owner's username → the first task it is given (named if it is unknown)."""
        found: dict[str, str] = {}
        for task in self.tasks:
            if task.owner:
                found.setdefault(task.owner, task.name)
        return found

    def draft(self, owner_ids: Mapping[str, str]) -> RunbookDraft:
        """The runbook, its owners' usernames replaced by ``owner_ids``' portal users."""
        tasks = [
            present(
                {
                    "task_name": task.name,
                    "owner_id": owner_ids.get(task.owner) if task.owner else None,
                    "duration_minutes": task.minutes,
                }
            )
            for task in self.tasks
        ]
        named = present({"runbook_name": self.runbook_name, "description": self.description})
        return parse(RunbookDraft, {**named, "tasks": tasks})


def read_runbook_form(form: Form) -> RunbookInput:
    return RunbookInput(
        runbook_name=form.text(EditField.RUNBOOK_NAME),
        description=form.text(EditField.DESCRIPTION),
        tasks=tuple(parse_task_lines(form.text(EditField.TASKS), field=EditField.TASKS)),
    )


def read_task_form(form: Form, *, owner_id: str | None) -> TaskChange:
    """What changes in the task picked; ``owner_id``: the portal user of the owner picked,
    if any."""
    duration = form.text(EditField.DURATION)
    try:
        minutes = parse_duration(duration) if duration else None
    except ValueError as error:
        raise ValidationFailed(str(error), fields={EditField.DURATION: str(error)}) from None
    change = parse(
        TaskChange,
        present(
            {
                "status": form.choice(EditField.STATUS),
                "scheduled_start": form.unix_time(EditField.SCHEDULED_START),
                "scheduled_end": form.unix_time(EditField.SCHEDULED_END),
                "duration_minutes": minutes,
                "owner_id": owner_id,
            }
        ),
    )
    if change == TaskChange():
        raise ValidationFailed(
            "Nothing to change.", fields={EditField.STATUS: "Fill in what should change"}
        )
    return change
