"""Interfaces the storage layer implements. Core depends on these, never on Motor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol, TypeVar

from core.models.attachment import Attachment, AttachmentTarget
from core.models.auth import ApiToken, LoginAttempts, StoredApiToken
from core.models.catalog import Application, JiraBoard, Squad
from core.models.events import PendingEvents
from core.models.freeze import FreezeWindow
from core.models.idempotency import IdempotentRequest, StoredAnswer
from core.models.invitation import Invitation
from core.models.notification import ApprovalMessage, Taken
from core.models.rbac import Delegation, Role, SlackIdentity, User, UserStatus
from core.models.release import Release
from core.models.schedule import DigestSubscription, Snooze
from core.models.timeline import TimelineEvent
from core.models.webhooks import (
    DeliveryAttempt,
    DeliveryStatus,
    StoredWebhook,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from core.pagination import ReleaseCursor
from core.rules.readiness import ReleaseCard

T = TypeVar("T")
U = TypeVar("U")


class KeyedRepository(Protocol[T]):
    """A catalog collection addressed by its unique human key (roles: ignoring case)."""

    async def add(self, item: T) -> T: ...
    async def get(self, key: str) -> T: ...
    async def all(self) -> list[T]:
        """Every item, by key."""
        ...

    async def all_with(self, other: KeyedRepository[U]) -> tuple[list[T], list[U]]:
        """``all()`` of this collection and of ``other``, in one round trip when both are
        of the same database (a form that offers both, say)."""
        ...


ApplicationRepository = KeyedRepository[Application]
SquadRepository = KeyedRepository[Squad]
BoardRepository = KeyedRepository[JiraBoard]


class RoleRepository(KeyedRepository[Role], Protocol):
    async def get_many(self, role_ids: Sequence[str]) -> list[Role]: ...


class UserRepository(Protocol):
    async def add(self, user: User) -> User: ...
    async def get(self, user_id: str) -> User: ...
    async def get_by_username(self, username: str) -> User:
        """Ignoring case; NotFound (kind USER) when nobody has it."""
        ...

    async def usernames(self, *, limit: int) -> list[str]:
        """Up to ``limit`` usernames, alphabetically: candidates for "did you mean"."""
        ...

    async def get_many(self, user_ids: Sequence[str]) -> list[User]: ...
    async def find_by_email(self, email: str) -> User | None: ...
    async def find_by_slack(self, identity: SlackIdentity) -> User | None: ...
    async def all(self) -> list[User]: ...
    async def list_with_roles(self, role_ids: Sequence[str]) -> list[User]: ...
    # ``caused``: what the change caused, added to the user's outbox in the same write.
    async def add_role(
        self, user_id: str, role_id: str, *, caused: PendingEvents | None = None
    ) -> User: ...
    async def remove_role(
        self, user_id: str, role_id: str, *, caused: PendingEvents | None = None
    ) -> User: ...
    async def set_slack(
        self, user_id: str, identity: SlackIdentity | None, *, caused: PendingEvents | None = None
    ) -> User:
        """Link (and allow automatic linking again), or unlink (and stop it)."""
        ...

    async def set_status(
        self, user_id: str, status: UserStatus, *, caused: PendingEvents | None = None
    ) -> User: ...
    async def clear_outbox(self, user_id: str, entry_ids: Sequence[str]) -> None:
        """Remove these delivered entries from the user's outbox."""
        ...

    async def with_outbox(self, *, limit: int) -> list[User]:
        """Users whose outbox still holds entries."""
        ...

    async def set_time_zone(
        self, user_id: str, time_zone: str | None, *, checked_at: datetime | None = None
    ) -> User:
        """Keep the zone (None: keep the stored one) and when Slack was last asked for it."""
        ...

    async def set_delegation(
        self, user_id: str, delegation: Delegation | None, *, caused: PendingEvents | None = None
    ) -> User:
        """Set who decides in the user's place (None: nobody), in one targeted write."""
        ...

    async def delegating_to(self, user_id: str, *, now: datetime) -> list[User]:
        """Users whose delegation in force at ``now`` names this user, by username."""
        ...

    async def away(self, *, now: datetime) -> list[User]:
        """Users with a delegation in force at ``now`` (anyone's), by username."""
        ...


@dataclass(frozen=True, slots=True)
class HomeReleases:
    """What App Home shows of releases (``ReleaseRepository.home``)."""

    pending: list[Release]  # with an approval pending, whole (who may decide it needs that)
    page: list[ReleaseCard]  # the newest, as cards


