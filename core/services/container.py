"""Wire repositories into services: the one place that knows every service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from core.clock import Clock, utc_now
from core.ports import (
    ApiTokenRepository,
    ApplicationRepository,
    ApprovalMessageRepository,
    AttachmentRepository,
    BoardRepository,
    ClaimRepository,
    FreezeRepository,
    IdempotencyRepository,
    InvitationRepository,
    LoginAttemptRepository,
    ReleaseRepository,
    RoleRepository,
    SnoozeRepository,
    SquadRepository,
    SubscriptionRepository,
    TimelineRepository,
    UserRepository,
    WebhookRepository,
)
from core.rules.approvals import ApprovalPolicy
from core.rules.digest import DigestWindow
from core.secrets import SecretBox
from core.services.approvals import ApprovalService
from core.services.attachments import AttachmentService
from core.services.audit import AuditService
from core.services.auth import AuthService, AuthSettings
from core.services.catalog import CatalogService
from core.services.delegation import DelegationService
from core.services.departures import Departures
from core.services.freezes import FreezeService
from core.services.gates import GateService
from core.services.idempotency import IdempotencyService
from core.services.identity import IdentityService
from core.services.invitations import DEFAULT_TTL, InvitationService
from core.services.outbox import Outbox
from core.services.releases import ReleaseService
from core.services.retention import RetentionService
from core.services.runbooks import RunbookService
from core.services.schedule import DigestService, ReminderService, ScheduleSettings
from core.services.timeline import TimelineService
from core.services.users import RoleService, UserService
from core.services.webhooks import WebhookService


@dataclass(frozen=True)
class Repositories:
    roles: RoleRepository
    users: UserRepository
    applications: ApplicationRepository
    squads: SquadRepository
    boards: BoardRepository
    releases: ReleaseRepository
    attachments: AttachmentRepository
    timeline: TimelineRepository
    approval_messages: ApprovalMessageRepository
    claims: ClaimRepository
    subscriptions: SubscriptionRepository
    snoozes: SnoozeRepository
    api_tokens: ApiTokenRepository
    login_attempts: LoginAttemptRepository
    idempotency_keys: IdempotencyRepository
    webhooks: WebhookRepository
    freezes: FreezeRepository
    invitations: InvitationRepository


@dataclass(frozen=True)
class Services:
    identity: IdentityService
    roles: RoleService
    users: UserService
    catalog: CatalogService
    releases: ReleaseService
    gates: GateService
    approvals: ApprovalService
    runbooks: RunbookService
    attachments: AttachmentService
    timeline: TimelineService
    digests: DigestService
    reminders: ReminderService
    outbox: Outbox
    auth: AuthService
    idempotency: IdempotencyService
    webhooks: WebhookService
    freezes: FreezeService
    delegation: DelegationService
    audit: AuditService
    retention: RetentionService
    invitations: InvitationService


DEFAULT_SCHEDULE = ScheduleSettings(
    window=DigestWindow(),
    grace=timedelta(hours=2),
    default_tz=ZoneInfo("UTC"),
    reminder_every=timedelta(hours=4),
    escalate_after=timedelta(hours=24),
)


def build_services(
    repos: Repositories,
    *,
    clock: Clock = utc_now,
    policy: ApprovalPolicy | None = None,
    schedule: ScheduleSettings = DEFAULT_SCHEDULE,
    auth: AuthSettings | None = None,
    secrets: SecretBox | None = None,
    invitation_ttl: timedelta = DEFAULT_TTL,
) -> Services:
    """``auth``: how API sessions are signed; by default with a secret made for this call
    only (sessions then end with the process: fine for tests and tools, not for serving).
    ``secrets``: what encrypts stored secrets (SECRET_KEY); by default a key made for this
    call only (what it encrypted cannot be read by another process). ``invitation_ttl``:
    how long an invitation stays open (INVITATION_TTL_HOURS)."""
    outbox = Outbox(repos.releases, repos.users, repos.timeline, repos.claims, clock)
    freezes = FreezeService(repos.freezes, clock)
    identity = IdentityService(repos.users, repos.roles, clock, outbox, repos.invitations)
    delegation = DelegationService(repos.users, identity, clock, outbox)
    departures = Departures(repos.releases, outbox, clock, delegation)
    policy = policy or ApprovalPolicy()
    return Services(
        identity=identity,
        roles=RoleService(repos.roles, clock),
        users=UserService(
            repos.users, repos.roles, repos.claims, clock, outbox, departures=departures
        ),
        catalog=CatalogService(repos.applications, repos.squads, repos.boards, repos.releases),
        releases=ReleaseService(repos.releases, repos.applications, outbox, clock),
        gates=GateService(repos.releases, outbox, clock, freezes.active_windows, policy),
        approvals=ApprovalService(
            repos.releases, outbox, clock, policy, identity, freezes.active_windows
        ),
        runbooks=RunbookService(repos.releases, outbox, clock),
        attachments=AttachmentService(repos.attachments, repos.releases, outbox, clock),
        timeline=TimelineService(repos.releases, repos.timeline),
        digests=DigestService(repos.subscriptions, repos.releases, identity, clock, schedule),
        reminders=ReminderService(repos.releases, repos.snoozes, identity, clock, schedule, policy),
        outbox=outbox,
        auth=AuthService(
            repos.api_tokens,
            repos.login_attempts,
            repos.users,
            identity,
            clock,
            auth or AuthSettings.random(),
        ),
        idempotency=IdempotencyService(repos.idempotency_keys, clock),
        webhooks=WebhookService(
            repos.webhooks, repos.claims, identity, clock, secrets or SecretBox.random()
        ),
        freezes=freezes,
        delegation=delegation,
        audit=AuditService(repos.releases, repos.timeline, clock),
        retention=RetentionService(
            repos.claims,
            repos.api_tokens,
            repos.webhooks,
            repos.idempotency_keys,
            clock,
            repos.invitations,
            repos.approval_messages,
        ),
        invitations=InvitationService(
            repos.invitations,
            repos.users,
            repos.roles,
            repos.squads,
            clock,
            ttl=invitation_ttl,
        ),
    )
