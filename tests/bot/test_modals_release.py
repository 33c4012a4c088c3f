"""`/release new` and `/release product`: modal opened, submitted, stored, confirmed."""

from __future__ import annotations

import pytest

from blocks.ids import CallbackId
from blocks.metadata import METADATA_LIMIT
from bot.commands import editing
from bot.devtools.harness import LocalBot
from core.errors import NotFound
from core.models.release import FixedVersionStatus
from tests.bot.modal_support import (
    confirmation,
    date,
    events,
    group_texts,
    introduce,
    multi,
    open_form,
    option_value,
    option_value_in,
    release,
    select,
    snapshot,
    submit,
    text,
)

NEW_RELEASE = {
    "release_id": text("REL-2027.02"),
    "release_name": text("February checkout release"),
    "release_date": date("2027-02-12"),
    "release_type": select("major"),
    "squad_ids": multi("checkout"),
    "scope_application_ids": multi("checkout"),
    "description": text("One-click reorder."),
}


async def test_release_manager_creates_a_release(bot: LocalBot) -> None:
    view = await open_form(bot, "URHEA", "new")

    [opened] = bot.slack.of("views.open")  # at once, before the catalog is read
    assert (
        "Loading" in str(opened.params["view"]["blocks"]) and "submit" not in opened.params["view"]
    )
    assert view["callback_id"] == CallbackId.NEW_RELEASE
    assert len(view["private_metadata"]) <= METADATA_LIMIT
    [squads] = [b["element"]["options"] for b in view["blocks"] if b.get("block_id") == "squad_ids"]
    assert [o["value"] for o in squads] == [
        "checkout",
        "payments",
        "platform",
    ]  # loaded from the catalog

    assert await submit(bot, "URHEA", view, **NEW_RELEASE) is None  # closes the modal

    stored = await release(bot, "REL-2027.02")
    assert (stored.release_name, str(stored.release_date)) == (
        "February checkout release",
        "2027-02-12",
    )
    assert (stored.release_type, stored.squad_ids) == ("major", ["checkout"])
    assert stored.scope_application_ids == ["checkout"]
    [created] = await events(bot, "REL-2027.02")
    assert created.action == "release.created" and created.actor.username == "rhea"
    posted = await confirmation(bot)
    assert (posted["channel"], posted["user"]) == ("C0RELEASE", "URHEA")
    assert "REL-2027.02" in posted["text"] and "created" in posted["text"]


async def test_duplicate_release_id_is_a_field_error_and_nothing_is_stored(bot: LocalBot) -> None:
    view = await open_form(bot, "URHEA", "new")
    before = await snapshot(bot)

    answer = await submit(bot, "URHEA", view, **{**NEW_RELEASE, "release_id": text("REL-2026.12")})

    assert answer["response_action"] == "errors"
    assert "REL-2026.12" in answer["errors"]["release_id"]
    assert "already exists" in answer["errors"]["release_id"]
    assert await snapshot(bot) == before
    assert bot.slack.of("chat.postEphemeral") == []


async def test_malformed_input_is_answered_per_field(bot: LocalBot) -> None:
    view = await open_form(bot, "URHEA", "new")

    answer = await submit(
        bot,
        "URHEA",
        view,
        release_id=text("REL 2027 02"),
        release_name=text("Spaces in the id"),
        release_date=date("2027-02-30"),
    )

    errors = answer["errors"]
    assert "letters, digits" in errors["release_id"]
    assert errors["release_date"] == "There is no 2027-02-30: February 2027 has 28 days"
    assert "release_name" not in errors
    try:
        await release(bot, "REL 2027 02")
    except NotFound:
        pass
    else:  # pragma: no cover
        raise AssertionError("a release with a malformed id was stored")


async def test_squad_member_may_not_create_a_release(bot: LocalBot) -> None:
    # dana is refused before any form opens (tests/bot/test_forms_refused_early.py); a form
    # someone else opened, submitted by her, is refused by the core all the same.
    view = await open_form(bot, "URHEA", "new")
    await introduce(bot, "UDANA")
    before = await snapshot(bot)

    answer = await submit(bot, "UDANA", view, **NEW_RELEASE)

    assert "can_create_release" in answer["errors"]["release_id"]
    assert await snapshot(bot) == before


async def test_a_product_is_added_from_the_catalog(bot: LocalBot) -> None:
    view = await open_form(bot, "URHEA", "product REL-2027.01")
    product = option_value_in(view, "product", "Add from Payments", "Fraud Scoring")

    assert await submit(bot, "URHEA", view, product=select(product)) is None

    stored = await release(bot, "REL-2027.01")
    added = stored.product("payments-fraud")
    assert (added.product_name, added.participating_squad_ids) == ("Fraud Scoring", ["payments"])
    assert "payments" in stored.scope_application_ids
    assert (await events(bot, "REL-2027.01"))[0].action == "product.added"
    assert "Fraud Scoring" in (await confirmation(bot))["text"]