@dataclass(frozen=True, slots=True)
class ReleaseWithCatalog:
    """A release and the catalog its forms offer (``ReleaseRepository.get_with_catalog``)."""

    release: Release
    squads: list[Squad]  # by squad_id
    applications: list[Application]  # by application_id


@dataclass(frozen=True, slots=True)
class AuditHead:
    """A release's audit chain head, and the entries its outbox still holds (written with
    the release, not yet in the timeline)."""

    release_oid: str
    release_id: str
    seq: int
    hash: str
    pending: list[TimelineEvent]


class ReleaseRepository(Protocol):
    """Every list — ``page``, ``recent_ids``, ``with_pending_approvals``, ``home``,
    ``dated_between`` — leaves archived releases out (``Release.archived_at`` set);
    ``get``, the outbox and ``audit_heads`` do not (core/rules/archive.py)."""

    async def audit_heads(
        self, *, squads: Sequence[str] | None, after: str | None, limit: int
    ) -> list[AuditHead]:
        """The chain heads of the releases in these squads (None: all), by ``_id`` after
        ``after``: one round trip per page."""
        ...

    async def add(self, release: Release) -> Release: ...
    async def get(self, ref: str, *, with_outbox: bool = True) -> Release:
        """By release_id ignoring case, or by ``_id`` when ``ref`` is an ObjectId string; one
        round trip. An exact release_id wins over one that differs only in case.
        ``with_outbox=False``: its outbox left unread (empty), for a writer, whose ``save``
        only adds to it: a busy release's waiting entries cost its writers nothing."""
        ...

    async def get_with_catalog(
        self, ref: str, *, squads: SquadRepository, applications: ApplicationRepository
    ) -> ReleaseWithCatalog:
        """``get(ref)`` (the same NotFound) with ``squads.all_with(applications)``, in one
        round trip when all three are of the same database."""
        ...

    async def recent_ids(self, *, squads: Sequence[str] | None, limit: int) -> list[str]:
        """The release_ids of the newest ``limit`` releases in ``squads`` (None: all)."""
        ...

    async def save(self, release: Release, *, added: Sequence[TimelineEvent] = ()) -> Release:
        """Write back if the stored version is still ``release.version``; else StaleVersion.
        The outbox is not written back: ``added`` (this write's entries) join it, and entries
        delivered and cleared since the release was read stay cleared."""
        ...

    async def with_entries(self, release_oid: str, entry_ids: Sequence[str]) -> Release:
        """The release with only these of its outbox entries (those still there): what a
        reaction to them reads, however many others wait. One round trip."""
        ...

    async def clear_outbox(self, release_oid: str, event_ids: Sequence[str]) -> None:
        """Remove these delivered entries from the release's outbox (not a version change)."""
        ...

    async def with_outbox(self, *, limit: int) -> list[Release]:
        """Releases whose outbox still holds entries: what a crash left undelivered."""
        ...

    async def page(
        self,
        *,
        squads: Sequence[str] | None,
        query: str | None,
        after: ReleaseCursor | None,
        limit: int,
    ) -> list[ReleaseCard]:
        """Newest release_date first (ties by id), strictly after the cursor, as cards (the
        head and readiness summary stored with each release). ``query``: see
        ``core.rules.search`` (from the start of a word of the id or name, ignoring case)."""
        ...

    async def with_pending_approvals(self, *, squads: Sequence[str] | None) -> list[Release]:
        """Releases in ``squads`` (None: all) with an approval pending, newest first."""
        ...

    async def with_expired_approvals(self, *, now: datetime) -> list[Release]:
        """Listed releases with a pending approval that may have run out by ``now`` (some
        approval expires at or before it; the caller checks which), newest first."""
        ...

    async def home(self, *, squads: Sequence[str] | None, limit: int) -> HomeReleases:
        """``with_pending_approvals`` and the first ``page`` of ``limit`` cards (0: all),
        both newest first, in one round trip."""
        ...

    async def dated_between(
        self, *, start: date, end: date, squads: Sequence[str] | None
    ) -> list[ReleaseCard]:
        """Release cards dated from ``start`` to ``end`` (both included), newest first."""
        ...


class AttachmentRepository(Protocol):
    async def add(self, attachment: Attachment) -> Attachment: ...
    async def get(self, attachment_id: str) -> Attachment: ...
    async def find_by_sha256(self, sha256: str) -> Attachment | None: ...
    async def add_link(self, attachment_id: str, target: AttachmentTarget) -> Attachment: ...


