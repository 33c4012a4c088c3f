"""Freeze windows: spans of time (a holiday, a peak sale) when production changes wait.

A window names its time zone, the one its start and end were picked in, so it reads back as
people planned it ("24 Dec 18:00 Berlin"); the moments themselves are stored in UTC.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from core.models.common import DomainModel, Entity, Key, Name, PlannedDatetime, UtcDatetime
from core.models.schedule import zone_name

SCOPE_MAX = 100  # applications or squads named by one window (a form's select offers 100)

TimeZoneName = Annotated[str, AfterValidator(zone_name)]


class FreezeScope(DomainModel):
    """What a window freezes: products of these applications, or releases and products of
    these squads; both empty is everything."""

    application_ids: list[Key] = Field(default_factory=list, max_length=SCOPE_MAX)
    squad_ids: list[Key] = Field(default_factory=list, max_length=SCOPE_MAX)

    @field_validator("application_ids", "squad_ids")
    @classmethod
    def _once_each(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(values))

    @property
    def everything(self) -> bool:
        return not self.application_ids and not self.squad_ids


class FreezeDraft(DomainModel):
    name: Name
    starts_at: PlannedDatetime
    ends_at: PlannedDatetime
    time_zone: TimeZoneName
    scope: FreezeScope = Field(default_factory=FreezeScope)

    @field_validator("ends_at")
    @classmethod
    def _after_start(cls, value: UtcDatetime, info: ValidationInfo) -> UtcDatetime:
        start = info.data.get("starts_at")
        if start is not None and value <= start:
            raise ValueError("The freeze must end after it starts; pick a later end")
        return value


class FreezeWindow(Entity, FreezeDraft):
    created_by: str
    created_at: UtcDatetime
    # Ended early by hand (`/release freeze end`); None while it runs its course.
    ended_at: UtcDatetime | None = None
    ended_by: str | None = None

    @property
    def closes_at(self) -> UtcDatetime:
        """When it stops freezing: its planned end, or when it was ended, if earlier."""
        if self.ended_at is not None and self.ended_at < self.ends_at:
            return self.ended_at
        return self.ends_at
