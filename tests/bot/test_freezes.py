"""`/release freeze new | list | end` and freezes shown with `status`, end to end: signed
requests in, Web API calls to the recording fake Slack. The demo personas' Slack zones: rhea
Asia/Kolkata, arjun America/New_York, dana Europe/Berlin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from blocks.text import EveryReader, when
from bot.devtools.harness import LocalBot
from core.models.freeze import FreezeDraft, FreezeScope
from tests.bot.modal_support import date, multi, open_form, select, snapshot, submit, text
from tests.bot.test_home import home_of
from tests.bot.test_reading import actor, answer, mrkdwn, shown

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
REL = "REL-2026.12"


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [b for b in view["blocks"] if b.get("block_id") == block_id]
    return found[0]


async def plan(bot: LocalBot, name: str, start: datetime, end: datetime) -> None:
    """A freeze planned by rhea through the service (for tests about showing one)."""
    rhea = await actor(bot, "rhea")
    draft = FreezeDraft(name=name, starts_at=start, ends_at=end, time_zone="Europe/Berlin")
    await bot.runtime.deps.services.freezes.create(rhea, draft)


async def test_a_release_manager_plans_a_freeze_in_the_form(bot: LocalBot) -> None:
    view = await open_form(bot, "URHEA", "freeze new")
    zone = block(view, "time_zone")["element"]["initial_option"]["value"]
    assert zone == "Asia/Kolkata"  # rhea's own zone, to begin with
    next_year = datetime.now(UTC).year + 1
    answered = len(bot.slack.of("response_url"))

    reply = await submit(
        bot,
        "URHEA",
        view,
        name=text("Holiday freeze"),
        starts_at=date(f"{next_year}-12-24"),
        starts_at_time=select("18:00"),
        ends_at=date(f"{next_year}-12-27"),
        ends_at_time=select("08:30"),
        time_zone=select("Europe/Berlin"),
        squad_ids=multi("payments"),
    )

    assert reply is None  # the modal closes
    [stored] = await bot.runtime.db["freezes"].find({}).to_list(length=None)
    start = datetime(next_year, 12, 24, 18, 0, tzinfo=BERLIN)
    end = datetime(next_year, 12, 27, 8, 30, tzinfo=BERLIN)
    assert stored["starts_at"].replace(tzinfo=UTC) == start.astimezone(UTC)
    assert stored["ends_at"].replace(tzinfo=UTC) == end.astimezone(UTC)
    assert (stored["name"], stored["time_zone"]) == ("Holiday freeze", "Europe/Berlin")
    assert stored["scope"] == {"application_ids": [], "squad_ids": ["payments"]}
    [*_, confirmed] = await bot.slack.wait_for("response_url", answered + 1)
    said = shown(confirmed)
    assert "Freeze window planned" in said
    assert f"starts {when(start, KOLKATA)}" in said  # on rhea's clock
    assert f"Planned in Berlin time: {when(start, BERLIN, zone=False)}" in said


async def test_a_freeze_ending_before_it_starts_is_a_field_error(bot: LocalBot) -> None:
    view = await open_form(bot, "URHEA", "freeze new")
    next_year = datetime.now(UTC).year + 1
    before = await snapshot(bot)

    reply = await submit(
        bot,
        "URHEA",
        view,
        name=text("Backwards"),
        starts_at=date(f"{next_year}-12-24"),
        starts_at_time=select("18:00"),
        ends_at=date(f"{next_year}-12-24"),
        ends_at_time=select("09:00"),
        time_zone=select("Europe/Berlin"),
    )

    assert reply["errors"] == {"ends_at": "The freeze must end after it starts; pick a later end"}
    assert await bot.runtime.db["freezes"].count_documents({}) == 0
    assert await snapshot(bot) == before


async def test_a_squad_member_is_refused_before_the_form_opens(bot: LocalBot) -> None:
    opened = len(bot.slack.of("views.open"))

    refused = await answer(bot, "UDANA", "freeze new")

    assert "'can_create_release' permission to plan or end freeze windows" in shown(refused)
    assert len(bot.slack.of("views.open")) == opened
    assert await bot.runtime.db["freezes"].count_documents({}) == 0


async def test_the_freeze_list_is_on_the_readers_clock(bot: LocalBot) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    on_until = now + timedelta(days=2)
    soon = now + timedelta(days=5)
    await plan(bot, "Holiday freeze", now - timedelta(hours=1), on_until)
    await plan(bot, "Quarter close", soon, soon + timedelta(days=1))

    listed = shown(await answer(bot, "UARJUN", "freeze list"))

    assert f"*Holiday freeze* — now, until {when(on_until, NEW_YORK)}" in listed
    assert f"*Quarter close* — starts {when(soon, NEW_YORK)}" in listed
    assert listed.index("Holiday freeze") < listed.index("Quarter close")


async def test_ending_a_freeze_by_name(bot: LocalBot) -> None:
    now = datetime.now(UTC)
    await plan(bot, "Holiday freeze", now - timedelta(hours=1), now + timedelta(days=2))

    ended = shown(await answer(bot, "URHEA", 'freeze end "holiday freeze"'))
    again = shown(await answer(bot, "URHEA", "freeze end Holiday freeze"))

    assert "The freeze *Holiday freeze* is ended" in ended
    [stored] = await bot.runtime.db["freezes"].find({}).to_list(length=None)
    assert stored["ended_by"] == (await actor(bot, "rhea")).user_id
    assert "No open freeze named 'Holiday freeze'. `/release freeze list` shows" in again


async def test_status_shows_the_freezes_of_the_release(bot: LocalBot) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    until = now + timedelta(days=2)
    await plan(bot, "Holiday freeze", now - timedelta(hours=1), until)
    rhea = await actor(bot, "rhea")
    elsewhere = FreezeDraft(
        name="Other squads",
        starts_at=now,
        ends_at=until,
        time_zone="UTC",
        scope=FreezeScope(squad_ids=["nobody-here"]),
    )
    await bot.runtime.deps.services.freezes.create(rhea, elsewhere)

    status = shown(await answer(bot, "UDANA", f"status {REL}"))

    assert f"*Holiday freeze* — now, until {when(until, EveryReader(BERLIN))}" in status
    assert "Other squads" not in status


async def test_app_home_lists_the_freezes_on_and_to_come(bot: LocalBot) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    until = now + timedelta(days=2)
    soon = now + timedelta(days=3)
    far = now + timedelta(days=60)  # beyond the horizon
    await plan(bot, "Holiday freeze", now - timedelta(hours=1), until)
    await plan(bot, "Quarter close", soon, soon + timedelta(days=1))
    await plan(bot, "Next summer", far, far + timedelta(days=1))

    home = "\n".join(mrkdwn((await home_of(bot, "UARJUN")).params))

    assert f"*Holiday freeze* — now, until {when(until, NEW_YORK)} · everything" in home
    assert f"*Quarter close* — starts {when(soon, NEW_YORK)}" in home
    assert "Next summer" not in home


async def test_the_digest_shows_the_freezes_on_and_to_come(bot: LocalBot) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    until = now + timedelta(days=2)
    await plan(bot, "Holiday freeze", now - timedelta(hours=1), until)

    await bot.driver.command("URHEA", "digest now", channel_id="CREL")

    [posted] = await bot.slack.wait_for("response_url")
    assert posted.params["response_type"] == "in_channel"
    digest = shown(posted)
    assert f"*Holiday freeze* — now, until {when(until, EveryReader(KOLKATA))}" in digest
