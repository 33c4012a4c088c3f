"""Build every repository over one database, after making sure the indexes exist."""

from __future__ import annotations

from core.errors import Kind
from core.models.catalog import Application, JiraBoard, Squad
from core.models.rbac import Role
from core.services.container import Repositories
from storage.engine import Database
from storage.indexes import ensure_indexes
from storage.repositories.api_tokens import ApiTokenRepository
from storage.repositories.attachments import AttachmentRepository
from storage.repositories.freezes import FreezeRepository
from storage.repositories.idempotency import IdempotencyRepository
from storage.repositories.invitations import InvitationRepository
from storage.repositories.keyed import KeyedRepository
from storage.repositories.login_attempts import LoginAttemptRepository
from storage.repositories.notifications import (
    ApprovalMessageRepository,
    ClaimRepository,
    SnoozeRepository,
    SubscriptionRepository,
)
from storage.repositories.releases import ReleaseRepository
from storage.repositories.timeline import TimelineRepository
from storage.repositories.users import UserRepository
from storage.repositories.webhooks import WebhookRepository


def repositories(db: Database) -> Repositories:
    return Repositories(
        roles=KeyedRepository(db["roles"], Role, "role_name", "role", Kind.ROLE, ignore_case=True),
        users=UserRepository(db["users"]),
        applications=KeyedRepository(
            db["applications"], Application, "application_id", "application", Kind.APPLICATION
        ),
        squads=KeyedRepository(db["squads"], Squad, "squad_id", "squad", Kind.SQUAD),
        boards=KeyedRepository(db["jiraboards"], JiraBoard, "board_id", "Jira board", Kind.BOARD),
        releases=ReleaseRepository(db["releases"]),
        attachments=AttachmentRepository(db["attachments"]),
        timeline=TimelineRepository(db["events"]),
        approval_messages=ApprovalMessageRepository(db["approval_messages"]),
        claims=ClaimRepository(db["claims"]),
        subscriptions=SubscriptionRepository(db["digest_subscriptions"]),
        snoozes=SnoozeRepository(db["snoozes"]),
        api_tokens=ApiTokenRepository(db["api_tokens"]),
        login_attempts=LoginAttemptRepository(db["login_attempts"]),
        idempotency_keys=IdempotencyRepository(db["idempotency_keys"]),
        webhooks=WebhookRepository(db["webhooks"], db["webhook_deliveries"]),
        freezes=FreezeRepository(db["freezes"]),
        invitations=InvitationRepository(db["invitations"]),
    )


async def open_repositories(db: Database) -> Repositories:
    await ensure_indexes(db)
    return repositories(db)
