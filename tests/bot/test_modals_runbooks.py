"""`/release runbook`, `task`, `change` and `attach`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.devtools.harness import LocalBot
from core.models.release import ChangeStatus, CTaskStatus, TaskStatus
from tests.bot.modal_support import (
    checked,
    confirmation,
    events,
    introduce,
    moment,
    open_form,
    option_value,
    option_value_in,
    release,
    select,
    snapshot,
    submit,
    text,
)

REL = "REL-2026.12"
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def initial(view: dict[str, Any], block_id: str) -> str | None:
    [block] = [b for b in view["blocks"] if b.get("block_id") == block_id]
    value: str | None = block["element"].get("initial_value")
    return value


# --- runbook ------------------------------------------------------------------------------


async def test_a_runbook_is_added_with_tasks_given_as_lines(bot: LocalBot) -> None:
    view = await open_form(bot, "URHEA", f"runbook {REL}")

    answer = await submit(
        bot,
        "URHEA",
        view,
        runbook_name=text("Checkout rollback"),
        description=text("If the new summary page misbehaves."),
        tasks=text(
            "Scale down checkout-web | rhea | 10m\n\nRestore previous image |  | 1h30m\nSmoke test"
        ),
    )

    assert answer is None
    runbook = (await release(bot, REL)).runbook("Checkout rollback")
    rhea = await bot.runtime.repos.users.get_by_username("rhea")
    assert [(t.task_name, t.owner_id, t.duration_minutes) for t in runbook.tasks] == [
        ("Scale down checkout-web", rhea.id, 10),
        ("Restore previous image", None, 90),
        ("Smoke test", None, None),
    ]
    [latest, *_] = await events(bot, REL)
    assert (latest.action, latest.after) == (
        "runbook.added",
        {"runbook_name": "Checkout rollback", "tasks": 3},
    )
    assert "3 tasks" in (await confirmation(bot))["text"]


async def test_task_lines_with_an_unknown_owner_or_duration_are_field_errors(
    bot: LocalBot,
) -> None:
    view = await open_form(bot, "URHEA", f"runbook {REL}")
    before = await snapshot(bot)

    unknown_owner = await submit(
        bot, "URHEA", view, runbook_name=text("Rollback"), tasks=text("Restore | bob")
    )
    bad_duration = await submit(
        bot, "URHEA", view, runbook_name=text("Rollback"), tasks=text("A\nB | rhea | soon")
    )
    duplicate = await submit(bot, "URHEA", view, runbook_name=text("payments CUTOVER"))

    assert "No releasebot user 'bob'" in unknown_owner["errors"]["tasks"]
    assert bad_duration["errors"]["tasks"].startswith("Line 2: 'soon' is not a duration")
    assert "already has a runbook" in duplicate["errors"]["runbook_name"]
    assert await snapshot(bot) == before


async def test_squad_member_may_not_add_a_runbook(bot: LocalBot) -> None:
    # dana is refused before any form opens (tests/bot/test_forms_refused_early.py); a form
    # someone else opened, submitted by her, is refused by the core all the same.
    view = await open_form(bot, "URHEA", f"runbook {REL}")
    await introduce(bot, "UDANA")
    before = await snapshot(bot)

    answer = await submit(bot, "UDANA", view, runbook_name=text("Dana's runbook"))

    assert "can_manage_runbooks" in answer["errors"]["runbook_name"]
    assert await snapshot(bot) == before


# --- task ---------------------------------------------------------------------------------


async def test_a_task_gets_its_status_and_schedule(bot: LocalBot) -> None:
    view = await open_form(bot, "URHEA", f"task {REL}")
    start = datetime(2026, 12, 15, 6, 0, tzinfo=UTC)

    answer = await submit(
        bot,
        "URHEA",
        view,
        task=select(option_value(view, "task", "Freeze ledger writes")),
        status=select("DOING"),
        scheduled_start=moment(start),
        scheduled_end=moment(start + timedelta(minutes=20)),
        duration_minutes=text("20m"),
    )

    assert answer is None
    task = (await release(bot, REL)).runbook("Payments cutover").task("Freeze ledger writes")
    assert (task.status, task.scheduled_start, task.duration_minutes) == (
        TaskStatus.DOING,
        start,
        20,
    )
    [latest, *_] = await events(bot, REL)
    assert (latest.action, latest.target.task_name) == ("task.updated", "Freeze ledger writes")
    assert "doing" in (await confirmation(bot))["text"]


async def test_task_errors_are_answered_next_to_the_field(bot: LocalBot) -> None:
    view = await open_form(bot, "URHEA", f"task {REL}")
    task = select(option_value(view, "task", "Unfreeze ledger writes"))
    start = datetime(2026, 12, 15, 8, 0, tzinfo=UTC)
    before = await snapshot(bot)

    backwards = await submit(
        bot,
        "URHEA",
        view,
        task=task,
        scheduled_start=moment(start),
        scheduled_end=moment(start - timedelta(hours=1)),
    )
    nothing = await submit(bot, "URHEA", view, task=task)
    bad_duration = await submit(bot, "URHEA", view, task=task, duration_minutes=text("a while"))

    assert backwards["errors"] == {"scheduled_end": "The end must not precede the start"}
    assert nothing["errors"] == {"status": "Fill in what should change"}
    assert "not a duration" in bad_duration["errors"]["duration_minutes"]
    assert await snapshot(bot) == before


async def test_task_modal_without_runbooks_says_how_to_add_one(bot: LocalBot) -> None:
    view = await open_form(bot, "URHEA", "task REL-2027.01")

    assert "submit" not in view
    assert "/release runbook REL-2027.01" in str(view["blocks"])


# --- change ticket ------------------------------------------------------------------------


async def test_the_change_ticket_is_updated_keeping_what_the_form_does_not_show(
    bot: LocalBot,
) -> None:
    view = await open_form(bot, "URHEA", f"change {REL}")
    lines = initial(view, "ctasks")
    assert lines == (
        "CHG0031245-T1 | Deploy to production | TODO\n"
        "CHG0031245-T2 | Post-deploy verification | WAITING"
    )
    assert initial(view, "change_id") == "CHG0031245"
    old = (await release(bot, REL)).chg
    assert old is not None

    answer = await submit(
        bot,
        "URHEA",
        view,
        change_id=text("CHG0031245"),
        change_type=select("NORMAL"),
        status=select("SCHEDULED"),
        affected_ci=text("payments-api, checkout-web"),
        bp_signoff=checked("signed_off"),
        ctasks=text(
            "CHG0031245-T1 | Deploy to production | done\n"
            "CHG0031245-T2 | Post-deploy verification | WAITING\n"
            "CHG0031245-T3 | Tell support | TODO"
        ),
    )

    assert answer is None
    chg = (await release(bot, REL)).chg
    assert chg is not None
    assert (chg.status, chg.bp_signoff, chg.affected_ci) == (
        ChangeStatus.SCHEDULED,
        True,
        ["payments-api", "checkout-web"],
    )
    t1, t2, t3 = chg.ctasks
    assert t1.status is CTaskStatus.DONE
    assert (t1.assignee_id, t1.start_time) == (old.ctasks[0].assignee_id, old.ctasks[0].start_time)
    assert t2.dependency_ctask_ids == ["CHG0031245-T1"]
    assert (t3.ctask_id, t3.description, t3.status) == (
        "CHG0031245-T3",
        "Tell support",
        CTaskStatus.TODO,
    )
    [latest, *_] = await events(bot, REL)
    assert latest.action == "change.updated"
    assert "3 CTASKs" in (await confirmation(bot))["text"]


async def test_change_errors_are_answered_next_to_the_field(bot: LocalBot) -> None:
    view = await open_form(bot, "URHEA", f"change {REL}")
    before = await snapshot(bot)
    base = {"change_type": select("NORMAL"), "status": select("NEW")}

    bad_status = await submit(
        bot,
        "URHEA",
        view,
        change_id=text("CHG0031245"),
        ctasks=text("T1 | Deploy | TODO\nT2 | Verify | LATER"),
        **base,
    )
    other_change = await submit(bot, "URHEA", view, change_id=text("CHG0099999"), **base)

    assert bad_status["errors"]["ctasks"].startswith("Line 2: unknown status 'LATER'")
    assert "CHG0031245" in other_change["errors"]["change_id"]
    assert await snapshot(bot) == before


async def test_a_release_without_a_change_ticket_gets_one(bot: LocalBot) -> None:
    view = await open_form(bot, "URHEA", "change REL-2027.01")
    assert initial(view, "change_id") is None

    await submit(
        bot,
        "URHEA",
        view,
        change_id=text("CHG0040001"),
        change_type=select("STANDARD"),
        status=select("NEW"),
        ctasks=text("CHG0040001-T1 | Enable passkeys"),
    )

    chg = (await release(bot, "REL-2027.01")).chg
    assert chg is not None and [c.ctask_id for c in chg.ctasks] == ["CHG0040001-T1"]
    assert (await events(bot, "REL-2027.01"))[0].action == "change.created"


STALE = "The release changed since you opened this form; close it and open it again"
CTASKS = (
    "CHG0031245-T1 | Deploy to production | {}\nCHG0031245-T2 | Post-deploy verification | WAITING"
)
CHANGE = {
    "change_id": text("CHG0031245"),
    "change_type": select("NORMAL"),
    "status": select("AUTHORIZE"),
}


async def test_the_change_form_carries_the_release_version_it_was_opened_on(
    bot: LocalBot,
) -> None:
    view = await open_form(bot, "URHEA", f"change {REL}")

    assert json.loads(view["private_metadata"])["version"] == (await release(bot, REL)).version


async def test_a_change_form_opened_before_someone_else_saved_is_refused(bot: LocalBot) -> None:
    rheas = await open_form(bot, "URHEA", f"change {REL}")
    admins = await open_form(bot, "UADMIN", f"change {REL}")
    assert initial(rheas, "ctasks") == CTASKS.format("TODO")

    # The admin marks the deployment done while rhea's form is still open.
    assert await submit(bot, "UADMIN", admins, ctasks=text(CTASKS.format("DONE")), **CHANGE) is None
    await confirmation(bot)
    before = await snapshot(bot)

    stale = await submit(
        bot, "URHEA", rheas, ctasks=text(CTASKS.format("TODO")), affected_ci=text("x"), **CHANGE
    )

    assert stale == {"response_action": "errors", "errors": {"change_id": STALE}}
    assert await snapshot(bot) == before
    chg = (await release(bot, REL)).chg
    assert chg is not None and chg.ctasks[0].status is CTaskStatus.DONE

    # Opened again, the form shows the admin's change, and saving it keeps what it does not show.
    again = await open_form(bot, "URHEA", f"change {REL}")
    assert initial(again, "ctasks") == CTASKS.format("DONE")
    lines = CTASKS.format("DONE") + "\nCHG0031245-T3 | Tell support"
    assert await submit(bot, "URHEA", again, ctasks=text(lines), **CHANGE) is None

    saved = (await release(bot, REL)).chg
    assert saved is not None
    assert [(c.ctask_id, c.status) for c in saved.ctasks] == [
        ("CHG0031245-T1", CTaskStatus.DONE),
        ("CHG0031245-T2", CTaskStatus.WAITING),
        ("CHG0031245-T3", CTaskStatus.TODO),
    ]
    assert saved.ctasks[1].dependency_ctask_ids == ["CHG0031245-T1"]
    assert (saved.ctasks[0].assignee_id, saved.ctasks[0].start_time) == (
        chg.ctasks[0].assignee_id,
        chg.ctasks[0].start_time,
    )
    assert "3 CTASKs" in (await confirmation(bot, 2))["text"]


# --- attachments --------------------------------------------------------------------------


def attachment_values(target: str, **changes: str) -> dict[str, Any]:
    values = {
        "file_name": "uat-report.pdf",
        "file_url": "https://artifacts.example.com/uat-report.pdf",
        "sha256": SHA,
        "file_size": "482133",
        "file_type": "application/pdf",
        "label": "UAT evidence",
        "tags": "uat, evidence",
        **changes,
    }
    return {"target": select(target), **{k: text(v) for k, v in values.items()}}


async def test_a_file_is_attached_to_a_gate(bot: LocalBot) -> None:
    view = await open_form(bot, "URHEA", f"attach {REL}")
    target = option_value_in(view, "target", "payments-api", "Gate UAT sign-off")

    assert await submit(bot, "URHEA", view, **attachment_values(target)) is None

    attachment = await bot.runtime.repos.attachments.find_by_sha256(SHA)
    assert attachment is not None
    assert (attachment.file_size, attachment.tags) == (482133, ["uat", "evidence"])
    [link] = attachment.links
    assert (link.product_id, link.gate_name) == ("payments-api", "UAT sign-off")
    gate = (await release(bot, REL)).product("payments-api").gate("UAT sign-off")
    assert [r.label for r in gate.attachment_refs] == ["UAT evidence"]
    [latest, *_] = await events(bot, REL)
    assert latest.action == "attachment.linked"
    assert "uat-report.pdf" in (await confirmation(bot))["text"]


async def test_the_same_file_attached_twice_is_registered_once(bot: LocalBot) -> None:
    view = await open_form(bot, "URHEA", f"attach {REL}")
    milestone = option_value_in(view, "target", "payments-api", "UAT sign-off / uat-signoff")
    whole = option_value(view, "target", "The release itself")

    await submit(bot, "URHEA", view, **attachment_values(milestone))
    await submit(bot, "URHEA", view, **attachment_values(whole, label=""))

    assert await bot.runtime.db["attachments"].count_documents({}) == 1
    stored = await release(bot, REL)
    assert [r.label for r in stored.attachment_refs] == ["uat-report.pdf"]
    uat = stored.product("payments-api").gate("UAT sign-off").milestone("uat-signoff")
    assert [r.label for r in uat.attachment_refs] == ["UAT evidence"]


async def test_bad_checksum_url_and_size_are_field_errors(bot: LocalBot) -> None:
    view = await open_form(bot, "URHEA", f"attach {REL}")
    before = await snapshot(bot)

    answer = await submit(
        bot,
        "URHEA",
        view,
        **attachment_values(
            option_value(view, "target", "The release itself"),
            sha256="abc123",
            file_url="ftp://files.example.com/report.pdf",
            file_size="12 MB",
        ),
    )

    assert answer["errors"] == {
        "sha256": "Enter the 64 hexadecimal characters of the SHA-256",
        "file_url": "Enter a web address starting with https:// or http://",
        "file_size": "Enter a whole number",
    }
    assert await snapshot(bot) == before


async def test_squad_member_may_not_attach_a_file(bot: LocalBot) -> None:
    # dana is refused before any form opens (tests/bot/test_forms_refused_early.py); a form
    # someone else opened, submitted by her, is refused by the core all the same.
    view = await open_form(bot, "URHEA", f"attach {REL}")
    await introduce(bot, "UDANA")
    before = await snapshot(bot)

    answer = await submit(
        bot, "UDANA", view, **attachment_values(option_value(view, "target", "The release itself"))
    )

    assert "can_upload_attachments" in answer["errors"]["target"]
    assert await snapshot(bot) == before
