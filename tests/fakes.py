"""In-memory fakes of the repositories core depends on (``core/ports.py``), cosmicpython style.

Each fake keeps pydantic models in a dict (insertion order stands in for MongoDB's natural
order), stores a copy as MongoDB would keep it (``as_stored``) and hands out copies, so a
caller never holds what is stored. They answer as the adapters in ``storage/repositories``
do: the same ``NotFound`` and ``Duplicate`` errors (message, kind, fields), the same unique
keys (release ids, role names and usernames also ignoring case), the same orders and limits
(a limit of 0 is no limit), the same version check on a release save and the same claims.
``tests/test_repository_contracts.py`` and every ``any_world`` test run on both.

Known differences, on purpose: a second ``add`` of the same id names ``_id`` (as MongoDB
does; mongomock names no key); a release save is not checked against the unique keys (no
service changes a release's id).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from core.clock import Clock
from core.errors import Duplicate, Kind, NotFound, StaleVersion
from core.models.attachment import Attachment, AttachmentTarget
from core.models.auth import ApiToken, LoginAttempts, StoredApiToken
from core.models.catalog import Application, JiraBoard, Squad
from core.models.common import Entity, is_object_id
from core.models.events import PendingEvents
from core.models.freeze import FreezeWindow
from core.models.idempotency import IdempotentRequest, StoredAnswer
from core.models.invitation import Invitation, InvitationStatus
from core.models.notification import ApprovalMessage, Taken
from core.models.rbac import Delegation, Role, SlackIdentity, User, UserStatus
from core.models.release import ApprovalStatus, Release
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
from core.ports import (
    ApplicationRepository,
    AuditHead,
    HomeReleases,
    KeyedRepository,
    ReleaseWithCatalog,
    SquadRepository,
)
from core.rules.readiness import ReleaseCard, card_of, milestone_refs
from core.rules.search import matches, search_term
from core.services.container import Repositories

M = TypeVar("M", bound=BaseModel)
E = TypeVar("E", bound=Entity)
T = TypeVar("T")


# --- what a document store keeps ------------------------------------------------------------


def as_stored(value: Any) -> Any:
    """A value as MongoDB gives it back (see ``storage.codec``): datetimes in UTC to the
    millisecond, dates as midnight UTC, times of day to the minute, enums as their values."""
    if isinstance(value, dict):
        return {k: as_stored(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_stored(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return utc.replace(microsecond=utc.microsecond // 1000 * 1000)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value


def stored(model: M) -> M:
    """A copy of ``model`` as it would be read back from the database."""
    return type(model).model_validate(as_stored(model.model_dump()))


def folded(value: object) -> str:
    """A key as compared ignoring case (as ``storage.codec.folded``)."""
    return str(value).strip().casefold()


def oid(value: str) -> str | None:
    """The id ``value`` names (ObjectId hex reads either case), or None if it is none."""
    value = str(value)
    return value.lower() if is_object_id(value) else None


def limited(items: list[T], limit: int) -> list[T]:
    """The first ``limit`` items; a limit of 0 is none, as with MongoDB."""
    return items[:limit] if limit > 0 else items


def _delete(rows: dict[str, M], match: Callable[[M], bool]) -> int:
    """Delete the rows ``match`` picks (a ``delete_many``); how many."""
    gone = [key for key, row in rows.items() if match(row)]
    for key in gone:
        del rows[key]
    return len(gone)


class Table(Generic[M]):
    """One collection: models by id, in insertion order, with its unique keys.

    ``unique`` maps each unique index, in the order MongoDB checks them after ``_id``, to
    its fields as a DUPLICATE names them and a function giving an item's values (None: the
    item is not in the index, as with a sparse or partial index)."""

    def __init__(
        self,
        what: str,
        unique: Sequence[tuple[tuple[str, ...], Callable[[M], tuple[object, ...] | None]]] = (),
    ) -> None:
        self.what = what
        self.rows: dict[str, M] = {}
        self._unique = unique

    def insert(self, item: M, item_id: str) -> None:
        if item_id in self.rows:
            raise self.duplicate(("_id",), (item_id,))
        for fields, values_of in self._unique:
            values = values_of(item)
            if values is not None and any(values_of(r) == values for r in self.rows.values()):
                raise self.duplicate(fields, values)
        self.rows[item_id] = stored(item)

    def duplicate(self, fields: tuple[str, ...], values: tuple[object, ...]) -> Duplicate:
        """As ``storage.errors.duplicate``: a ``*_folded`` key is named without its suffix."""
        names = [f.removesuffix("_folded") for f in fields]
        shown = ", ".join(f"{n} '{v}'" for n, v in zip(names, values, strict=True))
        also = " (ignoring case)" if any(f.endswith("_folded") for f in fields) else ""
        return Duplicate(
            f"{'An' if self.what[:1] in 'aeio' else 'A'} {self.what} with {shown} already "
            f"exists{also}; choose another.",
            fields={names[-1].split(".")[-1]: "Already taken"},
        )

    def find(self, match: Callable[[M], bool]) -> list[M]:
        return [r.model_copy(deep=True) for r in self.rows.values() if match(r)]

    def documents(self) -> list[dict[str, Any]]:
        return [r.model_dump() for r in self.rows.values()]

    def edit(self, match: Callable[[M], bool], changes: dict[str, Any]) -> int:
        """Change stored items behind the repository's back (a raw database write)."""
        hits = [key for key, r in self.rows.items() if match(r)]
        for key in hits:
            self.rows[key] = stored(self.rows[key].model_copy(update=changes))
        return len(hits)


