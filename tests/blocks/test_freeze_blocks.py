"""The freeze form's reader and what people read of freezes — pure, without Slack or storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from blocks.freezes import freeze_line, frozen_text
from blocks.modals.form_state import Form
from blocks.modals.freeze import FreezeFormOrigin, freeze_modal, read_freeze_form
from blocks.text import EveryReader, when
from core.errors import ValidationFailed
from core.models.freeze import FreezeScope, FreezeWindow
from core.rules.freeze import Frozen
from tests.support import T0

State = dict[str, Any]
TOKYO = ZoneInfo("Asia/Tokyo")


def submitted(**values: State) -> Form:
    return Form({"state": {"values": {block: {block: s} for block, s in values.items()}}})


def picked(value: str) -> State:
    return {"selected_option": {"value": value}}


def window(**changes: Any) -> FreezeWindow:
    made = FreezeWindow(
        name="Holiday <!channel>",
        starts_at=T0,
        ends_at=T0 + timedelta(days=2),
        time_zone="Europe/Berlin",
        scope=FreezeScope(application_ids=["pay"]),
        created_by="u1",
        created_at=T0,
    )
    return made.model_copy(update=changes)


def test_the_start_and_end_are_read_in_the_zone_picked() -> None:
    draft = read_freeze_form(
        submitted(
            name={"value": " Holiday freeze "},
            starts_at={"selected_date": "2026-12-24"},
            starts_at_time=picked("18:00"),
            ends_at={"selected_date": "2026-12-27"},
            time_zone=picked("Asia/Tokyo"),
            application_ids={"selected_options": [{"value": "pay"}]},
        )
    )

    assert draft.name == "Holiday freeze"
    assert draft.starts_at == datetime(2026, 12, 24, 9, 0, tzinfo=UTC)  # 18:00 in Tokyo
    assert draft.ends_at == datetime(2026, 12, 26, 15, 0, tzinfo=UTC)  # midnight, no time
    assert draft.scope == FreezeScope(application_ids=["pay"])


@pytest.mark.parametrize(
    ("values", "field", "said"),
    [
        ({"starts_at_time": picked("25:00")}, "starts_at_time", "Pick a time"),
        ({"time_zone": picked("Mars/Olympus")}, "time_zone", "unknown time zone 'Mars/Olympus'"),
        ({"ends_at": {"selected_date": "2026-02-30"}}, "ends_at", "There is no 2026-02-30"),
    ],
)
def test_a_bad_value_is_refused_under_its_field(
    values: dict[str, State], field: str, said: str
) -> None:
    given: dict[str, State] = {
        "name": {"value": "Freeze"},
        "starts_at": {"selected_date": "2026-02-01"},
        "ends_at": {"selected_date": "2026-02-03"},
        "time_zone": picked("UTC"),
        **values,
    }

    with pytest.raises(ValidationFailed) as refused:
        read_freeze_form(submitted(**given))

    assert said in refused.value.fields[field]


def test_the_form_offers_the_persons_zone_first_and_fits_slacks_limits() -> None:
    view = freeze_modal(FreezeFormOrigin(channel_id="C1"), ZoneInfo("Asia/Kathmandu"), [], [])

    shown = view.to_dict()  # slack_sdk checks Slack's limits here
    [zone] = [b for b in shown["blocks"] if b["block_id"] == "time_zone"]
    assert zone["element"]["initial_option"]["value"] == "Asia/Kathmandu"
    assert len(shown["title"]["text"]) <= 24


def test_a_line_is_escaped_and_on_the_readers_clock() -> None:
    line = freeze_line(window(), T0 + timedelta(hours=1), TOKYO, with_scope=True)

    assert line == (
        f"❄ *Holiday &lt;!channel&gt;* — now, until {when(T0 + timedelta(days=2), TOKYO)}"
        " · applications `pay`"
    )


def test_a_window_ended_early_shows_its_real_end_and_a_refusal_its_end_for_each_reader() -> None:
    ended = window(ended_at=T0 + timedelta(hours=5))
    readers = EveryReader(TOKYO)

    text = frozen_text(Frozen(ended), readers)

    assert f"until {when(T0 + timedelta(hours=5), readers)}" in text
    assert "&lt;!channel&gt;" in text
