"""Reading submitted modal state, task and CTASK lines, and placing errors on fields."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from blocks.modals.form_state import Form
from blocks.modals.lines import parse_ctask_lines, parse_duration, parse_task_lines
from bot.views.form_input import field_errors
from core.errors import PermissionDenied, RuleViolation, ValidationFailed
from core.models.common import Key, parse
from core.models.release import CTaskStatus

VIEW = {
    "blocks": [
        {"type": "section", "block_id": "intro"},
        {"type": "input", "block_id": "name"},
        {"type": "input", "block_id": "tasks"},
        {"type": "input", "block_id": "when"},
    ],
    "state": {
        "values": {
            "name": {"name": {"type": "plain_text_input", "value": "  Cutover  "}},
            "tasks": {"tasks": {"type": "plain_text_input", "value": None}},
            "when": {"when": {"type": "datetimepicker", "selected_date_time": 1767225600}},
        }
    },
}


def test_form_reads_slacks_state_format() -> None:
    form = Form(VIEW)

    assert form.input_blocks == ["name", "tasks", "when"]
    assert form.text("name") == "Cutover"
    assert form.text("tasks") is None and form.text("missing") is None
    assert form.unix_time("when") == 1767225600
    assert form.choice("name") is None and form.choices("name") == []


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("45", 45), ("45m", 45), ("1h", 60), ("1h30m", 90), ("2 h 5 min", 125), ("90 MIN", 90)],
)
def test_durations(text: str, minutes: int) -> None:
    assert parse_duration(text) == minutes


@pytest.mark.parametrize("text", ["", "soon", "1d", "-5", "h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_task_lines() -> None:
    lines = parse_task_lines("Freeze | @rhea | 10m\n\n  Deploy  \nVerify || 1h", field="tasks")

    assert [(t.name, t.owner, t.minutes) for t in lines] == [
        ("Freeze", "rhea", 10),
        ("Deploy", None, None),
        ("Verify", None, 60),
    ]
    with pytest.raises(ValidationFailed) as error:
        parse_task_lines("A\n | rhea", field="tasks")
    assert error.value.fields == {"tasks": "Line 2: the task needs a name"}


def test_ctask_lines_keep_pipes_in_descriptions() -> None:
    lines = parse_ctask_lines("T1 | Deploy | verify | done\nT2 | Notify\nT3", field="ctasks")

    assert [(c.ctask_id, c.description, c.status) for c in lines] == [
        ("T1", "Deploy | verify", CTaskStatus.DONE),
        ("T2", "Notify", None),
        ("T3", None, None),
    ]


class _Runbook(BaseModel):
    runbook_name: Key
    tasks: list[_Task]


class _Task(BaseModel):
    task_name: Key


_Runbook.model_rebuild()


def test_validation_errors_land_on_their_blocks_with_line_numbers() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse(_Runbook, {"runbook_name": "has space", "tasks": [{"task_name": "ok"}, {}]})

    errors = field_errors(caught.value, Form(VIEW), aliases={"runbook_name": "name"}, focus="name")

    assert errors == {
        "name": "Use letters, digits and . _ : - only, starting with a letter or digit",
        "tasks": "Line 2: task_name: Required",
    }


def test_fields_the_form_does_not_have_go_to_the_focus_block_by_name() -> None:
    error = ValidationFailed("bad", fields={"colour": "Unknown colour"})

    assert field_errors(error, Form(VIEW), focus="tasks") == {"tasks": "colour: Unknown colour"}


def test_rule_errors_show_their_whole_message_on_their_field() -> None:
    error = RuleViolation(
        "Milestone 'b' overlaps 'a' (A, 2026-12-01 09:00 → …)", fields={"when": "Overlaps 'a'"}
    )

    assert field_errors(error, Form(VIEW), focus="name") == {"when": error.message}


def test_errors_without_a_field_go_to_the_focus_block_or_the_first_input() -> None:
    denied = PermissionDenied("You need the 'can_manage_runbooks' permission to add a runbook.")

    assert field_errors(denied, Form(VIEW), focus="tasks") == {"tasks": denied.message}
    assert field_errors(denied, Form(VIEW), focus="gone") == {"name": denied.message}


def test_unexpected_errors_give_a_ref_and_no_internals() -> None:
    errors = field_errors(KeyError("secret internals"), Form(VIEW), focus="name")

    assert errors["name"].startswith("Something went wrong on our side (ref ")
    assert "secret" not in errors["name"] and "*" not in errors["name"]