class TimelineRepository(Protocol):
    async def append(self, events: Sequence[TimelineEvent]) -> None:
        """Store the events; one already stored (same id) is stored once: delivering an
        outbox twice is harmless."""
        ...

    async def for_release(self, release_oid: str, *, limit: int) -> list[TimelineEvent]: ...

    async def chained(
        self, release_oids: Sequence[str], *, since: datetime | None, until: datetime | None
    ) -> list[TimelineEvent]:
        """The entries of these releases at ``since`` ≤ at < ``until``, each release's in
        chain order (by ``seq``, entries from before the chain first, by time)."""
        ...


class ApprovalMessageRepository(Protocol):
    """Where each approval request was delivered, so every copy can be updated."""

    async def record(self, message: ApprovalMessage) -> None:
        """Keep a DM copy of an approval; a copy already kept (same channel and ts) is not
        kept twice."""
        ...

    async def for_approval(self, approval_key: str) -> list[ApprovalMessage]: ...

    async def purge(self, *, before: datetime) -> int:
        """Forget the copies sent before ``before``; how many."""
        ...


class ClaimRepository(Protocol):
    """Once-only claims on a unique key (Slack retries, deliveries), across replicas.

    ``owner`` names the attempt holding a claim: only it may complete or release it, so a
    replica whose lease ran out cannot undo the replica that took the work over."""

    async def claim(
        self, key: str, *, ttl: timedelta, owner: str = "", now: datetime | None = None
    ) -> bool:
        """True for the first caller, or for one taking over an expired, unfinished claim.
        Times are the database's; ``now`` counts only where no database clock is bound."""
        ...

    async def take(
        self, key: str, *, ttl: timedelta, owner: str = "", now: datetime | None = None
    ) -> Taken | None:
        """``claim``, telling a first attempt from a retry of one that may have done it."""
        ...

    async def complete(self, key: str, *, owner: str = "", now: datetime | None = None) -> bool:
        """The work is done: the claim never expires. False if the claim is no longer ours."""
        ...

    async def release(self, key: str, *, owner: str = "", maybe_done: bool = False) -> None:
        """The work failed: let the next attempt claim it at once (told, if ``maybe_done``,
        that this attempt may have done it)."""
        ...

    async def now(self) -> datetime:
        """The time leases are judged by: the database's."""
        ...

    async def finished(self, key: str) -> bool:
        """Whether the work of this claim was completed (and not yet purged)."""
        ...

    async def purge(self, *, before: datetime, done_before: datetime) -> int:
        """Delete expired unfinished claims and finished ones older than ``done_before``."""
        ...


class SubscriptionRepository(Protocol):
    async def upsert(self, subscription: DigestSubscription) -> DigestSubscription: ...
    async def find(self, target: str) -> DigestSubscription | None: ...
    async def remove(self, target: str) -> bool: ...
    async def all(self) -> list[DigestSubscription]: ...
    async def pause(self, target: str, *, reason: str, at: datetime) -> DigestSubscription | None:
        """Disable an enabled subscription made at or before ``at`` (one made again since is
        left alone), recording why; the paused subscription, or None if there was none."""
        ...


class SnoozeRepository(Protocol):
    async def snooze(self, snooze: Snooze) -> None: ...
    async def active(self, *, now: datetime) -> list[Snooze]: ...


class ApiTokenRepository(Protocol):
    """Machines' API tokens; only the SHA-256 of each secret is stored."""

    async def add(self, token: StoredApiToken) -> StoredApiToken: ...
    async def get(self, token_id: str) -> StoredApiToken:
        """NotFound when no token has this id (or it is no id at all)."""
        ...

    async def for_user(self, user_id: str) -> list[ApiToken]:
        """The user's tokens, newest first, without their hashes."""
        ...

    async def revoke(self, token_id: str, *, at: datetime) -> ApiToken:
        """Revoked from ``at`` on (one revoked already keeps its first time); NotFound."""
        ...

    async def touch(self, token_id: str, *, at: datetime) -> None:
        """Record that the token was used at ``at``."""
        ...

    async def purge(self, *, ended_before: datetime) -> int:
        """Delete the tokens that expired, or were revoked, before ``ended_before``; how many."""
        ...


class LoginAttemptRepository(Protocol):
    """Sign-in attempts per key (username and client), shared by every replica."""

    async def count(self, key: str, *, now: datetime, window: timedelta) -> LoginAttempts:
        """One more attempt for ``key``, counted atomically: added to the live count, or the
        first of a new one that lives ``window`` from ``now`` (none yet, or the last one
        expired)."""
        ...

    async def clear(self, key: str) -> None:
        """Forget the attempts counted for ``key`` (a successful sign-in)."""
        ...


