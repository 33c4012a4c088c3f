"""Refuse before the form, not after it (issue 8): a command that opens a form checks the
person's permission — by the core's rule for what the form saves — and, for a release's
form, that they can see the release; a refusal is an ephemeral answer at once and no modal
opens, so nobody fills in a whole form to be refused on Save."""

from __future__ import annotations

import pytest

from blocks.ids import ActionId
from bot.devtools.harness import LocalBot, local_bot
from storage.engine import Database
from storage.instrumented import RoundTrips
from tests.bot.modal_support import introduce, open_form, snapshot
from tests.bot.test_admin import answer

REL = "REL-2026.12"  # a payments release: dana can see it

# Each form command, and what dana (Squad Member: no flags) is told she would need.
FORMS = [
    ("new", "'can_create_release' permission to create a release"),
    (f"gate {REL}", "'can_manage_quality_gates' permission to add a quality gate"),
    (f"milestone {REL}", "'can_manage_quality_gates' permission to add a milestone"),
    (f"runbook {REL}", "'can_manage_runbooks' permission to add a runbook"),
    (f"task {REL}", "'can_manage_runbooks' permission to update a runbook task"),
    (f"change {REL}", "'can_manage_runbooks' permission to manage the change ticket"),
    (f"attach {REL}", "'can_upload_attachments' permission to attach a file"),
    ("admin role new", "'can_manage_roles' permission to create a role"),
    ("admin user new", "'can_invite_users' permission to add a user"),
    ("admin apps new", "'can_manage_roles' permission to add an application to the catalog"),
    ("admin squad new", "'can_manage_roles' permission to add a squad to the catalog"),
    ("admin boards new", "'can_manage_roles' permission to add a Jira board to the catalog"),
]


@pytest.mark.parametrize(("command", "needed"), FORMS)
async def test_dana_is_refused_before_any_form_opens(
    bot: LocalBot, command: str, needed: str
) -> None:
    await introduce(bot, "UDANA")
    before = await snapshot(bot)

    refused = await answer(bot, "UDANA", command)

    assert refused.params["response_type"] == "ephemeral"
    assert needed in refused.params["text"]
    assert bot.slack.of("views.open") == []  # no form, not even "Loading…"
    assert await snapshot(bot) == before


async def test_the_product_form_names_both_ways_it_could_be_saved(bot: LocalBot) -> None:
    refused = await answer(bot, "UDANA", f"product {REL}")

    text = refused.params["text"]
    assert "'can_create_release' permission to add a product to a release" in text
    assert "'can_define_fixed_versions' permission to define a fixed version" in text
    assert bot.slack.of("views.open") == []


async def test_an_approval_manager_opens_the_gate_form_to_waive_but_not_the_milestone_form(
    bot: LocalBot,
) -> None:
    """The gate form saves a waiver too (is_approval_manager): arjun may open it."""
    view = await open_form(bot, "UARJUN", f"gate {REL}")
    assert "submit" in view

    refused = await answer(bot, "UARJUN", f"milestone {REL}")

    assert "can_manage_quality_gates" in refused.params["text"]
    assert len(bot.slack.of("views.open")) == 1  # the gate form only


async def test_the_stale_new_release_button_on_home_shows_the_refusal_not_the_form(
    bot: LocalBot,
) -> None:
    """Home has no place for an ephemeral answer: the refusal is a small modal, at once."""
    reply = await bot.driver.click(
        "UDANA", ActionId.OPEN_NEW_RELEASE, "new", container={"type": "view", "view_id": "VHOME"}
    )
    assert reply.status == 200

    [opened] = await bot.slack.wait_for("views.open")
    view = opened.params["view"]
    assert "submit" not in view  # nothing to fill in
    assert "permission to create a release" in str(view["blocks"])
    assert bot.slack.of("views.update") == []


async def test_the_check_reads_no_release_when_refused_and_one_when_the_form_opens(
    db: Database,
) -> None:
    trips = RoundTrips()
    async with local_bot(db=trips.wrap(db)) as bot:
        await introduce(bot, "UDANA")
        await introduce(bot, "URHEA")

        trips.reset()
        await answer(bot, "UDANA", f"gate {REL}")
        refused_reads = trips.calls["releases.find_one"]

        trips.reset()
        await open_form(bot, "URHEA", f"gate {REL}")
        form_reads = trips.calls["releases.find_one"]

    assert refused_reads == 0  # the permission is known from the request: no read
    assert form_reads == 1  # read once before the modal opens, and used to fill it
