"""`/release freeze new`: plan a freeze window, and the form's reader (state in, draft out).

The start and end are a day and a time of day read in the time zone picked (by default the
person's own): "24 Dec 18:00 Berlin" is what people plan, whatever zone their Slack is in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter, ValidationError
from slack_sdk.models.blocks import Block, Option
from slack_sdk.models.views import View

from blocks.ids import CallbackId, FreezeField
from blocks.metadata import Metadata
from blocks.modals.form import (
    application_options,
    date_input,
    modal,
    multi_select_input,
    option,
    select_input,
    squad_options,
    text_input,
)
from blocks.modals.form_state import Form, present
from core.errors import ValidationFailed
from core.models.catalog import Application, Squad
from core.models.common import NAME_MAX, PlannedDate, parse
from core.models.freeze import FreezeDraft
from core.models.schedule import known_zone

TITLE = "New freeze window"
_DAY: TypeAdapter[date] = TypeAdapter(PlannedDate)
_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
TIME_STEP_MINUTES = 30
# Offered besides the person's own zone (and UTC): where release teams commonly sit.
COMMON_ZONES = (
    "UTC",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Amsterdam",
    "Europe/Madrid",
    "Europe/Warsaw",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
)


class FreezeFormOrigin(Metadata):
    """Where `/release freeze new` was typed, to confirm there once saved."""

    channel_id: str | None = None
    response_url: str | None = None


def time_options() -> list[Option]:
    """The times of day a start or end may take, every half hour."""
    return [
        option(f"{minutes // 60:02d}:{minutes % 60:02d}", f"{minutes // 60:02d}:{minutes % 60:02d}")
        for minutes in range(0, 24 * 60, TIME_STEP_MINUTES)
    ]


def zone_options(own: str) -> list[Option]:
    """The person's zone first, then the common ones."""
    zones = dict.fromkeys([own, *COMMON_ZONES])
    return [option(z, z.replace("_", " ")) for z in zones]


def freeze_modal(
    origin: FreezeFormOrigin,
    tz: ZoneInfo,
    applications: Sequence[Application],
    squads: Sequence[Squad],
) -> View:
    """``tz``: the person's zone, picked to begin with."""
    times = time_options()
    zones = zone_options(tz.key)
    blocks: list[Block] = [
        text_input(FreezeField.NAME, "Name", placeholder="Holiday freeze", max_length=NAME_MAX),
        date_input(FreezeField.START_DATE, "Starts on"),
        select_input(FreezeField.START_TIME, "Starts at", options=times, initial=times[0]),
        date_input(FreezeField.END_DATE, "Ends on"),
        select_input(FreezeField.END_TIME, "Ends at", options=times, initial=times[0]),
        select_input(
            FreezeField.TIME_ZONE,
            "Time zone",
            options=zones,
            initial=zones[0],
            hint="The start and end are read in this zone.",
        ),
    ]
    if applications:
        blocks.append(
            multi_select_input(
                FreezeField.APPLICATIONS,
                "Applications frozen",
                application_options(applications),
                hint="Leave applications and squads empty to freeze everything.",
            )
        )
    if squads:
        blocks.append(
            multi_select_input(
                FreezeField.SQUADS,
                "Squads frozen",
                squad_options(squads),
                hint="Their releases and the products they work on are frozen.",
            )
        )
    return modal(TITLE, CallbackId.NEW_FREEZE, blocks, origin, submit="Plan freeze")


def read_freeze_form(form: Form) -> FreezeDraft:
    zone_name = form.choice(FreezeField.TIME_ZONE)
    # An unknown zone is reported on its own field; the moments are read in UTC meanwhile.
    zone = ZoneInfo(known_zone(zone_name) or "UTC")
    return parse(
        FreezeDraft,
        present(
            {
                "name": form.text(FreezeField.NAME),
                "starts_at": _moment(form, FreezeField.START_DATE, FreezeField.START_TIME, zone),
                "ends_at": _moment(form, FreezeField.END_DATE, FreezeField.END_TIME, zone),
                "time_zone": zone_name,
                "scope": {
                    "application_ids": form.choices(FreezeField.APPLICATIONS),
                    "squad_ids": form.choices(FreezeField.SQUADS),
                },
            }
        ),
    )


def _moment(form: Form, day_block: str, time_block: str, zone: ZoneInfo) -> datetime | None:
    """The day and time picked, in ``zone``; None when the day is missing."""
    day = form.date(day_block)
    if day is None:
        return None
    try:
        picked_day = _DAY.validate_python(day)
    except ValidationError as error:  # 2027-02-31, or a year no one plans for
        said = error.errors()[0]["msg"].removeprefix("Value error, ")
        raise ValidationFailed(f"{said}.", fields={day_block: said}) from None
    picked_time = form.choice(time_block) or "00:00"
    if not _TIME.fullmatch(picked_time):
        raise ValidationFailed("Pick a time.", fields={time_block: "Pick a time"})
    return datetime.combine(picked_day, time.fromisoformat(picked_time), tzinfo=zone)