# --- roles and the catalog ------------------------------------------------------------------


class FakeKeyedRepository(Generic[E]):
    """As ``storage.repositories.keyed.KeyedRepository``: unique ``key`` (and, with
    ``ignore_case``, unique ignoring case, the exact key winning)."""

    def __init__(self, key: str, what: str, kind: Kind, *, ignore_case: bool = False) -> None:
        unique: list[tuple[tuple[str, ...], Callable[[E], tuple[object, ...] | None]]] = [
            ((key,), lambda item: (getattr(item, key),))
        ]
        if ignore_case:
            unique.append(((f"{key}_folded",), lambda item: (folded(getattr(item, key)),)))
        self.table: Table[E] = Table(what, unique)
        self._key = key
        self._kind = kind
        self._ignore_case = ignore_case

    async def add(self, item: E) -> E:
        self.table.insert(item, item.id)
        return item

    async def get(self, key: str) -> E:
        key = str(key)
        exact = self.table.find(lambda r: getattr(r, self._key) == key)
        found = exact or (
            self.table.find(lambda r: folded(getattr(r, self._key)) == folded(key))
            if self._ignore_case
            else []
        )
        if not found:
            raise NotFound(
                f"No {self.table.what} '{key.strip()}'.",
                kind=self._kind,
                fields={self._key: "Unknown"},
            )
        return found[0]

    async def all(self) -> list[E]:
        return sorted(self.table.find(lambda r: True), key=lambda r: getattr(r, self._key))

    async def all_with(self, other: KeyedRepository[T]) -> tuple[list[E], list[T]]:
        return await self.all(), await other.all()

    async def get_many(self, ids: Sequence[str]) -> list[E]:
        wanted = set()
        for i in ids:
            found = oid(i)
            if found is None:
                raise NotFound(f"No {self.table.what} with id '{i}'.", kind=self._kind)
            wanted.add(found)
        return self.table.find(lambda r: r.id in wanted)


# --- users ----------------------------------------------------------------------------------


def _slack_key(user: User) -> tuple[object, ...] | None:
    return None if user.slack is None else (user.slack.team_id, user.slack.user_id)


class FakeUserRepository:
    """As ``storage.repositories.users.UserRepository``: unique username (also ignoring
    case), email and Slack identity."""

    def __init__(self) -> None:
        self.table: Table[User] = Table(
            "user",
            [
                (("username",), lambda u: (u.username,)),
                (("username_folded",), lambda u: (folded(u.username),)),
                (("email",), lambda u: (u.email,)),
                (("slack.team_id", "slack.user_id"), _slack_key),
            ],
        )

    async def add(self, user: User) -> User:
        self.table.insert(user, user.id)
        return user

    async def get(self, user_id: str) -> User:
        found = oid(user_id)
        if found is None:
            raise NotFound(f"No user with id '{user_id}'.", kind=Kind.USER)
        return self._found(self.table.find(lambda u: u.id == found), user_id)

    async def get_by_username(self, username: str) -> User:
        name = str(username).strip()
        exact = self.table.find(lambda u: u.username == name)
        return self._found(
            exact or self.table.find(lambda u: folded(u.username) == folded(name)), name
        )

    async def usernames(self, *, limit: int) -> list[str]:
        return limited(sorted(u.username for u in self.table.rows.values()), limit)

    async def get_many(self, user_ids: Sequence[str]) -> list[User]:
        wanted = {found for u in user_ids if (found := oid(u)) is not None}
        return self.table.find(lambda u: u.id in wanted)

    async def find_by_email(self, email: str) -> User | None:
        return next(iter(self.table.find(lambda u: u.email == str(email).lower())), None)

    async def find_by_slack(self, identity: SlackIdentity) -> User | None:
        key = (identity.team_id, identity.user_id)
        return next(iter(self.table.find(lambda u: _slack_key(u) == key)), None)

    async def all(self) -> list[User]:
        return sorted(self.table.find(lambda u: True), key=lambda u: u.username)

    async def list_with_roles(self, role_ids: Sequence[str]) -> list[User]:
        return self.table.find(lambda u: bool(set(u.role_ids) & set(role_ids)))

    async def add_role(
        self, user_id: str, role_id: str, *, caused: PendingEvents | None = None
    ) -> User:
        def add(user: User) -> dict[str, Any]:
            held = user.role_ids
            return {"role_ids": held if role_id in held else [*held, role_id]}

        return self._update(user_id, add, caused)

    async def remove_role(
        self, user_id: str, role_id: str, *, caused: PendingEvents | None = None
    ) -> User:
        return self._update(
            user_id, lambda u: {"role_ids": [r for r in u.role_ids if r != role_id]}, caused
        )

    async def set_slack(
        self, user_id: str, identity: SlackIdentity | None, *, caused: PendingEvents | None = None
    ) -> User:
        if identity is None:
            return self._update(user_id, lambda u: {"slack": None, "auto_link": False}, caused)
        key = (identity.team_id, identity.user_id)

        def link(user: User) -> dict[str, Any]:
            if any(_slack_key(u) == key and u.id != user.id for u in self.table.rows.values()):
                raise Duplicate(
                    f"Slack user {identity.user_id} (team {identity.team_id}) is already linked "
                    "to another portal user; unlink it there first.",
                    fields={"slack_user_id": "Already linked"},
                )
            return {"slack": identity, "auto_link": True}

        return self._update(user_id, link, caused)

    async def set_status(
        self, user_id: str, status: UserStatus, *, caused: PendingEvents | None = None
    ) -> User:
        return self._update(user_id, lambda u: {"status": status}, caused)

    async def clear_outbox(self, user_id: str, entry_ids: Sequence[str]) -> None:
        found = oid(user_id)
        current = self.table.rows.get(found) if found else None
        if found is not None and current is not None:
            kept = [e for e in current.outbox if e.id not in set(entry_ids)]
            self.table.rows[found] = current.model_copy(update={"outbox": kept})

    async def with_outbox(self, *, limit: int) -> list[User]:
        return limited(self.table.find(lambda u: bool(u.outbox)), limit)

    async def set_time_zone(
        self, user_id: str, time_zone: str | None, *, checked_at: datetime | None = None
    ) -> User:
        change: dict[str, Any] = {"time_zone": time_zone} if time_zone else {}
        if checked_at is not None:
            change["time_zone_checked_at"] = checked_at
        if not change:
            return await self.get(user_id)
        return self._update(user_id, lambda u: change)

    async def set_delegation(
        self, user_id: str, delegation: Delegation | None, *, caused: PendingEvents | None = None
    ) -> User:
        return self._update(user_id, lambda u: {"delegation": delegation}, caused)

    async def delegating_to(self, user_id: str, *, now: datetime) -> list[User]:
        def delegates(user: User) -> bool:
            delegation = user.active_delegation(now)
            return delegation is not None and delegation.delegate_user_id == user_id

        return sorted(self.table.find(delegates), key=lambda u: u.username)

    async def away(self, *, now: datetime) -> list[User]:
        def away(user: User) -> bool:
            return user.active_delegation(now) is not None

        return sorted(self.table.find(away), key=lambda u: u.username)

    def _update(
        self,
        user_id: str,
        change: Callable[[User], dict[str, Any]],
        caused: PendingEvents | None = None,
    ) -> User:
        found = oid(user_id)
        if found is None:  # as storage: this path's NotFound names no kind
            raise NotFound(f"No user with id '{user_id}'.")
        user = self.table.rows.get(found)
        if user is None:
            raise self._not_found(user_id)
        update = change(user)
        if caused is not None:  # the change and what it caused: one write
            update["outbox"] = [*user.outbox, caused]
        self.table.rows[found] = stored(user.model_copy(update=update))
        return self.table.rows[found].model_copy(deep=True)

    @staticmethod
    def _found(found: list[User], ref: str) -> User:
        if not found:
            raise FakeUserRepository._not_found(ref)
        return found[0]

    @staticmethod
    def _not_found(ref: str) -> NotFound:
        return NotFound(f"No user '{ref}'.", kind=Kind.USER, fields={"username": "Unknown"})


