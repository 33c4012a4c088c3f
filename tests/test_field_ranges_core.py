"""The planned years (2000–2999) for dates and moments people pick, in the core models."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.errors import ValidationFailed
from core.models.common import parse
from core.models.release import Release, ReleaseDraft
from core.services.gates import MilestoneChange, MilestoneDraft
from core.services.runbooks import TaskChange

RANGE = "Pick a date and time between 2000-01-01 and 2999-12-31"
DAY_RANGE = "Pick a date between 2000-01-01 and 2999-12-31"


@pytest.mark.parametrize(
    "value",
    [
        253402214400,  # 9999-12-31: pydantic alone reads it as milliseconds, 1978-01-12
        "253402214400",
        32503680000,  # 3000-01-01
        946684799,  # 1999-12-31 23:59:59
        0,
        -1,
        10**20,
        -(10**20),
        1e300,
        "1" * 5000,
        datetime(9999, 12, 31, 23, 59),
        "9999-12-31T23:00:00-05:00",  # no UTC for it: overflows
        "0001-01-01T00:00:00+05:00",
        datetime(1999, 12, 31, 23, 59, tzinfo=UTC),
        datetime(3000, 1, 1, tzinfo=UTC),
    ],
    ids=repr,
)
@pytest.mark.parametrize("field", ["start_date", "end_date"])
def test_moments_outside_the_planned_years_are_refused(value: object, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse(MilestoneChange, {field: value})

    assert caught.value.fields == {field: RANGE}


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")], ids=repr)
def test_moments_that_are_no_number_are_refused(value: float) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse(TaskChange, {"scheduled_start": value})

    assert caught.value.fields == {"scheduled_start": "Pick a date and time"}


@pytest.mark.parametrize(
    ("value", "moment"),
    [
        (946684800, datetime(2000, 1, 1, tzinfo=UTC)),
        ("1767225600", datetime(2026, 1, 1, tzinfo=UTC)),
        (32503679999, datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)),  # seconds, not ms
        ("2026-01-01T05:30:00+05:30", datetime(2026, 1, 1, tzinfo=UTC)),
    ],
    ids=repr,
)
def test_numbers_are_seconds_and_moments_are_utc(value: object, moment: datetime) -> None:
    assert parse(TaskChange, {"scheduled_end": value}).scheduled_end == moment


def test_a_new_milestone_is_checked_too() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse(
            MilestoneDraft,
            {
                "milestone_key": "m",
                "milestone_name": "M",
                "environment": "dev",
                "start_date": 253402214400,
                "end_date": 1767225600,
            },
        )

    assert caught.value.fields == {"start_date": RANGE}


@pytest.mark.parametrize("day", ["1999-12-31", "3000-01-01", "9999-12-31", "0001-01-01"])
def test_release_dates_outside_the_planned_years_are_refused(day: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse(ReleaseDraft, {"release_id": "REL-1", "release_name": "R", "release_date": day})

    assert caught.value.fields == {"release_date": DAY_RANGE}


def test_a_release_stored_before_the_check_stays_readable() -> None:
    stored = Release.model_validate(
        {
            "release_id": "REL-OLD",
            "release_name": "Old",
            "release_date": date(9999, 12, 31),
            "created_by": "u1",
            "created_at": datetime(2026, 1, 1, tzinfo=UTC),
        }
    )

    assert stored.release_date == date(9999, 12, 31)
