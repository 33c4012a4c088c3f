"""`/release gate` and `/release milestone`: gates, waivers, milestones and their approvals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.devtools.harness import LocalBot
from core.models.release import ApprovalStatus, GateStatus, MilestoneStatus
from core.services.gates import GateDraft
from tests.bot.modal_support import (
    confirmation,
    events,
    introduce,
    moment,
    open_form,
    option_value_in,
    person,
    release,
    select,
    snapshot,
    submit,
    text,
)

REL = "REL-2026.12"


async def gate_form(bot: LocalBot, user: str) -> dict[str, Any]:
    return await open_form(bot, user, f"gate {REL}")


def existing_gate(view: dict[str, Any], product: str, gate: str) -> str:
    return option_value_in(view, "gate", product, gate)


async def test_release_manager_adds_an_optional_gate_with_an_owner(bot: LocalBot) -> None:
    view = await gate_form(bot, "URHEA")
    new_gate = option_value_in(view, "gate", "checkout-web", "New gate")

    answer = await submit(
        bot,
        "URHEA",
        view,
        gate=select(new_gate),
        gate_name=text("Accessibility audit"),
        description=text("WCAG 2.2 AA"),
        order=text("30"),
        required=select("false"),
        owner_id=person("URHEA"),
    )

    assert answer is None
    stored = (await release(bot, REL)).product("checkout-web").gate("Accessibility audit")
    rhea = await bot.runtime.repos.users.get_by_username("rhea")
    assert (stored.required, stored.order, stored.owner_id) == (False, 30, rhea.id)
    assert stored.gate_status is GateStatus.NOT_STARTED
    [latest, *_] = await events(bot, REL)
    assert (latest.action, latest.target.gate_name) == ("gate.added", "Accessibility audit")
    assert "Accessibility audit" in (await confirmation(bot))["text"]


async def test_duplicate_gate_name_is_a_field_error(bot: LocalBot) -> None:
    view = await gate_form(bot, "URHEA")
    before = await snapshot(bot)

    answer = await submit(
        bot,
        "URHEA",
        view,
        gate=select(option_value_in(view, "gate", "payments-api", "New gate")),
        gate_name=text("security SCAN"),
    )

    assert "already has a gate named" in answer["errors"]["gate_name"]
    assert await snapshot(bot) == before


async def test_a_new_gate_needs_a_name_and_takes_no_status(bot: LocalBot) -> None:
    view = await gate_form(bot, "URHEA")
    new_gate = option_value_in(view, "gate", "payments-api", "New gate")

    nameless = await submit(bot, "URHEA", view, gate=select(new_gate))
    with_status = await submit(
        bot,
        "URHEA",
        view,
        gate=select(new_gate),
        gate_name=text("DAST"),
        gate_status=select("PASSED"),
    )

    assert nameless["errors"] == {"gate_name": "Required"}
    assert "existing gate" in with_status["errors"]["gate_status"]


async def test_squad_member_may_not_add_a_gate(bot: LocalBot) -> None:
    # dana is refused before any form opens (tests/bot/test_forms_refused_early.py); a form
    # someone else opened, submitted by her, is refused by the core all the same.
    view = await gate_form(bot, "URHEA")
    await introduce(bot, "UDANA")
    before = await snapshot(bot)

    answer = await submit(
        bot,
        "UDANA",
        view,
        gate=select(option_value_in(view, "gate", "payments-api", "New gate")),
        gate_name=text("Pen test"),
    )

    assert "can_manage_quality_gates" in answer["errors"]["gate"]
    assert await snapshot(bot) == before


async def test_waiving_without_a_comment_is_a_field_error(bot: LocalBot) -> None:
    view = await gate_form(bot, "UARJUN")
    before = await snapshot(bot)

    answer = await submit(
        bot,
        "UARJUN",
        view,
        gate=select(existing_gate(view, "checkout-web", "Performance test")),
        gate_status=select("WAIVED"),
    )

    assert answer["errors"] == {"comment": "A waiver needs a comment"}
    assert await snapshot(bot) == before


async def test_release_manager_may_not_waive_a_gate(bot: LocalBot) -> None:
    view = await gate_form(bot, "URHEA")
    before = await snapshot(bot)

    answer = await submit(
        bot,
        "URHEA",
        view,
        gate=select(existing_gate(view, "checkout-web", "Performance test")),
        gate_status=select("WAIVED"),
        comment=text("Load test postponed to January"),
    )

    assert "only by an approval manager" in answer["errors"]["gate_status"]
    assert await snapshot(bot) == before


async def test_approval_manager_waives_a_gate_with_a_comment(bot: LocalBot) -> None:
    view = await gate_form(bot, "UARJUN")

    answer = await submit(
        bot,
        "UARJUN",
        view,
        gate=select(existing_gate(view, "checkout-web", "Performance test")),
        gate_status=select("WAIVED"),
        comment=text("Load test postponed to January <!channel>"),
    )

    assert answer is None
    gate = (await release(bot, REL)).product("checkout-web").gate("Performance test")
    assert (gate.gate_status, gate.comment) == (
        GateStatus.WAIVED,
        "Load test postponed to January <!channel>",
    )
    [waived, *_] = await events(bot, REL)
    assert (waived.action, waived.actor.username) == ("gate.waived", "arjun")
    assert waived.comment == "Load test postponed to January <!channel>"
    posted = await confirmation(bot)
    assert posted["user"] == "UARJUN"
    assert "&lt;!channel&gt;" in str(posted["blocks"]) and "<!channel>" not in str(posted["blocks"])


async def test_a_gate_status_change_by_the_release_manager(bot: LocalBot) -> None:
    view = await gate_form(bot, "URHEA")

    await submit(
        bot,
        "URHEA",
        view,
        gate=select(existing_gate(view, "payments-ledger", "Regression suite")),
        gate_status=select("PASSED"),
        comment=text("All 412 tests green"),
    )

    gate = (await release(bot, REL)).product("payments-ledger").gate("Regression suite")
    assert (gate.gate_status, gate.comment) == (GateStatus.PASSED, "All 412 tests green")
    assert "passed" in (await confirmation(bot))["text"]


# --- milestones -----------------------------------------------------------------------------


async def milestone_form(bot: LocalBot, user: str) -> dict[str, Any]:
    return await open_form(bot, user, f"milestone {REL}")


async def test_a_milestone_needing_sign_off_asks_every_approval_manager(bot: LocalBot) -> None:
    ledger = (await release(bot, REL)).product("payments-ledger").gate("Regression suite")
    start = ledger.milestones[-1].end_date + timedelta(days=1)
    view = await milestone_form(bot, "URHEA")

    answer = await submit(
        bot,
        "URHEA",
        view,
        milestone=select(option_value_in(view, "milestone", "Regression suite", "New milestone")),
        milestone_key=text("ledger-prod-check"),
        milestone_name=text("Ledger check on prod"),
        environment=select("prod"),
        start_date=moment(start),
        end_date=moment(start + timedelta(hours=4)),
        approval=select("manager"),
    )

    assert answer is None
    gate = (await release(bot, REL)).product("payments-ledger").gate("Regression suite")
    added = gate.milestone("ledger-prod-check")
    assert added.start_date == start.replace(microsecond=0)
    assert added.approval.status is ApprovalStatus.PENDING
    assert added.approval.requires_approval_manager
    dms = await bot.slack.wait_for("chat.postMessage", 2)
    assert sorted(c.params["channel"] for c in dms) == ["UADMIN", "UARJUN"]
    assert all("Ledger check on prod" in str(c.params["blocks"]) for c in dms)
    assert "Approval pending" in str((await confirmation(bot))["blocks"])
    [latest, *_] = await events(bot, REL)
    assert (latest.action, latest.target.milestone_key) == ("milestone.added", "ledger-prod-check")


async def test_an_overlapping_milestone_is_refused_naming_the_other(bot: LocalBot) -> None:
    uat = (
        (await release(bot, REL))
        .product("payments-api")
        .gate("UAT sign-off")
        .milestone("uat-signoff")
    )
    view = await milestone_form(bot, "URHEA")
    before = await snapshot(bot)

    answer = await submit(
        bot,
        "URHEA",
        view,
        milestone=select(option_value_in(view, "milestone", "UAT sign-off", "New milestone")),
        milestone_key=text("uat-rerun"),
        milestone_name=text("UAT re-run"),
        environment=select("uat"),
        start_date=moment(uat.start_date + timedelta(hours=2)),
        end_date=moment(uat.end_date),
    )

    # The other milestone, its times on rhea's own clock (Asia/Kolkata, UTC+05:30).
    starts = uat.start_date.astimezone(ZoneInfo("Asia/Kolkata"))
    said = answer["errors"]["start_date"]
    assert said.startswith(f"Overlaps {uat.milestone_name} ({starts:%a %d %b %H:%M} → ")
    assert said.endswith("(Kolkata time)) in gate UAT sign-off")
    assert await snapshot(bot) == before
    assert bot.slack.of("chat.postMessage") == []


async def test_a_milestone_ending_before_it_starts_is_a_field_error(bot: LocalBot) -> None:
    view = await milestone_form(bot, "URHEA")
    stage = (
        (await release(bot, REL))
        .product("payments-api")
        .gate("UAT sign-off")
        .milestone("stage-signoff")
    )

    answer = await submit(
        bot,
        "URHEA",
        view,
        milestone=select(option_value_in(view, "milestone", "UAT sign-off", "stage-signoff")),
        end_date=moment(stage.start_date - timedelta(days=1)),
    )

    assert answer["errors"] == {"end_date": "The end must not precede the start"}


async def test_a_new_milestone_lists_every_missing_field(bot: LocalBot) -> None:
    view = await milestone_form(bot, "URHEA")

    answer = await submit(
        bot,
        "URHEA",
        view,
        milestone=select(option_value_in(view, "milestone", "Security scan", "New milestone")),
    )

    assert answer["errors"] == dict.fromkeys(
        ["milestone_key", "milestone_name", "environment", "start_date", "end_date"], "Required"
    )


async def test_an_existing_milestone_is_updated_with_what_was_filled_in(bot: LocalBot) -> None:
    view = await milestone_form(bot, "URHEA")

    answer = await submit(
        bot,
        "URHEA",
        view,
        milestone=select(option_value_in(view, "milestone", "Performance test", "perf-stage")),
        milestone_name=text("Load test on stage (k6)"),
        status=select("IN_PROGRESS"),
    )

    assert answer is None
    milestone = (
        (await release(bot, REL))
        .product("checkout-web")
        .gate("Performance test")
        .milestone("perf-stage")
    )
    assert (milestone.milestone_name, milestone.status) == (
        "Load test on stage (k6)",
        MilestoneStatus.IN_PROGRESS,
    )
    assert milestone.approval.status is ApprovalStatus.NOT_REQUIRED
    [latest, *_] = await events(bot, REL)
    assert latest.action == "milestone.updated"
    assert latest.after == {"milestone_name": "Load test on stage (k6)", "status": "IN_PROGRESS"}


async def test_only_an_approval_manager_lowers_a_sign_off(bot: LocalBot) -> None:
    view = await milestone_form(bot, "URHEA")
    before = await snapshot(bot)

    answer = await submit(
        bot,
        "URHEA",
        view,
        milestone=select(option_value_in(view, "milestone", "UAT sign-off", "uat-signoff")),
        approval=select("none"),
    )

    assert "only an approval manager" in answer["errors"]["approval"]
    assert await snapshot(bot) == before


async def test_squad_member_may_not_add_a_milestone(bot: LocalBot) -> None:
    # dana is refused before any form opens (tests/bot/test_forms_refused_early.py); a form
    # someone else opened, submitted by her, is refused by the core all the same.
    view = await milestone_form(bot, "URHEA")
    await introduce(bot, "UDANA")
    before = await snapshot(bot)

    answer = await submit(
        bot,
        "UDANA",
        view,
        milestone=select(option_value_in(view, "milestone", "Performance test", "perf-stage")),
        status=select("DONE"),
    )

    assert "can_manage_quality_gates" in answer["errors"]["milestone"]
    assert await snapshot(bot) == before


async def test_a_gate_whose_name_outgrows_an_option_value_is_still_found(bot: LocalBot) -> None:
    long_name = "Regulatory evidence review, card schemes and central bank " + "x" * 80
    services = bot.runtime.deps.services
    admin = await services.identity.actor_for(
        await bot.runtime.repos.users.get_by_username("admin")
    )
    await services.gates.add_gate(admin, REL, "payments-api", GateDraft(gate_name=long_name))
    view = await gate_form(bot, "UARJUN")
    value = existing_gate(view, "payments-api", "Regulatory evidence")
    assert value.startswith("#")  # too long for Slack's 150 characters: a digest

    await submit(
        bot,
        "UARJUN",
        view,
        gate=select(value),
        gate_status=select("WAIVED"),
        comment=text("Not required for this release"),
    )

    gate = (await release(bot, REL)).product("payments-api").gate(long_name)
    assert gate.gate_status is GateStatus.WAIVED