# --- releases and their timeline ------------------------------------------------------------


def _newest_first(release: Release) -> tuple[date, str]:
    return (release.release_date, release.id)


def _pending(release: Release) -> bool:
    return any(
        m.approval.status is ApprovalStatus.PENDING
        for p in release.products
        for g in p.quality_gates
        for m in g.milestones
    )


def _listed(release: Release) -> bool:
    """What lists show: not archived (read by reference, outbox and audit heads aside)."""
    return release.archived_at is None


def _listed_pending(release: Release) -> bool:
    return _listed(release) and _pending(release)


class FakeReleaseRepository:
    """As ``storage.repositories.releases.ReleaseRepository``: unique release_id (also
    ignoring case), newest release_date first (ties: newest id), saved with a version check;
    lists and date windows as release cards, searched by ``core.rules.search``."""

    def __init__(self) -> None:
        self.table: Table[Release] = Table(
            "release",
            [
                (("release_id",), lambda r: (r.release_id,)),
                (("release_id_folded",), lambda r: (folded(r.release_id),)),
            ],
        )

    async def add(self, release: Release) -> Release:
        self.table.insert(release, release.id)
        return release

    async def get(self, ref: str, *, with_outbox: bool = True) -> Release:
        found = await self._get(ref)
        return found if with_outbox else found.model_copy(update={"outbox": []})

    async def _get(self, ref: str) -> Release:
        ref = str(ref).strip()
        by_id = oid(ref)
        found = self.table.find(
            lambda r: r.id == by_id or r.release_id == ref or folded(r.release_id) == folded(ref)
        )
        if not found:
            raise NotFound(
                f"No release '{ref}'.", kind=Kind.RELEASE, fields={"release_id": "Unknown release"}
            )
        return min(found, key=lambda r: folded(r.release_id))

    async def get_with_catalog(
        self, ref: str, *, squads: SquadRepository, applications: ApplicationRepository
    ) -> ReleaseWithCatalog:
        release = await self.get(ref)
        return ReleaseWithCatalog(release, *await squads.all_with(applications))

    async def recent_ids(self, *, squads: Sequence[str] | None, limit: int) -> list[str]:
        return [r.release_id for r in self._find(squads, _listed, limit)]

    async def audit_heads(
        self, *, squads: Sequence[str] | None, after: str | None, limit: int
    ) -> list[AuditHead]:
        found = sorted(
            (r for r in self._find(squads, lambda r: after is None or r.id > after, 0)),
            key=lambda r: r.id,
        )
        return [
            AuditHead(r.id, r.release_id, r.audit_seq, r.audit_head, list(r.outbox))
            for r in limited(found, limit)
        ]

    async def save(self, release: Release, *, added: Sequence[TimelineEvent] = ()) -> Release:
        current = self.table.rows.get(release.id)
        if current is None or current.version != release.version:
            raise StaleVersion(release.release_id)
        saved = release.model_copy(update={"version": release.version + 1})
        new = {entry.id for entry in added}
        outbox = [*current.outbox, *(e for e in release.outbox if e.id in new)]
        self.table.rows[release.id] = stored(saved.model_copy(update={"outbox": outbox}))
        return saved

    async def with_entries(self, release_oid: str, entry_ids: Sequence[str]) -> Release:
        found = await self._get(release_oid)
        kept = [e for e in found.outbox if e.id in set(entry_ids)]
        return found.model_copy(update={"outbox": kept})

    async def clear_outbox(self, release_oid: str, event_ids: Sequence[str]) -> None:
        current = self.table.rows.get(release_oid)
        if current is not None:  # not a version change, as $pull is not
            kept = [e for e in current.outbox if e.id not in set(event_ids)]
            self.table.rows[release_oid] = current.model_copy(update={"outbox": kept})

    async def with_outbox(self, *, limit: int) -> list[Release]:
        return limited(self.table.find(lambda r: bool(r.outbox)), limit)

    async def page(
        self,
        *,
        squads: Sequence[str] | None,
        query: str | None,
        after: ReleaseCursor | None,
        limit: int,
    ) -> list[ReleaseCard]:
        term = search_term(query)

        def match(r: Release) -> bool:
            if term and not matches(r, term):
                return False
            if not _listed(r):
                return False
            return after is None or _newest_first(r) < (after.release_date, after.id.lower())

        return [card_of(r) for r in self._find(squads, match, limit)]

    async def with_pending_approvals(self, *, squads: Sequence[str] | None) -> list[Release]:
        return self._find(squads, _listed_pending, 0)

    async def with_expired_approvals(self, *, now: datetime) -> list[Release]:
        def due(release: Release) -> bool:
            return any(r.milestone.approval.ran_out(now) for r in milestone_refs(release))

        return self._find(None, lambda r: _listed_pending(r) and due(r), 0)

    async def home(self, *, squads: Sequence[str] | None, limit: int) -> HomeReleases:
        page = [card_of(r) for r in self._find(squads, _listed, limit)]
        return HomeReleases(pending=self._find(squads, _listed_pending, 0), page=page)

    async def dated_between(
        self, *, start: date, end: date, squads: Sequence[str] | None
    ) -> list[ReleaseCard]:
        return [
            card_of(r)
            for r in self._find(squads, lambda r: _listed(r) and start <= r.release_date <= end, 0)
        ]

    def _find(
        self, squads: Sequence[str] | None, match: Callable[[Release], bool], limit: int
    ) -> list[Release]:
        def visible(r: Release) -> bool:
            return squads is None or bool(set(r.squad_ids) & set(squads))

        found = self.table.find(lambda r: visible(r) and match(r))
        return limited(sorted(found, key=_newest_first, reverse=True), limit)