class WebhookRepository(Protocol):
    """Outbound webhooks (their secrets only encrypted) and their deliveries."""

    async def add(self, hook: StoredWebhook) -> StoredWebhook: ...
    async def get(self, hook_id: str) -> StoredWebhook:
        """NotFound when no hook has this id (or it is no id at all)."""
        ...

    async def for_user(self, user_id: str) -> list[Webhook]:
        """The user's hooks, newest first, without their secrets."""
        ...

    async def subscribed(self, events: Sequence[WebhookEvent]) -> list[StoredWebhook]:
        """Every hook subscribed to any of ``events``."""
        ...

    async def remove(self, hook_id: str) -> bool:
        """Delete the hook and its deliveries (pending ones are never sent); False if none."""
        ...

    async def replace_secret(self, hook_id: str, *, was: str, now: str) -> bool:
        """Store the secret encrypted anew (``now``) if it is still ``was``; whether it was."""
        ...

    async def add_delivery(self, delivery: WebhookDelivery) -> bool:
        """Store it unless a delivery with its ``key`` is stored already; True if stored."""
        ...

    async def delivery(self, delivery_id: str) -> WebhookDelivery | None: ...
    async def due(self, *, now: datetime, limit: int) -> list[WebhookDelivery]:
        """PENDING deliveries whose next attempt is at or before ``now``, soonest first."""
        ...

    async def deliveries(self, hook_id: str, *, limit: int) -> list[WebhookDelivery]:
        """The hook's deliveries, newest first."""
        ...

    async def record_attempt(
        self,
        delivery_id: str,
        attempt: DeliveryAttempt,
        *,
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
    ) -> None:
        """Log ``attempt`` and set what follows it (delivered, retried at, given up)."""
        ...

    async def purge_deliveries(self, *, before: datetime) -> int:
        """Delete the deliveries made before ``before`` that are over (delivered or given
        up), logs and all; pending ones are kept however old. How many."""
        ...


class IdempotencyRepository(Protocol):
    """Idempotency-Keys in use, shared by every replica; forgotten a day after their use."""

    async def claim(
        self, request: IdempotentRequest, *, stale_before: datetime
    ) -> IdempotentRequest | None:
        """Claim ``request.key`` atomically: None when this call now holds it (it was free,
        or its claim was made before ``stale_before`` and never finished: that request died);
        otherwise what holds it."""
        ...

    async def finish(self, key: str, *, claimed_at: datetime, answer: StoredAnswer) -> None:
        """Keep the answer of the claim made at ``claimed_at`` (not of one that took it over)."""
        ...

    async def release(self, key: str, *, claimed_at: datetime) -> None:
        """Let go of the unfinished claim made at ``claimed_at`` (its request failed), so the
        same request can be tried again."""
        ...

    async def purge(self, *, before: datetime) -> int:
        """Forget the keys claimed before ``before`` (as the TTL index does, by the wall
        clock, where there is one); how many."""
        ...


class FreezeRepository(Protocol):
    """Freeze windows (``core.models.freeze``)."""

    async def add(self, window: FreezeWindow) -> FreezeWindow: ...
    async def get(self, freeze_id: str) -> FreezeWindow:
        """NotFound when no window has this id (or it is no id at all)."""
        ...

    async def list_open(self, *, now: datetime) -> list[FreezeWindow]:
        """The windows not ended by hand and not over at ``now`` (on, or still to come),
        the first to start first."""
        ...

    async def end(self, freeze_id: str, *, ended_at: datetime, ended_by: str) -> bool:
        """End the window now, unless it was ended already; True if this call ended it."""
        ...


class InvitationRepository(Protocol):
    """Invitations by email (``core/models/invitation.py``)."""

    async def add(self, invitation: Invitation) -> Invitation: ...
    async def get(self, invitation_id: str) -> Invitation:
        """NotFound when no invitation has this id (or it is no id at all)."""
        ...

    async def find_open(self, email: str, *, now: datetime) -> Invitation | None:
        """The newest invitation for this email (lower-cased) neither accepted, revoked nor
        expired at ``now``."""
        ...

    async def all(self, *, limit: int) -> list[Invitation]:
        """The newest first (a limit of 0 is none)."""
        ...

    async def accept(self, invitation_id: str, *, user_id: str, now: datetime) -> bool:
        """Mark it ACCEPTED by ``user_id`` at ``now`` if it is still open then (one
        conditional write); whether it was."""
        ...

    async def revoke(self, invitation_id: str, *, by: str, now: datetime) -> bool:
        """Mark it REVOKED by ``by`` (a username) at ``now`` if it is still open then (one
        conditional write); whether it was."""
        ...

    async def purge(self, *, ended_before: datetime) -> int:
        """Delete the invitations that expired, or were revoked, before ``ended_before``
        (accepted ones are kept); how many."""
        ...