async def test_products_already_in_the_release_are_offered_for_their_fixed_version(
    bot: LocalBot,
) -> None:
    view = await open_form(bot, "URHEA", "product REL-2027.01")
    offered = option_value_in(view, "product", "In REL-2027.01", "Auth Service")
    assert "Auth Service (identity-auth)" not in group_texts(view, "product", "Add from Identity")

    assert (
        await submit(
            bot,
            "URHEA",
            view,
            product=select(offered),
            version_key=text("identity-auth-4.1.0"),
            version_name=text("Auth Service 4.1.0"),
            version_status=select("RELEASED"),
        )
        is None
    )

    fixed = (await release(bot, "REL-2027.01")).product("identity-auth").fixed_version
    assert fixed is not None
    assert (fixed.version_key, fixed.status) == ("identity-auth-4.1.0", FixedVersionStatus.RELEASED)
    assert (await events(bot, "REL-2027.01"))[0].action == "product.fixed_version"


async def test_fixed_version_without_a_key_is_a_field_error(bot: LocalBot) -> None:
    view = await open_form(bot, "URHEA", "product REL-2027.01")
    offered = option_value(view, "product", "Profile Service")
    before = await snapshot(bot)

    answer = await submit(bot, "URHEA", view, product=select(offered))

    assert answer["errors"] == {"version_key": "Required", "version_name": "Required"}
    assert await snapshot(bot) == before


async def test_squad_member_may_not_add_a_product(bot: LocalBot) -> None:
    # dana is refused before any form opens (tests/bot/test_forms_refused_early.py); a form
    # someone else opened, submitted by her, is refused by the core all the same.
    view = await open_form(bot, "URHEA", "product REL-2026.12")
    await introduce(bot, "UDANA")
    product = option_value(view, "product", "Fraud Scoring")
    before = await snapshot(bot)

    answer = await submit(bot, "UDANA", view, product=select(product))

    assert "permission" in answer["errors"]["product"]
    assert await snapshot(bot) == before


async def test_unknown_release_is_refused_before_the_form(bot: LocalBot) -> None:
    await bot.driver.command("URHEA", "gate REL-1999.01")

    [answer] = await bot.slack.wait_for("response_url")
    assert answer.params["response_type"] == "ephemeral"
    assert "No release 'REL-1999.01'" in answer.params["text"]
    assert bot.slack.of("views.open") == []


async def test_with_slow_storage_the_form_opens_in_time_and_tells_an_unknown_release(
    bot: LocalBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The release read before the form gives up before the trigger_id would expire."""
    monkeypatch.setattr(editing, "PRECHECK_SECONDS", 0)

    view = await open_form(bot, "URHEA", "gate REL-1999.01")

    assert "submit" not in view
    assert "No release" in str(view["blocks"]) and "REL-1999.01" in str(view["blocks"])
    assert bot.slack.of("response_url") == []


async def test_missing_release_argument_gets_usage_and_no_modal(bot: LocalBot) -> None:
    await bot.driver.command("URHEA", "milestone")

    [answer] = await bot.slack.wait_for("response_url")
    assert "/release milestone &lt;release&gt;" in answer.params["text"]
    assert bot.slack.of("views.open") == []


async def test_confirmation_falls_back_to_a_dm_when_the_channel_refuses(bot: LocalBot) -> None:
    view = await open_form(bot, "URHEA", "new")
    bot.slack.fail("chat.postEphemeral", status=404, retry_after=None)

    assert await submit(bot, "URHEA", view, **NEW_RELEASE) is None

    [dm] = await bot.slack.wait_for("chat.postMessage")
    assert dm.params["channel"] == "URHEA"  # a user id: the app's DM with rhea
    assert "REL-2027.02" in dm.params["text"]


async def test_a_release_date_in_the_past_is_kept_only_when_confirmed(bot: LocalBot) -> None:
    """A release's date cannot be changed later: a past one is asked about under the date,
    and pressing Create again with the same date keeps it."""
    view = await open_form(bot, "URHEA", "new")
    past = {**NEW_RELEASE, "release_date": date("2026-11-20")}  # the demo's today: 2026-12-01+

    asked = await submit(bot, "URHEA", view, **past)
    with pytest.raises(NotFound):  # nothing stored yet
        await release(bot, "REL-2027.02")
    kept = await submit(bot, "URHEA", view, **past)

    assert asked["response_action"] == "errors"
    assert asked["errors"] == {
        "release_date": "Fri 20 Nov 2026 is in the past. Check it (it cannot be changed later), "
        "or press Create again to keep it"
    }
    assert kept is None  # the modal closes: created
    assert str((await release(bot, "REL-2027.02")).release_date) == "2026-11-20"
