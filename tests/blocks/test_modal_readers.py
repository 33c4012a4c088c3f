"""Each release-editing form's reader: submitted state in, the core draft out, or the
refusal placed under the field to fix — pure, without Slack or storage."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from blocks.ids import BP_SIGNED_OFF, Approval, EditField
from blocks.modals import (
    AttachmentInput,
    Form,
    GatePick,
    GateUpdate,
    MilestonePick,
    MilestoneUpdate,
    ProductAddition,
    ProductPick,
    TargetPick,
    read_attach_form,
    read_change_form,
    read_gate_form,
    read_milestone_form,
    read_product_form,
    read_release_form,
    read_runbook_form,
    read_task_form,
    target_name,
)
from core.errors import ValidationFailed
from core.models.attachment import AttachmentDraft, AttachmentTarget
from core.models.release import (
    ChangeStatus,
    ChangeType,
    CTask,
    CTaskStatus,
    Environment,
    FixedVersion,
    FixedVersionStatus,
    GateStatus,
    MilestoneStatus,
    ReleaseDraft,
    RunbookTask,
    TaskStatus,
)
from core.services.gates import GateChange, GateDraft, MilestoneChange, MilestoneDraft
from core.services.runbooks import RunbookDraft, TaskChange

State = dict[str, Any]
START = datetime(2027, 2, 10, 9, 0, tzinfo=UTC)
END = datetime(2027, 2, 12, 17, 0, tzinfo=UTC)
SHA = "AB" * 32


def submitted(**values: State) -> Form:
    """A submitted view whose ``block_id`` (the action_id too) holds each state."""
    return Form({"state": {"values": {block: {block: s} for block, s in values.items()}}})


def text(value: str) -> State:
    return {"type": "plain_text_input", "value": value}


def select(value: str) -> State:
    return {"type": "static_select", "selected_option": {"value": value}}


def multi(*values: str) -> State:
    return {"type": "multi_static_select", "selected_options": [{"value": v} for v in values]}


def moment(value: datetime) -> State:
    return {"type": "datetimepicker", "selected_date_time": int(value.timestamp())}


def refusal(read: Any, *args: Any, **kwargs: Any) -> dict[str, str]:
    """The fields a reader refuses, with what each is told."""
    with pytest.raises(ValidationFailed) as caught:
        read(*args, **kwargs)
    return dict(caught.value.fields)


# --- /release new ---------------------------------------------------------------------------


def test_the_release_form_reads_into_a_release_draft() -> None:
    form = submitted(
        release_id=text(" REL-2027.02 "),
        release_name=text("February release"),
        release_date={"type": "datepicker", "selected_date": "2027-02-15"},
        release_type=select("hotfix"),
        squad_ids=multi("payments", "identity"),
        scope_application_ids=multi("pay"),
    )

    assert read_release_form(form) == ReleaseDraft(
        release_id="REL-2027.02",
        release_name="February release",
        release_date=date(2027, 2, 15),
        release_type="hotfix",
        squad_ids=["payments", "identity"],
        scope_application_ids=["pay"],
    )


def test_the_release_form_refuses_a_missing_name_and_a_date_that_is_no_date() -> None:
    no_name = submitted(release_id=text("REL-1"), release_date={"selected_date": "2027-02-15"})
    assert refusal(read_release_form, no_name) == {"release_name": "Field required"}

    no_date = submitted(release_id=text("REL-1"), release_date={"selected_date": "15/02/2027"})
    assert refusal(read_release_form, no_date) == {EditField.RELEASE_DATE: "Pick a date"}


# --- /release product ---------------------------------------------------------------------


def test_a_catalog_product_is_added_with_the_squads_picked() -> None:
    form = submitted(participating_squad_ids=multi("payments"))

    assert read_product_form(form, ProductPick("fraud", "pay")) == ProductAddition(
        "pay", "fraud", ["payments"]
    )
    assert read_product_form(submitted(), ProductPick("fraud", "pay")) == ProductAddition(
        "pay", "fraud", None
    )


def test_a_product_of_the_release_gets_the_fixed_version_typed() -> None:
    form = submitted(
        version_key=text("auth-4.1.0"),
        version_name=text("Auth 4.1.0"),
        version_status=select("RELEASED"),
    )

    assert read_product_form(form, ProductPick("auth")) == FixedVersion(
        version_key="auth-4.1.0", version_name="Auth 4.1.0", status=FixedVersionStatus.RELEASED
    )


def test_the_product_form_refuses_a_version_before_adding_and_squads_after() -> None:
    why = "Add the product first, then pick it again to set its fixed version"
    version = submitted(version_key=text("fraud-1.0"), version_status=select("RELEASED"))
    assert refusal(read_product_form, version, ProductPick("fraud", "pay")) == {
        EditField.VERSION_KEY: why,
        EditField.VERSION_STATUS: why,
    }

    squads = submitted(participating_squad_ids=multi("payments"), version_key=text("auth-4"))
    assert refusal(read_product_form, squads, ProductPick("auth")) == {
        EditField.PRODUCT_SQUADS: "Only when adding a product"
    }


# --- /release gate ------------------------------------------------------------------------


def test_a_new_gate_is_drafted_with_its_details_and_owner() -> None:
    form = submitted(gate_name=text("Security review"), order=text("20"), required=select("false"))

    assert read_gate_form(form, GatePick("auth"), owner_id="u-rhea") == GateDraft(
        gate_name="Security review", order=20, required=False, owner_id="u-rhea"
    )


def test_an_existing_gate_changes_only_what_is_filled_in() -> None:
    form = submitted(gate_status=select("PASSED"), comment=text("All green"))

    assert read_gate_form(form, GatePick("auth", "QA"), owner_id=None) == GateUpdate(
        "QA", GateChange(gate_status=GateStatus.PASSED, comment="All green")
    )


def test_the_gate_form_refuses_a_status_for_a_new_gate_a_new_name_and_nothing() -> None:
    new_with_status = submitted(
        gate_name=text("QA"), gate_status=select("PASSED"), comment=text("ok")
    )
    why = "Only for an existing gate: add the gate, then change its status"
    assert refusal(read_gate_form, new_with_status, GatePick("auth"), owner_id=None) == {
        EditField.GATE_STATUS: why,
        EditField.COMMENT: why,
    }

    renamed = submitted(gate_name=text("QA2"), gate_status=select("PASSED"))
    assert refusal(read_gate_form, renamed, GatePick("auth", "QA"), owner_id=None) == {
        EditField.GATE_NAME: "Only for a new gate; leave empty to change this one"
    }

    assert refusal(read_gate_form, submitted(), GatePick("auth", "QA"), owner_id=None) == {
        EditField.GATE_STATUS: "Pick a new status, or fill in what should change"
    }


# --- /release milestone ---------------------------------------------------------------------


def test_a_new_milestone_is_drafted_with_its_times_and_approval() -> None:
    form = submitted(
        milestone_key=text("uat-signoff"),
        milestone_name=text("UAT sign-off"),
        environment=select("uat"),
        start_date=moment(START),
        end_date=moment(END),
        approval=select(Approval.MANAGER),
    )

    assert read_milestone_form(form, MilestonePick("auth", "QA"), owner_id="u-rhea") == (
        MilestoneDraft(
            milestone_key="uat-signoff",
            milestone_name="UAT sign-off",
            environment=Environment.UAT,
            start_date=START,
            end_date=END,
            owner_id="u-rhea",
            approval_required=True,
            requires_approval_manager=True,
        )
    )


def test_an_existing_milestone_keeps_its_key_and_changes_what_is_filled_in() -> None:
    form = submitted(milestone_key=text("uat"), status=select("DONE"))
    pick = MilestonePick("auth", "QA", "uat")

    assert read_milestone_form(form, pick, owner_id="u-rhea") == MilestoneUpdate(
        "uat", MilestoneChange(status=MilestoneStatus.DONE, owner_id="u-rhea")
    )


def test_the_milestone_form_refuses_a_new_key_nothing_and_an_unknown_approval() -> None:
    pick = MilestonePick("auth", "QA", "uat")

    rekeyed = submitted(milestone_key=text("prod"), status=select("DONE"))
    assert refusal(read_milestone_form, rekeyed, pick, owner_id=None) == {
        EditField.MILESTONE_KEY: "Only for a new milestone; leave it empty"
    }
    assert refusal(read_milestone_form, submitted(), pick, owner_id=None) == {
        EditField.MILESTONE_NAME: "Fill in what should change"
    }
    forged = submitted(approval=select("everyone"))
    assert refusal(read_milestone_form, forged, pick, owner_id=None) == {
        EditField.APPROVAL: "Pick one of the options"
    }


# --- /release runbook and /release task ---------------------------------------------------


def test_a_runbook_names_its_owners_by_username_until_they_are_looked_up() -> None:
    form = submitted(
        runbook_name=text("Payments cutover"),
        tasks=text("Freeze | @rhea | 10m\nDeploy | theo | 1h30m\nVerify | rhea"),
    )

    typed = read_runbook_form(form)

    assert typed.owners() == {"rhea": "Freeze", "theo": "Deploy"}
    assert typed.draft({"rhea": "u-rhea", "theo": "u-theo"}) == RunbookDraft(
        runbook_name="Payments cutover",
        tasks=[
            RunbookTask(task_name="Freeze", owner_id="u-rhea", duration_minutes=10),
            RunbookTask(task_name="Deploy", owner_id="u-theo", duration_minutes=90),
            RunbookTask(task_name="Verify", owner_id="u-rhea"),
        ],
    )


def test_the_runbook_form_refuses_a_nameless_task_and_a_missing_name() -> None:
    nameless = submitted(runbook_name=text("Cutover"), tasks=text("Freeze\n | rhea | 5m"))
    assert refusal(read_runbook_form, nameless) == {
        EditField.TASKS: "Line 2: the task needs a name"
    }

    unnamed = read_runbook_form(submitted(tasks=text("Freeze")))
    assert refusal(unnamed.draft, {}) == {"runbook_name": "Field required"}


def test_a_task_changes_what_is_filled_in_with_its_duration_in_minutes() -> None:
    form = submitted(status=select("DOING"), duration_minutes=text("1h30m"))

    assert read_task_form(form, owner_id=None) == TaskChange(
        status=TaskStatus.DOING, duration_minutes=90
    )
    assert read_task_form(submitted(), owner_id="u-rhea") == TaskChange(owner_id="u-rhea")


def test_the_task_form_refuses_what_is_no_duration_and_nothing() -> None:
    soon = submitted(status=select("DOING"), duration_minutes=text("soon"))
    assert refusal(read_task_form, soon, owner_id=None) == {
        EditField.DURATION: "'soon' is not a duration (45, 45m, 1h, 1h30m)"
    }
    assert refusal(read_task_form, submitted(), owner_id=None) == {
        EditField.STATUS: "Fill in what should change"
    }


# --- /release change ------------------------------------------------------------------------


def test_the_change_form_reads_the_ticket_and_its_ctask_lines() -> None:
    form = submitted(
        change_id=text("CHG0031245"),
        change_type=select("EMERGENCY"),
        status=select("SCHEDULED"),
        affected_ci=text("payments-api, , ledger"),
        bp_signoff={"type": "checkboxes", "selected_options": [{"value": BP_SIGNED_OFF}]},
        ctasks=text("T1 | Deploy | verify | done\nT2"),
    )

    chg = read_change_form(form)

    assert (chg.change_id, chg.change_type, chg.status) == (
        "CHG0031245",
        ChangeType.EMERGENCY,
        ChangeStatus.SCHEDULED,
    )
    assert chg.affected_ci == ["payments-api", "ledger"] and chg.bp_signoff
    assert chg.ctasks == [
        CTask(ctask_id="T1", description="Deploy | verify", status=CTaskStatus.DONE),
        CTask(ctask_id="T2"),
    ]


def test_the_change_form_refuses_an_unknown_ctask_status() -> None:
    form = submitted(change_id=text("CHG1"), ctasks=text("T1 | Deploy | later"))

    assert refusal(read_change_form, form) == {
        EditField.CTASKS: "Line 1: unknown status 'LATER' (use TODO, DOING, DONE, FAILED, WAITING)"
    }


# --- /release attach ----------------------------------------------------------------------


def test_the_attach_form_reads_the_file_where_it_goes_and_its_label() -> None:
    form = submitted(
        file_name=text("uat-report.pdf"),
        file_url=text("https://artifacts.example.com/uat-report.pdf"),
        sha256=text(SHA),
        file_size=text("482133"),
        label=text("UAT report"),
        tags=text("uat, evidence"),
    )
    pick = TargetPick("auth", "QA", "uat")

    assert read_attach_form(form, pick, release_id="REL-1") == AttachmentInput(
        AttachmentDraft(
            file_name="uat-report.pdf",
            file_url="https://artifacts.example.com/uat-report.pdf",
            sha256=SHA.lower(),
            file_size=482133,
            tags=["uat", "evidence"],
        ),
        AttachmentTarget(
            release_id="REL-1", product_id="auth", gate_name="QA", milestone_key="uat"
        ),
        "UAT report",
    )
    assert target_name(pick) == "auth / QA / uat"
    assert target_name(TargetPick()) == "the release"


def test_the_attach_form_refuses_a_checksum_that_is_not_sha256() -> None:
    form = submitted(
        file_name=text("a.pdf"),
        file_url=text("https://x.example/a.pdf"),
        sha256=text("abc"),
        file_size=text("1"),
    )

    assert list(refusal(read_attach_form, form, TargetPick(), release_id="REL-1")) == [
        EditField.SHA256
    ]
