"""Digests and reminders: subscriptions, and what is due to be sent at a given moment.

``due`` methods read everything they need in a constant number of queries (not one per
release or per person) and return jobs; the bot claims, sends and completes each job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from core.clock import Clock
from core.errors import NotFound, ValidationFailed
from core.models.rbac import Permission
from core.models.release import Release
from core.models.schedule import DigestKind, DigestSubscription, Snooze, zone_name, zone_or
from core.ports import ReleaseRepository, SnoozeRepository, SubscriptionRepository
from core.rules import approvals, schedule
from core.rules.approvals import ApprovalPolicy
from core.rules.digest import Digest, DigestWindow, compose_digest
from core.rules.operations import SUBSCRIBE_CHANNEL
from core.rules.permissions import Actor
from core.rules.readiness import MilestoneRef
from core.services.approvals import DECIDING_FLAGS, key_of, pending_in
from core.services.identity import IdentityService

DEFAULT_DIGEST_TIME = time(9, 0)
MANAGER_FLAGS = frozenset({Permission.CAN_CREATE_RELEASE})


@dataclass(frozen=True)
class ScheduleSettings:
    window: DigestWindow
    grace: timedelta
    default_tz: ZoneInfo
    reminder_every: timedelta
    escalate_after: timedelta


@dataclass(frozen=True)
class DigestJob:
    """One digest to deliver: to a channel, or by DM to a person, for one local day."""

    key: str
    kind: DigestKind
    audience: Actor
    digest: Digest
    tz: ZoneInfo
    channel_id: str | None = None
    target: str | None = None  # the channel's subscription


@dataclass(frozen=True)
class _Plan:
    key: str
    kind: DigestKind
    audience: Actor
    tz: ZoneInfo
    day: date
    channel_id: str | None = None
    target: str | None = None


class ReminderKind(StrEnum):
    REMIND = "REMIND"
    ESCALATE = "ESCALATE"


@dataclass(frozen=True)
class ReminderJob:
    key: str
    kind: ReminderKind
    recipient: Actor
    release: Release
    ref: MilestoneRef
    approval_key: str
    pending_for: timedelta
    tz: ZoneInfo


class DigestService:
    def __init__(
        self,
        subscriptions: SubscriptionRepository,
        releases: ReleaseRepository,
        identity: IdentityService,
        clock: Clock,
        settings: ScheduleSettings,
    ) -> None:
        self._subscriptions = subscriptions
        self._releases = releases
        self._identity = identity
        self._clock = clock
        self._settings = settings

    async def subscribe_channel(
        self, actor: Actor, *, team_id: str, channel_id: str, at: time | None, time_zone: str | None
    ) -> DigestSubscription:
        SUBSCRIBE_CHANNEL.require(actor)
        zone = _checked_zone(time_zone) if time_zone else self._settings.default_tz.key
        subscription = DigestSubscription(
            kind=DigestKind.CHANNEL,
            target=DigestSubscription.channel_target(team_id, channel_id),
            team_id=team_id,
            channel_id=channel_id,
            at=at or DEFAULT_DIGEST_TIME,
            time_zone=zone,
            created_by=actor.user_id,
            created_at=self._clock(),
        )
        return await self._subscriptions.upsert(subscription)

    async def unsubscribe_channel(self, actor: Actor, *, team_id: str, channel_id: str) -> None:
        actor.require(Permission.CAN_CREATE_RELEASE, "unsubscribe a channel from the digest")
        if not await self._subscriptions.remove(
            DigestSubscription.channel_target(team_id, channel_id)
        ):
            raise NotFound("This channel has no digest subscription.")

    async def pause_channel(self, target: str, *, reason: str) -> DigestSubscription | None:
        """Stop a channel digest Slack refuses for good (``reason``: its error, such as
        not_in_channel) instead of failing every day; subscribing again resumes it. None when
        it was paused already, removed, or subscribed again meanwhile."""
        return await self._subscriptions.pause(target, reason=reason, at=self._clock())

    async def set_personal(
        self, actor: Actor, *, enabled: bool, at: time | None = None
    ) -> DigestSubscription:
        """A release manager's own DM digest: off, or at another local time."""
        actor.require(Permission.CAN_CREATE_RELEASE, "receive the release managers' digest")
        subscription = DigestSubscription(
            kind=DigestKind.PERSON,
            target=DigestSubscription.person_target(actor.user_id),
            user_id=actor.user_id,
            at=at or DEFAULT_DIGEST_TIME,
            enabled=enabled,
            created_by=actor.user_id,
            created_at=self._clock(),
        )
        return await self._subscriptions.upsert(subscription)

    async def digest_for(self, actor: Actor, day: date) -> Digest:
        """The digest this person would get on ``day`` (``digest now``)."""
        actor.require_active()
        start, end = self._settings.window.bounds(day)
        cards = await self._releases.dated_between(
            start=start, end=end, squads=actor.visible_squads()
        )
        return compose_digest(cards, actor, day, self._settings.window)

    async def due(self, now: datetime) -> list[DigestJob]:
        """Every digest due at ``now``: four queries, however many releases and people. The
        releases are read as their stored cards (head and readiness summary), not whole."""
        subscriptions = await self._subscriptions.all()
        managers = {a.user_id: a for a in await self._identity.actors_with_any(MANAGER_FLAGS)}
        planned = self._channel_plans(subscriptions, managers, now) + self._person_plans(
            subscriptions, managers, now
        )
        if not planned:
            return []
        first = min(p.day for p in planned) - timedelta(days=self._settings.window.recent_days)
        last = max(p.day for p in planned) + timedelta(days=self._settings.window.upcoming_days)
        cards = await self._releases.dated_between(start=first, end=last, squads=None)
        return [
            DigestJob(
                p.key,
                p.kind,
                p.audience,
                compose_digest(cards, p.audience, p.day, self._settings.window),
                p.tz,
                p.channel_id,
                p.target,
            )
            for p in planned
        ]

    def _channel_plans(
        self, subscriptions: list[DigestSubscription], managers: dict[str, Actor], now: datetime
    ) -> list[_Plan]:
        plans: list[_Plan] = []
        for sub in subscriptions:
            audience = managers.get(sub.created_by)
            if sub.kind is not DigestKind.CHANNEL or not sub.enabled or audience is None:
                continue
            tz = ZoneInfo(sub.time_zone or self._settings.default_tz.key)
            day = schedule.digest_day(sub.at, tz, now, self._settings.grace)
            if day is not None:
                key = f"digest:{sub.target}:{day}"
                plans.append(_Plan(key, sub.kind, audience, tz, day, sub.channel_id, sub.target))
        return plans

    def _person_plans(
        self, subscriptions: list[DigestSubscription], managers: dict[str, Actor], now: datetime
    ) -> list[_Plan]:
        own = {s.user_id: s for s in subscriptions if s.kind is DigestKind.PERSON}
        plans: list[_Plan] = []
        for actor in managers.values():
            setting = own.get(actor.user_id)
            if setting is not None and not setting.enabled:
                continue
            tz = _zone_of(actor, setting, self._settings.default_tz)
            at = setting.at if setting else DEFAULT_DIGEST_TIME
            day = schedule.digest_day(at, tz, now, self._settings.grace)
            if day is not None:
                key = f"digest:{DigestSubscription.person_target(actor.user_id)}:{day}"
                plans.append(_Plan(key, DigestKind.PERSON, actor, tz, day))
        return plans


