"""Digest subscriptions, snoozes and delivery records for the scheduler."""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator

from core.models.common import DomainModel, Entity, Key, UtcDatetime


def known_zone(name: str | None) -> str | None:
    """``name`` when it names a time zone; None when it is missing or unknown."""
    if not name:
        return None
    try:
        return zone_name(name)
    except ValueError:
        return None


def zone_or(name: str | None, default: ZoneInfo) -> ZoneInfo:
    """The named time zone, or ``default`` when the name is missing or unknown."""
    known = known_zone(name)
    return ZoneInfo(known) if known else default


class DigestKind(StrEnum):
    CHANNEL = "CHANNEL"
    PERSON = "PERSON"


def zone_name(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone '{value}'; use an IANA name such as Europe/Paris"
        ) from None
    return value


class DigestSubscription(Entity):
    """A channel's daily digest, or a person's own setting (off, or another time).

    ``target`` is unique: ``channel:<team>:<channel>`` or ``person:<user id>``.
    A person's digest follows their own time zone when ``time_zone`` is None. A channel's
    digest that Slack refuses for good (the bot is not in the channel, or it is gone) is
    paused: disabled, with the Slack error in ``paused_reason``, until subscribed again.
    """

    kind: DigestKind
    target: str
    team_id: Key | None = None
    channel_id: Key | None = None
    user_id: str | None = None
    at: time = time(9, 0)
    time_zone: str | None = None
    enabled: bool = True
    created_by: str
    created_at: UtcDatetime
    paused_reason: str | None = None
    paused_at: UtcDatetime | None = None

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else zone_name(value)

    @staticmethod
    def channel_target(team_id: str, channel_id: str) -> str:
        return f"channel:{team_id}:{channel_id}"

    @staticmethod
    def person_target(user_id: str) -> str:
        return f"person:{user_id}"


class Snooze(DomainModel):
    """A person asked not to be reminded of one approval until ``until``."""

    user_id: str
    approval_key: str
    until: UtcDatetime