class FakeTimelineRepository:
    """As ``storage.repositories.timeline.TimelineRepository``: newest first per release."""

    def __init__(self) -> None:
        self.table: Table[TimelineEvent] = Table("event")

    async def append(self, events: Sequence[TimelineEvent]) -> None:
        for event in events:  # by id, once: an outbox delivered twice stores it once
            if event.id not in self.table.rows:
                self.table.insert(event, event.id)

    async def for_release(self, release_oid: str, *, limit: int) -> list[TimelineEvent]:
        found = self.table.find(lambda e: e.release_oid == release_oid)
        return limited(sorted(found, key=lambda e: (e.at, e.id), reverse=True), limit)

    async def chained(
        self, release_oids: Sequence[str], *, since: datetime | None, until: datetime | None
    ) -> list[TimelineEvent]:
        wanted = set(release_oids)

        def kept(e: TimelineEvent) -> bool:
            in_time = (since is None or e.at >= since) and (until is None or e.at < until)
            return e.release_oid in wanted and in_time

        found = self.table.find(kept)
        return sorted(found, key=lambda e: (e.release_oid, e.seq, e.at, e.id))


# --- attachments ----------------------------------------------------------------------------


class FakeAttachmentRepository:
    """As ``storage.repositories.attachments.AttachmentRepository``: unique sha256."""

    def __init__(self) -> None:
        self.table: Table[Attachment] = Table("attachment", [(("sha256",), lambda a: (a.sha256,))])

    async def add(self, attachment: Attachment) -> Attachment:
        try:
            self.table.insert(attachment, attachment.id)
        except Duplicate:
            raise Duplicate(
                f"A file with sha256 {attachment.sha256[:12]}… is already registered; "
                "link the existing attachment instead.",
                fields={"sha256": "Already registered"},
            ) from None
        return attachment

    async def get(self, attachment_id: str) -> Attachment:
        return self._stored(attachment_id).model_copy(deep=True)

    async def find_by_sha256(self, sha256: str) -> Attachment | None:
        wanted = str(sha256).lower()
        return next(iter(self.table.find(lambda a: a.sha256 == wanted)), None)

    async def add_link(self, attachment_id: str, target: AttachmentTarget) -> Attachment:
        attachment = self._stored(attachment_id)
        if target not in attachment.links:
            links = [*attachment.links, target]
            self.table.rows[attachment.id] = stored(attachment.model_copy(update={"links": links}))
        return await self.get(attachment_id)

    def _stored(self, attachment_id: str) -> Attachment:
        found = self.table.rows.get(oid(attachment_id) or "")
        if found is None:
            raise NotFound(f"No attachment with id '{attachment_id}'.", kind=Kind.ATTACHMENT)
        return found


