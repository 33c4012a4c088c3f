"""Out-of-range and malformed values in every field a person types or picks, through the
signed HTTP path: each gets the validation message on its own field (modals) or the
ephemeral usage message (commands), never "something went wrong", and nothing is stored.

The value lists are a corpus of hostile input: datetimepicker seconds, datepicker dates,
numbers typed into text inputs, durations and HH:MM times.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.devtools.harness import LocalBot
from core.models.schedule import DigestSubscription
from tests.bot.modal_support import (
    State,
    date,
    moment,
    open_form,
    option_value,
    option_value_in,
    select,
    snapshot,
    submit,
    text,
)

REL = "REL-2026.12"
SHA = "9f" * 32
WENT_WRONG = "went wrong"

PICK_MOMENT = "Pick a date and time"
MOMENT_RANGE = "Pick a date and time between 2000-01-01 and 2999-12-31"
PICK_DAY = "Pick a date"
DAY_RANGE = "Pick a date between 2000-01-01 and 2999-12-31"
WHOLE = "Enter a whole number"
LONGER = "is longer than 30 days (43200 minutes)"
NOT_DURATION = "is not a duration (45, 45m, 1h, 1h30m)"
NOT_TIME = "is not a time; use HH:MM from 00:00 to 23:59, e.g. 09:00."

# --- the corpus ---------------------------------------------------------------------------

# A datetimepicker's ``selected_date_time`` (Slack sends whole seconds since the epoch).
MOMENTS: list[tuple[object, str]] = [
    (253402214400, MOMENT_RANGE),  # 9999-12-31 00:00 UTC: was stored as 1978-01-12
    (253402300799, MOMENT_RANGE),  # 9999-12-31 23:59:59
    (32503680000, MOMENT_RANGE),  # 3000-01-01
    (946684799, MOMENT_RANGE),  # 1999-12-31 23:59:59
    (0, MOMENT_RANGE),
    (-1, MOMENT_RANGE),
    (-62135596800, MOMENT_RANGE),  # 0001-01-01
    (99999999999999999999, MOMENT_RANGE),
    (2**63, MOMENT_RANGE),
    (-(2**63), MOMENT_RANGE),
    (1e300, MOMENT_RANGE),
    ("253402214400", MOMENT_RANGE),
    ("99999999999999999999", MOMENT_RANGE),
    (float("nan"), PICK_MOMENT),
    (float("inf"), PICK_MOMENT),
    (float("-inf"), PICK_MOMENT),
    ("NaN", PICK_MOMENT),
    ("inf", PICK_MOMENT),
    ("-0.5", PICK_MOMENT),
    ("1e309", PICK_MOMENT),
    ("1" * 5000, PICK_MOMENT),
    ("", PICK_MOMENT),
    ("tomorrow", PICK_MOMENT),
    ("2026-12-01T09:00:00Z", PICK_MOMENT),
    (1767225600.5, PICK_MOMENT),
    (True, PICK_MOMENT),
    ([1767225600], PICK_MOMENT),
    ({"seconds": 1767225600}, PICK_MOMENT),
]

# A datepicker's ``selected_date`` (Slack sends YYYY-MM-DD).
# What a payload of a shape Slack never sends gets: 400 before any form code runs.
MALFORMED = "400: malformed Slack payload"
DAYS: list[tuple[object, str]] = [
    ("9999-12-31", DAY_RANGE),
    ("3000-01-01", DAY_RANGE),
    ("1999-12-31", DAY_RANGE),
    ("1970-01-01", DAY_RANGE),
    ("0001-01-01", DAY_RANGE),
    ("2026-02-30", "There is no 2026-02-30: February 2026 has 28 days"),
    ("2026-13-01", PICK_DAY),
    ("2026-00-10", PICK_DAY),
    ("0000-00-00", PICK_DAY),
    ("99999-01-01", PICK_DAY),
    ("-2026-01-01", PICK_DAY),
    ("2026-1-1", PICK_DAY),
    ("2026/01/01", PICK_DAY),
    (" 2026-01-01", PICK_DAY),
    ("2026-01-01T00:00", PICK_DAY),
    ("２０２６-01-01", PICK_DAY),
    ("1767225600", PICK_DAY),  # would be read as a unix time: 2026-01-01
    ("253402214400", PICK_DAY),
    ("NaN", PICK_DAY),
    ("inf", PICK_DAY),
    # Not Slack's shape for a datepicker (it sends a string): refused before any form code.
    (20261201, MALFORMED),
    (0, MALFORMED),
    (float("nan"), MALFORMED),
    (float("inf"), MALFORMED),
    (["2026-12-01"], MALFORMED),
]

# What a number typed into a text input may be, with the words said under the field;
# ``{max}`` is the field's largest value.
NUMBERS: list[tuple[str, str]] = [
    ("1e309", WHOLE),
    ("1e3", WHOLE),
    ("NaN", WHOLE),
    ("nan", WHOLE),
    ("inf", WHOLE),
    ("-inf", WHOLE),
    ("Infinity", WHOLE),
    ("12.5", WHOLE),
    ("0x10", WHOLE),
    ("１２", WHOLE),
    ("٣", WHOLE),
    ("twelve", WHOLE),
    ("1" * 5000, "Enter a whole number with fewer digits"),
    ("-1", "Input should be greater than or equal to 0"),
    ("-99999999999999999999", "Input should be greater than or equal to 0"),
    ("99999999999999999999", "Input should be less than or equal to {max}"),
    ("18446744073709551616", "Input should be less than or equal to {max}"),
]

DURATIONS: list[tuple[str, str]] = [
    ("99999999999999999999", LONGER),
    ("43201", LONGER),
    ("721h", LONGER),
    ("720h1m", LONGER),
    ("1h 99999999999m", LONGER),
    ("1" * 5000, LONGER),
    ("1e309", NOT_DURATION),
    ("NaN", NOT_DURATION),
    ("inf", NOT_DURATION),
    ("-0", NOT_DURATION),
    ("-5", NOT_DURATION),
    ("1.5h", NOT_DURATION),
    ("²", NOT_DURATION),  # a digit to str.isdigit(), not to int()
    ("٤٥", NOT_DURATION),
    ("1d", NOT_DURATION),
]

TIMES = [
    "99999999999999999999:00",
    "09:99999999999999999999",
    "25:99",
    "24:00",
    "23:60",
    "-1:00",
    "-0:00",
    "+9:00",
    "1_0:00",
    "٠٩:٠٠",
    "９:00",
    "9:5",
    "9:00:00",
    "9",
    "0900",
    "NaN:00",
    "inf:00",
    "1e309:00",
    "9.5:00",
    ":",
]


def picked(value: object) -> State:
    return {"type": "datetimepicker", "selected_date_time": value}


def picked_day(value: object) -> State:
    return {"type": "datepicker", "selected_date": value}


def hostile_id(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 30 else shown[:27] + "..."


async def refused(
    bot: LocalBot, user: str, view: dict[str, Any], **values: State
) -> dict[str, str]:
    """Submit; assert nothing stored changed and the modal stays open with field errors.
    A payload of a shape Slack never sends is answered 400 instead: ``{"*": MALFORMED}``."""
    before = await snapshot(bot)
    state = {block: {block: s} for block, s in values.items()}
    reply = await bot.driver.submit(user, view, state)
    if reply.status == 400:
        assert reply.text == "malformed Slack payload"
        assert await snapshot(bot) == before
        return {"*": MALFORMED}
    assert reply.status == 200
    answer = reply.json()
    assert answer is not None, "the modal closed: the value was saved"
    assert answer["response_action"] == "errors"
    errors: dict[str, str] = answer["errors"]
    assert not any(WENT_WRONG in message for message in errors.values()), errors
    assert await snapshot(bot) == before
    return errors


START = datetime(2026, 12, 20, 9, 0, tzinfo=UTC)

# --- milestones (datetimepickers) ----------------------------------------------------------


@pytest.mark.parametrize("field", ["start_date", "end_date"])
@pytest.mark.parametrize(("value", "said"), MOMENTS, ids=[hostile_id(v) for v, _ in MOMENTS])
async def test_a_new_milestone_refuses_a_moment_out_of_range(
    bot: LocalBot, field: str, value: object, said: str
) -> None:
    view = await open_form(bot, "URHEA", f"milestone {REL}")
    other = "end_date" if field == "start_date" else "start_date"

    errors = await refused(
        bot,
        "URHEA",
        view,
        milestone=select(option_value_in(view, "milestone", "Security scan", "New milestone")),
        milestone_key=text("pentest"),
        milestone_name=text("Pen test"),
        environment=select("stage"),
        **{field: picked(value), other: moment(START)},
    )

    assert errors == {field: said}


@pytest.mark.parametrize(
    ("value", "said"),
    [(253402214400, MOMENT_RANGE), (-1, MOMENT_RANGE), (float("nan"), PICK_MOMENT)],
    ids=hostile_id,
)
async def test_an_existing_milestone_refuses_a_moment_out_of_range(
    bot: LocalBot, value: object, said: str
) -> None:
    view = await open_form(bot, "URHEA", f"milestone {REL}")

    errors = await refused(
        bot,
        "URHEA",
        view,
        milestone=select(option_value_in(view, "milestone", "Performance test", "perf-stage")),
        end_date=picked(value),
    )

    assert errors == {"end_date": said}


async def test_the_last_planned_moment_is_taken(bot: LocalBot) -> None:
    view = await open_form(bot, "URHEA", f"milestone {REL}")
    last = datetime(2999, 12, 31, 23, 0, tzinfo=UTC)

    answer = await submit(
        bot,
        "URHEA",
        view,
        milestone=select(option_value_in(view, "milestone", "Security scan", "New milestone")),
        milestone_key=text("far-future"),
        milestone_name=text("Far future"),
        environment=select("stage"),
        start_date=moment(last - timedelta(hours=1)),
        end_date=moment(last),
    )

    assert answer is None
    stored = await bot.runtime.repos.releases.get(REL)
    milestone = stored.product("payments-api").gate("Security scan").milestone("far-future")
    assert milestone.end_date == last  # as picked, not read as milliseconds


# --- runbook tasks (datetimepickers, durations) --------------------------------------------


@pytest.mark.parametrize("field", ["scheduled_start", "scheduled_end"])
@pytest.mark.parametrize(("value", "said"), MOMENTS, ids=[hostile_id(v) for v, _ in MOMENTS])
async def test_a_task_refuses_a_schedule_out_of_range(
    bot: LocalBot, field: str, value: object, said: str
) -> None:
    view = await open_form(bot, "URHEA", f"task {REL}")

    errors = await refused(
        bot,
        "URHEA",
        view,
        task=select(option_value(view, "task", "Freeze ledger writes")),
        **{field: picked(value)},
    )

    assert errors == {field: said}


@pytest.mark.parametrize(("value", "said"), DURATIONS, ids=[hostile_id(v) for v, _ in DURATIONS])
async def test_a_task_refuses_a_duration_out_of_range(bot: LocalBot, value: str, said: str) -> None:
    view = await open_form(bot, "URHEA", f"task {REL}")

    errors = await refused(
        bot,
        "URHEA",
        view,
        task=select(option_value(view, "task", "Freeze ledger writes")),
        duration_minutes=text(value),
    )

    assert list(errors) == ["duration_minutes"]
    assert errors["duration_minutes"].endswith(said)


@pytest.mark.parametrize(("value", "said"), DURATIONS, ids=[hostile_id(v) for v, _ in DURATIONS])
async def test_a_runbook_refuses_a_task_line_duration_out_of_range(
    bot: LocalBot, value: str, said: str
) -> None:
    view = await open_form(bot, "URHEA", f"runbook {REL}")

    errors = await refused(
        bot,
        "URHEA",
        view,
        runbook_name=text("Rollback"),
        tasks=text(f"Restore | rhea | 10m\nVerify | | {value}"),
    )

    assert list(errors) == ["tasks"]
    assert errors["tasks"].startswith("Line 2: '") and errors["tasks"].endswith(said)


# --- releases (datepicker) -----------------------------------------------------------------


@pytest.mark.parametrize(("value", "said"), DAYS, ids=[hostile_id(v) for v, _ in DAYS])
async def test_a_new_release_refuses_a_date_out_of_range(
    bot: LocalBot, value: object, said: str
) -> None:
    view = await open_form(bot, "URHEA", "new")

    errors = await refused(
        bot,
        "URHEA",
        view,
        release_id=text("REL-2099.01"),
        release_name=text("Far out"),
        release_date=picked_day(value),
    )

    assert errors == ({"*": said} if said == MALFORMED else {"release_date": said})


@pytest.mark.parametrize("day", ["2000-01-01", "2999-12-31"])
async def test_a_release_may_be_dated_at_either_end_of_the_range(bot: LocalBot, day: str) -> None:
    view = await open_form(bot, "URHEA", "new")
    fields = {
        "release_id": text("REL-EDGE"),
        "release_name": text("Edge"),
        "release_date": date(day),
    }

    answer = await submit(bot, "URHEA", view, **fields)
    if day < "2026-12-01":  # a date in the past is kept once confirmed: Create again
        assert "is in the past" in answer["errors"]["release_date"]
        answer = await submit(bot, "URHEA", view, **fields)

    assert answer is None
    assert (await bot.runtime.repos.releases.get("REL-EDGE")).release_date.isoformat() == day


# --- numbers typed into text inputs --------------------------------------------------------


@pytest.mark.parametrize(("value", "said"), NUMBERS, ids=[hostile_id(v) for v, _ in NUMBERS])
async def test_a_gate_order_out_of_range_is_refused(bot: LocalBot, value: str, said: str) -> None:
    view = await open_form(bot, "URHEA", f"gate {REL}")

    errors = await refused(
        bot,
        "URHEA",
        view,
        gate=select(option_value_in(view, "gate", "payments-api", "New gate")),
        gate_name=text("Chaos drill"),
        order=text(value),
    )

    assert errors == {"order": said.format(max=10000)}


@pytest.mark.parametrize(("value", "said"), NUMBERS, ids=[hostile_id(v) for v, _ in NUMBERS])
async def test_a_file_size_out_of_range_is_refused(bot: LocalBot, value: str, said: str) -> None:
    view = await open_form(bot, "URHEA", f"attach {REL}")
    values = {
        "file_name": "uat-report.pdf",
        "file_url": "https://artifacts.example.com/uat-report.pdf",
        "sha256": SHA,
        "file_size": value,
        "file_type": "application/pdf",
    }

    errors = await refused(
        bot,
        "URHEA",
        view,
        target=select(option_value(view, "target", "The release itself")),
        **{name: text(v) for name, v in values.items()},
    )

    assert errors == {"file_size": said.format(max=5 * 1024**3)}


@pytest.mark.parametrize("value", ["-0", "+0", "0"])
async def test_minus_zero_is_the_gate_order_zero(bot: LocalBot, value: str) -> None:
    view = await open_form(bot, "URHEA", f"gate {REL}")

    answer = await submit(
        bot,
        "URHEA",
        view,
        gate=select(option_value_in(view, "gate", "payments-api", "New gate")),
        gate_name=text("Chaos drill"),
        order=text(value),
    )

    assert answer is None
    stored = await bot.runtime.repos.releases.get(REL)
    assert stored.product("payments-api").gate("Chaos drill").order == 0


# --- picks and payloads of another shape ---------------------------------------------------


ENVIRONMENTS = "Input should be 'dev', 'uat', 'stage' or 'prod'"
PICKS: list[tuple[str, object, str]] = [
    ("environment", select("9999"), ENVIRONMENTS),
    ("environment", select("NaN"), ENVIRONMENTS),
    ("environment", select("1e309"), ENVIRONMENTS),
    ("status", select("inf"), "Input should be 'NOT_STARTED', 'IN_PROGRESS', 'BLOCKED' or 'DONE'"),
    ("approval", select("99999999999999999999"), "Pick one of the options"),
    # Not Slack's shape for a select: refused before any form code.
    ("environment", {"type": "static_select", "selected_option": "stage"}, MALFORMED),
    ("environment", {"type": "static_select", "selected_option": 99999999999}, MALFORMED),
    ("environment", "stage", MALFORMED),
]


@pytest.mark.parametrize(("field", "value", "said"), PICKS, ids=hostile_id)
async def test_picks_outside_the_options_are_refused(
    bot: LocalBot, field: str, value: object, said: str
) -> None:
    view = await open_form(bot, "URHEA", f"milestone {REL}")
    fields: dict[str, Any] = {
        "milestone": select(option_value_in(view, "milestone", "Security scan", "New milestone")),
        "milestone_key": text("pentest"),
        "milestone_name": text("Pen test"),
        "environment": select("stage"),
        "start_date": moment(START),
        "end_date": moment(START + timedelta(hours=1)),
        field: value,
    }

    errors = await refused(bot, "URHEA", view, **fields)

    assert errors == ({"*": said} if said == MALFORMED else {field: said})


# --- commands: HH:MM and time zones --------------------------------------------------------


async def said_to(bot: LocalBot, user: str, command: str) -> str:
    """Type a command; the ephemeral answer's text."""
    count = len(bot.slack.of("response_url"))
    reply = await bot.driver.command(user, command)
    assert reply.status == 200
    answer = (await bot.slack.wait_for("response_url", count + 1))[count]
    assert answer.params.get("response_type", "ephemeral") == "ephemeral"
    return str(answer.params.get("text"))