class ReminderService:
    def __init__(
        self,
        releases: ReleaseRepository,
        snoozes: SnoozeRepository,
        identity: IdentityService,
        clock: Clock,
        settings: ScheduleSettings,
        policy: ApprovalPolicy,
    ) -> None:
        self._releases = releases
        self._snoozes = snoozes
        self._identity = identity
        self._clock = clock
        self._settings = settings
        self._policy = policy

    async def snooze(self, actor: Actor, key: str, choice: str) -> datetime:
        actor.require_active()
        tz = _zone_of(actor, None, self._settings.default_tz)
        try:
            until = schedule.snooze_until(choice, self._clock(), tz)
        except ValueError as error:
            raise ValidationFailed(str(error)) from None
        await self._snoozes.snooze(Snooze(user_id=actor.user_id, approval_key=key, until=until))
        return until

    async def due(self, now: datetime) -> list[ReminderJob]:
        """Reminders and escalations due at ``now``: four queries in all."""
        releases = await self._releases.with_pending_approvals(squads=None)
        if not releases:
            return []
        rules = [
            rule
            for release in releases
            for ref in pending_in(release)
            for rule in ref.milestone.approval.effective_policy.rules
        ]
        people = await self._identity.actors_with_any(DECIDING_FLAGS | MANAGER_FLAGS, rules=rules)
        snoozed = {(s.user_id, s.approval_key) for s in await self._snoozes.active(now=now)}
        jobs: list[ReminderJob] = []
        for release in releases:
            for ref in pending_in(release):
                jobs += self._for_approval(release, ref, people, snoozed, now)
        return jobs

    def _for_approval(
        self,
        release: Release,
        ref: MilestoneRef,
        people: list[Actor],
        snoozed: set[tuple[str, str]],
        now: datetime,
    ) -> list[ReminderJob]:
        requested = ref.milestone.approval.requested_at
        if requested is None:
            return []
        key = key_of(release.id, ref)
        interval = schedule.reminder_interval(requested, now, self._settings.reminder_every)
        escalate = schedule.needs_escalation(requested, now, self._settings.escalate_after)
        jobs = []
        for actor in people:
            tz = _zone_of(actor, None, self._settings.default_tz)
            if not actor.can_view(release) or (actor.user_id, key) in snoozed:
                continue
            if schedule.in_quiet_hours(now, tz):
                continue
            if interval >= 1 and approvals.may_decide(actor, ref.milestone, self._policy):
                jobs.append(
                    ReminderJob(
                        f"reminder:{key}:{actor.user_id}:{interval}",
                        ReminderKind.REMIND,
                        actor,
                        release,
                        ref,
                        key,
                        now - requested,
                        tz,
                    )
                )
            if escalate and actor.has(Permission.CAN_CREATE_RELEASE):
                jobs.append(
                    ReminderJob(
                        f"escalation:{key}:{actor.user_id}",
                        ReminderKind.ESCALATE,
                        actor,
                        release,
                        ref,
                        key,
                        now - requested,
                        tz,
                    )
                )
        return jobs


def _zone_of(actor: Actor, setting: DigestSubscription | None, default: ZoneInfo) -> ZoneInfo:
    return zone_or((setting.time_zone if setting else None) or actor.user.time_zone, default)


def _checked_zone(name: str) -> str:
    try:
        return zone_name(name)
    except ValueError as error:
        raise ValidationFailed(str(error), fields={"time_zone": "Unknown time zone"}) from None