# --- approval messages, claims, digest subscriptions and snoozes ----------------------------


class FakeApprovalMessageRepository:
    def __init__(self) -> None:
        self.messages: list[ApprovalMessage] = []

    async def record(self, message: ApprovalMessage) -> None:
        copy = (message.approval_key, message.channel, message.ts)
        if all((m.approval_key, m.channel, m.ts) != copy for m in self.messages):
            self.messages.append(stored(message))

    async def for_approval(self, approval_key: str) -> list[ApprovalMessage]:
        return [m.model_copy() for m in self.messages if m.approval_key == approval_key]

    async def purge(self, *, before: datetime) -> int:
        kept = [m for m in self.messages if m.sent_at >= before]
        purged, self.messages = len(self.messages) - len(kept), kept
        return purged


class Claim(BaseModel):
    key: str
    owner: str
    claimed_at: datetime
    first_at: datetime | None = None
    expires_at: datetime
    done: bool = False
    done_at: datetime | None = None


class FakeClaimRepository:
    """As ``storage.repositories.notifications.ClaimRepository``: the first claim wins; an
    expired unfinished one may be taken over; only its owner completes or releases it; one
    let go unsure (``maybe_done``) tells the next taker when the first attempt began. Times
    are ``clock``'s (the database's) when set, else the caller's ``now``."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.claims: dict[str, Claim] = {}
        self.clock = clock

    def _now(self, now: datetime | None) -> datetime:
        when = self.clock() if self.clock is not None else now or datetime.now(UTC)
        stored_at: datetime = as_stored(when)
        return stored_at

    async def now(self) -> datetime:
        return self._now(None)

    async def claim(
        self, key: str, *, now: datetime | None = None, ttl: timedelta, owner: str = ""
    ) -> bool:
        return await self.take(key, now=now, ttl=ttl, owner=owner) is not None

    async def take(
        self, key: str, *, ttl: timedelta, owner: str = "", now: datetime | None = None
    ) -> Taken | None:
        now = self._now(now)
        held = self.claims.get(key)
        if held is not None and (held.done or held.expires_at > now):
            return None
        update = {"owner": owner, "claimed_at": now, "expires_at": as_stored(now + ttl)}
        if held is None:
            self.claims[key] = Claim(key=key, first_at=now, **update)
            return Taken()
        self.claims[key] = held.model_copy(update=update)
        return Taken(held.first_at or held.claimed_at)

    async def complete(self, key: str, *, now: datetime | None = None, owner: str = "") -> bool:
        held = self.claims.get(key)
        if held is None or held.owner != owner or held.done:
            return False
        self.claims[key] = held.model_copy(update={"done": True, "done_at": self._now(now)})
        return True

    async def release(self, key: str, *, owner: str = "", maybe_done: bool = False) -> None:
        held = self.claims.get(key)
        if held is None or held.owner != owner or held.done:
            return
        if maybe_done:
            self.claims[key] = held.model_copy(update={"expires_at": self._now(None)})
        else:
            del self.claims[key]

    async def finished(self, key: str) -> bool:
        held = self.claims.get(key)
        return held is not None and held.done

    async def purge(self, *, before: datetime, done_before: datetime) -> int:
        before, done_before = as_stored(before), as_stored(done_before)
        gone = [
            c.key
            for c in self.claims.values()
            if (not c.done and c.expires_at < before)
            or (c.done and c.done_at is not None and c.done_at < done_before)
        ]
        for key in gone:
            del self.claims[key]
        return len(gone)


class FakeSubscriptionRepository:
    """As ``storage.repositories.notifications.SubscriptionRepository``: one per target."""

    def __init__(self) -> None:
        self.subscriptions: dict[str, DigestSubscription] = {}

    async def upsert(self, subscription: DigestSubscription) -> DigestSubscription:
        held = self.subscriptions.get(subscription.target)
        kept_id = subscription.id if held is None else held.id
        self.subscriptions[subscription.target] = stored(
            subscription.model_copy(update={"id": kept_id})
        )
        return self.subscriptions[subscription.target].model_copy()

    async def find(self, target: str) -> DigestSubscription | None:
        held = self.subscriptions.get(target)
        return None if held is None else held.model_copy()

    async def remove(self, target: str) -> bool:
        return self.subscriptions.pop(target, None) is not None

    async def all(self) -> list[DigestSubscription]:
        return [s.model_copy() for s in self.subscriptions.values()]

    async def pause(self, target: str, *, reason: str, at: datetime) -> DigestSubscription | None:
        held = self.subscriptions.get(target)
        if held is None or not held.enabled or held.created_at > as_stored(at):
            return None
        change = {"enabled": False, "paused_reason": reason, "paused_at": at}
        self.subscriptions[target] = stored(held.model_copy(update=change))
        return self.subscriptions[target].model_copy()


class FakeSnoozeRepository:
    def __init__(self) -> None:
        self.snoozes: dict[tuple[str, str], Snooze] = {}

    async def snooze(self, snooze: Snooze) -> None:
        self.snoozes[(snooze.user_id, snooze.approval_key)] = stored(snooze)

    async def active(self, *, now: datetime) -> list[Snooze]:
        return [s.model_copy() for s in self.snoozes.values() if s.until > as_stored(now)]


# --- API tokens and sign-in attempts --------------------------------------------------------


class FakeApiTokenRepository:
    """As ``storage.repositories.api_tokens.ApiTokenRepository``: lists without hashes."""

    def __init__(self) -> None:
        self.table: Table[StoredApiToken] = Table("API token")

    async def add(self, token: StoredApiToken) -> StoredApiToken:
        self.table.insert(token, token.id)
        return token

    async def get(self, token_id: str) -> StoredApiToken:
        return self._stored(token_id).model_copy(deep=True)

    async def for_user(self, user_id: str) -> list[ApiToken]:
        mine = self.table.find(lambda t: t.user_id == user_id)
        return [t.public() for t in sorted(mine, key=lambda t: t.id, reverse=True)]

    async def revoke(self, token_id: str, *, at: datetime) -> ApiToken:
        token = self._stored(token_id)
        if token.revoked_at is None:
            token = stored(token.model_copy(update={"revoked_at": at}))
            self.table.rows[token.id] = token
        return token.public()

    async def touch(self, token_id: str, *, at: datetime) -> None:
        token = self.table.rows.get(oid(token_id) or "")
        if token is not None:
            self.table.rows[token.id] = stored(token.model_copy(update={"last_used_at": at}))

    async def purge(self, *, ended_before: datetime) -> int:
        before = as_stored(ended_before)

        def ended(t: StoredApiToken) -> bool:
            return t.expires_at < before or (t.revoked_at is not None and t.revoked_at < before)

        return _delete(self.table.rows, ended)

    def _stored(self, token_id: str) -> StoredApiToken:
        found = self.table.rows.get(oid(token_id) or "")
        if found is None:
            raise NotFound(
                f"No API token with id '{token_id}'.", fields={"token_id": "Unknown token"}
            )
        return found


class FakeLoginAttemptRepository:
    """As ``storage.repositories.login_attempts.LoginAttemptRepository``."""

    def __init__(self) -> None:
        self.attempts: dict[str, LoginAttempts] = {}

    async def count(self, key: str, *, now: datetime, window: timedelta) -> LoginAttempts:
        now = as_stored(now)
        held = self.attempts.get(key)
        if held is not None and held.expires_at > now:
            counted = held.model_copy(update={"count": held.count + 1})
        else:
            counted = LoginAttempts(key=key, count=1, expires_at=now + window)
        self.attempts[key] = stored(counted)
        return self.attempts[key].model_copy()

    async def clear(self, key: str) -> None:
        self.attempts.pop(key, None)


# --- Idempotency-Keys -----------------------------------------------------------------------


class FakeIdempotencyRepository:
    """As ``storage.repositories.idempotency.IdempotencyRepository``: one claim per key; an
    unfinished claim made before ``stale_before`` may be taken over; only the claim made at
    ``claimed_at`` keeps its answer or lets go. Keys are forgotten here only by ``purge``
    (MongoDB's TTL index also forgets them a day after use, by the wall clock)."""

    def __init__(self) -> None:
        self.keys: dict[str, IdempotentRequest] = {}

    async def claim(
        self, request: IdempotentRequest, *, stale_before: datetime
    ) -> IdempotentRequest | None:
        held = self.keys.get(request.key)
        if held is None or (held.answer is None and held.claimed_at < as_stored(stale_before)):
            self.keys[request.key] = stored(request.model_copy(update={"answer": None}))
            return None
        return held.model_copy(deep=True)

    async def finish(self, key: str, *, claimed_at: datetime, answer: StoredAnswer) -> None:
        held = self._unfinished(key, claimed_at)
        if held is not None:
            self.keys[key] = stored(held.model_copy(update={"answer": answer}))

    async def release(self, key: str, *, claimed_at: datetime) -> None:
        if self._unfinished(key, claimed_at) is not None:
            del self.keys[key]

    async def purge(self, *, before: datetime) -> int:
        cut = as_stored(before)
        return _delete(self.keys, lambda k: k.claimed_at < cut)

    def _unfinished(self, key: str, claimed_at: datetime) -> IdempotentRequest | None:
        held = self.keys.get(key)
        if held is None or held.answer is not None or held.claimed_at != as_stored(claimed_at):
            return None
        return held


# --- outbound webhooks ----------------------------------------------------------------------


class FakeWebhookRepository:
    """As ``storage.repositories.webhooks.WebhookRepository``: hooks listed newest first
    without their secrets; one delivery per ``key``; due deliveries soonest first."""

    def __init__(self) -> None:
        self.hook_table: Table[StoredWebhook] = Table("webhook")
        self.delivery_table: Table[WebhookDelivery] = Table(
            "webhook delivery", [(("key",), lambda d: (d.key,))]
        )

    async def add(self, hook: StoredWebhook) -> StoredWebhook:
        self.hook_table.insert(hook, hook.id)
        return hook

    async def get(self, hook_id: str) -> StoredWebhook:
        found = oid(hook_id)
        if found is None:  # as storage: an id that is none names no field
            raise NotFound(f"No webhook with id '{hook_id}'.")
        hook = self.hook_table.rows.get(found)
        if hook is None:
            raise NotFound(f"No webhook with id '{hook_id}'.", fields={"id": "Unknown webhook"})
        return hook.model_copy(deep=True)

    async def for_user(self, user_id: str) -> list[Webhook]:
        mine = self.hook_table.find(lambda h: h.user_id == user_id)
        return [h.public() for h in sorted(mine, key=lambda h: h.id, reverse=True)]

    async def subscribed(self, events: Sequence[WebhookEvent]) -> list[StoredWebhook]:
        wanted = set(events)
        return self.hook_table.find(lambda h: bool(wanted & set(h.events)))

    async def replace_secret(self, hook_id: str, *, was: str, now: str) -> bool:
        hook = self.hook_table.rows.get(hook_id)
        if hook is None or hook.secret_encrypted != was:
            return False
        self.hook_table.rows[hook_id] = hook.model_copy(update={"secret_encrypted": now})
        return True

    async def remove(self, hook_id: str) -> bool:
        found = oid(hook_id)
        if found is None:
            return False
        removed = self.hook_table.rows.pop(found, None) is not None
        rows = self.delivery_table.rows
        for delivery_id in [i for i, d in rows.items() if d.hook_id == hook_id]:
            del rows[delivery_id]
        return removed

    async def add_delivery(self, delivery: WebhookDelivery) -> bool:
        try:
            self.delivery_table.insert(delivery, delivery.id)
        except Duplicate:  # stored already, by an earlier run of the same reaction
            return False
        return True

    async def delivery(self, delivery_id: str) -> WebhookDelivery | None:
        found = self.delivery_table.rows.get(oid(delivery_id) or "")
        return None if found is None else found.model_copy(deep=True)

    async def due(self, *, now: datetime, limit: int) -> list[WebhookDelivery]:
        now = as_stored(now)

        def due_now(d: WebhookDelivery) -> bool:
            at = d.next_attempt_at
            return d.status is DeliveryStatus.PENDING and at is not None and at <= now

        found = self.delivery_table.find(due_now)
        return limited(sorted(found, key=lambda d: (d.next_attempt_at or now, d.id)), limit)

    async def deliveries(self, hook_id: str, *, limit: int) -> list[WebhookDelivery]:
        found = self.delivery_table.find(lambda d: d.hook_id == hook_id)
        return limited(sorted(found, key=lambda d: d.id, reverse=True), limit)

    async def record_attempt(
        self,
        delivery_id: str,
        attempt: DeliveryAttempt,
        *,
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
    ) -> None:
        found = oid(delivery_id)
        if found is None:
            raise NotFound(f"No delivery with id '{delivery_id}'.")
        held = self.delivery_table.rows.get(found)
        if held is None:  # as an update of no document: nothing happens
            return
        change = {
            "attempts": [*held.attempts, attempt],
            "status": status,
            "next_attempt_at": next_attempt_at,
            "delivered_at": attempt.at if status is DeliveryStatus.DELIVERED else None,
        }
        self.delivery_table.rows[found] = stored(held.model_copy(update=change))

    async def purge_deliveries(self, *, before: datetime) -> int:
        cut = as_stored(before)

        def over(d: WebhookDelivery) -> bool:
            return d.status is not DeliveryStatus.PENDING and d.created_at < cut

        return _delete(self.delivery_table.rows, over)


# --- freeze windows --------------------------------------------------------------------------


class FakeFreezeRepository:
    """As ``storage.repositories.freezes.FreezeRepository``: open windows the first to start
    first; ending one is conditional on its not being ended already."""

    def __init__(self) -> None:
        self.table: Table[FreezeWindow] = Table("freeze window")

    async def add(self, window: FreezeWindow) -> FreezeWindow:
        self.table.insert(window, window.id)
        return window

    async def get(self, freeze_id: str) -> FreezeWindow:
        found = oid(freeze_id)
        if found is None:  # as storage: an id that is none names no field
            raise NotFound(f"No freeze window with id '{freeze_id}'.")
        window = self.table.rows.get(found)
        if window is None:
            raise NotFound(
                f"No freeze window with id '{freeze_id}'.", fields={"id": "Unknown freeze window"}
            )
        return window.model_copy(deep=True)

    async def list_open(self, *, now: datetime) -> list[FreezeWindow]:
        now = as_stored(now)
        found = self.table.find(lambda w: w.ended_at is None and w.ends_at > now)
        return sorted(found, key=lambda w: (w.starts_at, w.id))

    async def end(self, freeze_id: str, *, ended_at: datetime, ended_by: str) -> bool:
        found = oid(freeze_id)
        held = self.table.rows.get(found or "")
        if found is None or held is None or held.ended_at is not None:
            return False
        change = {"ended_at": ended_at, "ended_by": ended_by}
        self.table.rows[found] = stored(held.model_copy(update=change))
        return True


# --- invitations ----------------------------------------------------------------------------


class FakeInvitationRepository:
    """As ``storage.repositories.invitations.InvitationRepository``: newest first; accepting
    or revoking one is conditional on its being open still."""

    def __init__(self) -> None:
        self.table: Table[Invitation] = Table("invitation")

    async def add(self, invitation: Invitation) -> Invitation:
        self.table.insert(invitation, invitation.id)
        return invitation

    async def get(self, invitation_id: str) -> Invitation:
        found = oid(invitation_id)
        if found is None:  # as storage: an id that is none names no field
            raise NotFound(f"No invitation with id '{invitation_id}'.")
        held = self.table.rows.get(found)
        if held is None:
            raise NotFound(
                f"No invitation with id '{invitation_id}'.", fields={"id": "Unknown invitation"}
            )
        return held.model_copy(deep=True)

    async def find_open(self, email: str, *, now: datetime) -> Invitation | None:
        now = as_stored(now)
        found = self.table.find(lambda i: i.email == email.lower() and i.open_at(now))
        return max(found, key=lambda i: i.id) if found else None

    async def all(self, *, limit: int) -> list[Invitation]:
        return limited(
            sorted(self.table.find(lambda i: True), key=lambda i: i.id, reverse=True), limit
        )

    async def accept(self, invitation_id: str, *, user_id: str, now: datetime) -> bool:
        change = {
            "state": InvitationStatus.ACCEPTED,
            "accepted_at": now,
            "accepted_user_id": user_id,
        }
        return self._close(invitation_id, now, change)

    async def revoke(self, invitation_id: str, *, by: str, now: datetime) -> bool:
        change = {"state": InvitationStatus.REVOKED, "revoked_at": now, "revoked_by_username": by}
        return self._close(invitation_id, now, change)

    def _close(self, invitation_id: str, now: datetime, change: dict[str, Any]) -> bool:
        found = oid(invitation_id)
        held = self.table.rows.get(found or "")
        if found is None or held is None or not held.open_at(as_stored(now)):
            return False
        self.table.rows[found] = stored(held.model_copy(update=change))
        return True

    async def purge(self, *, ended_before: datetime) -> int:
        before = as_stored(ended_before)

        def ended(i: Invitation) -> bool:
            end = i.ended_at()
            return end is not None and end < before

        return _delete(self.table.rows, ended)


# --- all of them ----------------------------------------------------------------------------


class FakeDatabase:
    """One fake of every repository, and what they store, by the adapters' collection names
    (``storage.wiring``), for tests that look at stored state."""

    def __init__(self) -> None:
        self.roles: FakeKeyedRepository[Role] = FakeKeyedRepository(
            "role_name", "role", Kind.ROLE, ignore_case=True
        )
        self.users = FakeUserRepository()
        self.applications: FakeKeyedRepository[Application] = FakeKeyedRepository(
            "application_id", "application", Kind.APPLICATION
        )
        self.squads: FakeKeyedRepository[Squad] = FakeKeyedRepository(
            "squad_id", "squad", Kind.SQUAD
        )
        self.boards: FakeKeyedRepository[JiraBoard] = FakeKeyedRepository(
            "board_id", "Jira board", Kind.BOARD
        )
        self.releases = FakeReleaseRepository()
        self.attachments = FakeAttachmentRepository()
        self.timeline = FakeTimelineRepository()
        self.approval_messages = FakeApprovalMessageRepository()
        self.claims = FakeClaimRepository()
        self.subscriptions = FakeSubscriptionRepository()
        self.snoozes = FakeSnoozeRepository()
        self.api_tokens = FakeApiTokenRepository()
        self.login_attempts = FakeLoginAttemptRepository()
        self.idempotency_keys = FakeIdempotencyRepository()
        self.webhooks = FakeWebhookRepository()
        self.freezes = FakeFreezeRepository()
        self.invitations = FakeInvitationRepository()
        self._tables: dict[str, Table[Any]] = {
            "roles": self.roles.table,
            "users": self.users.table,
            "applications": self.applications.table,
            "squads": self.squads.table,
            "jiraboards": self.boards.table,
            "releases": self.releases.table,
            "attachments": self.attachments.table,
            "events": self.timeline.table,
            "api_tokens": self.api_tokens.table,
            "webhooks": self.webhooks.hook_table,
            "webhook_deliveries": self.webhooks.delivery_table,
            "freezes": self.freezes.table,
            "invitations": self.invitations.table,
        }

    def repositories(self) -> Repositories:
        return Repositories(
            roles=self.roles,
            users=self.users,
            applications=self.applications,
            squads=self.squads,
            boards=self.boards,
            releases=self.releases,
            attachments=self.attachments,
            timeline=self.timeline,
            approval_messages=self.approval_messages,
            claims=self.claims,
            subscriptions=self.subscriptions,
            snoozes=self.snoozes,
            api_tokens=self.api_tokens,
            login_attempts=self.login_attempts,
            idempotency_keys=self.idempotency_keys,
            webhooks=self.webhooks,
            freezes=self.freezes,
            invitations=self.invitations,
        )

    def documents(self, collection: str) -> list[dict[str, Any]]:
        """What ``collection`` holds, as plain dicts (ids under ``id``), in stored order."""
        if collection in self._tables:
            return self._tables[collection].documents()
        rows: Iterable[BaseModel] = {
            "approval_messages": self.approval_messages.messages,
            "claims": self.claims.claims.values(),
            "digest_subscriptions": self.subscriptions.subscriptions.values(),
            "snoozes": self.snoozes.snoozes.values(),
            "login_attempts": self.login_attempts.attempts.values(),
            "idempotency_keys": self.idempotency_keys.keys.values(),
        }[collection]
        return [r.model_dump() for r in rows]

    def edit(self, collection: str, match: dict[str, Any], changes: dict[str, Any]) -> int:
        """Set ``changes`` on the items whose fields equal ``match``: a raw write behind the
        repositories' back, as a test does with ``update_many`` on MongoDB."""

        def matches(item: BaseModel) -> bool:
            return all(getattr(item, k) == v for k, v in match.items())

        return self._tables[collection].edit(matches, changes)