async def subscriptions(bot: LocalBot) -> list[dict[str, Any]]:
    db = bot.runtime.db
    return await db["digest_subscriptions"].find({}).sort("_id", 1).to_list(length=None)


@pytest.mark.parametrize("value", TIMES, ids=hostile_id)
@pytest.mark.parametrize(
    "command", ["digest subscribe {} UTC", "digest subscribe {}", "digest me {}"]
)
async def test_a_digest_time_out_of_range_gets_the_usage(
    bot: LocalBot, command: str, value: str
) -> None:
    await said_to(bot, "URHEA", "whoami")  # first contact links rhea's Slack identity
    before = (await snapshot(bot), await subscriptions(bot))

    said = await said_to(bot, "URHEA", command.format(value))

    assert NOT_TIME in said and WENT_WRONG not in said
    assert said.startswith(":warning: '") and "VALIDATION_ERROR" not in said
    assert (await snapshot(bot), await subscriptions(bot)) == before


@pytest.mark.parametrize(
    "zone",
    [
        "NaN",
        "99999999999999999999",
        "UTC+99999999999999999999",
        "../../etc/passwd",
        "zone.tab",
        "Europe/",
        "/etc/localtime",
        "a" * 300,
    ],
    ids=hostile_id,
)
async def test_an_unknown_digest_time_zone_gets_the_usage(bot: LocalBot, zone: str) -> None:
    before = await subscriptions(bot)

    said = await said_to(bot, "URHEA", f"digest subscribe 09:00 {zone}")

    assert said.startswith(":warning: ") and WENT_WRONG not in said
    assert "VALIDATION_ERROR" not in said and "time zone" in said
    assert await subscriptions(bot) == before


@pytest.mark.parametrize(
    ("value", "shown"), [("9:05", "09:05"), ("23:59", "23:59"), ("00:00", "00:00")]
)
async def test_a_digest_time_in_range_is_kept_as_typed(
    bot: LocalBot, value: str, shown: str
) -> None:
    said = await said_to(bot, "URHEA", f"digest me {value}")

    assert f"*{shown}*" in said
    rhea = await bot.runtime.repos.users.get_by_username("rhea")
    mine = await bot.runtime.repos.subscriptions.find(DigestSubscription.person_target(rhea.id))
    assert mine is not None and f"{mine.at:%H:%M}" == shown
