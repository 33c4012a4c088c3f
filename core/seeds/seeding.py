"""What the seeds share: the report, get-or-create, dates relative to today, roles.

Seeding is a system bootstrap without an acting user, so it writes through the
repositories (the core's ports, not the permission-checked services) and is idempotent:
every document is looked up by its unique key first and only added when missing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

from core.clock import utc_now
from core.errors import Duplicate, NotFound
from core.models.rbac import Permission, Role, User
from core.models.release import Release
from core.models.timeline import EventActor, TimelineEvent
from core.rules import audit
from core.services.container import Repositories

T = TypeVar("T")

ADMIN = "Admin"
RELEASE_MANAGER = "Release Manager"
APPROVAL_MANAGER = "Approval Manager"
SQUAD_MEMBER = "Squad Member"

ROLE_FLAGS: dict[str, frozenset[Permission]] = {
    ADMIN: frozenset(Permission),
    RELEASE_MANAGER: frozenset(Permission)
    - {Permission.IS_APPROVAL_MANAGER, Permission.CAN_MANAGE_ROLES},
    APPROVAL_MANAGER: frozenset({Permission.IS_APPROVAL_MANAGER, Permission.CAN_VIEW_ALL}),
    SQUAD_MEMBER: frozenset(),
}
ROLE_DESCRIPTIONS: dict[str, str] = {
    ADMIN: "Everything, including roles, links and the catalog",
    RELEASE_MANAGER: "Creates and runs releases, gates, runbooks and fixed versions",
    APPROVAL_MANAGER: "Signs off milestones and waives gates",
    SQUAD_MEMBER: "Sees the releases of their squads",
}


@dataclass
class SeedReport:
    """How many documents of each kind the seed created and how many already existed."""

    title: str
    created: dict[str, int] = field(default_factory=dict)
    existing: dict[str, int] = field(default_factory=dict)

    def record(self, kind: str, *, created: bool) -> None:
        self.created.setdefault(kind, 0)
        self.existing.setdefault(kind, 0)
        bucket = self.created if created else self.existing
        bucket[kind] += 1

    @property
    def created_total(self) -> int:
        return sum(self.created.values())

    @property
    def existing_total(self) -> int:
        return sum(self.existing.values())

    def __str__(self) -> str:
        width = max((len(kind) for kind in self.created), default=0)
        rows = [
            f"  {kind:<{width}}  created {self.created[kind]}, existing {self.existing[kind]}"
            for kind in self.created
        ]
        return "\n".join([f"{self.title}:", *rows])


@dataclass(frozen=True)
class Schedule:
    """The seed's notion of now; every seeded date is relative to ``today``.

    Given a day, "now" is its start, so seeded creation times never lie in the future.
    """

    today: date
    now: datetime

    @classmethod
    def starting(cls, today: date | None) -> Schedule:
        if today is None:
            now = utc_now()
            return cls(now.date(), now)
        return cls(today, datetime.combine(today, time(0, 0), tzinfo=UTC))

    def day(self, offset: int) -> date:
        return self.today + timedelta(days=offset)

    def at(self, offset: int, hour: int = 9) -> datetime:
        return datetime.combine(self.day(offset), time(hour, 0), tzinfo=UTC)


async def get_or_add(
    report: SeedReport,
    kind: str,
    find: Callable[[], Awaitable[T]],
    build: Callable[[], T],
    add: Callable[[T], Awaitable[T]],
) -> T:
    """The stored item if ``find`` finds it, else the built one, added. Records which."""
    try:
        item = await find()
    except NotFound:
        try:
            item = await add(build())
        except Duplicate:  # another seeder added it in between
            item = await find()
        else:
            report.record(kind, created=True)
            return item
    report.record(kind, created=False)
    return item


async def ensure_role(repos: Repositories, report: SeedReport, name: str, now: datetime) -> Role:
    def build() -> Role:
        flags = {p.value: p in ROLE_FLAGS[name] for p in Permission}
        return Role.model_validate(
            {"role_name": name, "description": ROLE_DESCRIPTIONS[name], "created_at": now, **flags}
        )

    return await get_or_add(report, "roles", lambda: repos.roles.get(name), build, repos.roles.add)


async def ensure_user(
    repos: Repositories,
    report: SeedReport,
    build: Callable[[], User],
    username: str,
) -> User:
    return await get_or_add(
        report, "users", lambda: repos.users.get_by_username(username), build, repos.users.add
    )


async def ensure_release(
    repos: Repositories,
    report: SeedReport,
    release_id: str,
    build: Callable[[], Release],
    creator: User,
) -> Release:
    """Get-or-create a release; a new one gets its "release.created" timeline event."""

    async def add(release: Release) -> Release:
        created = audit.chain(release, created_event(release, creator))  # the chain's first
        saved = await repos.releases.add(release)
        await repos.timeline.append([created])
        return saved

    return await get_or_add(report, "releases", lambda: repos.releases.get(release_id), build, add)


def created_event(release: Release, creator: User) -> TimelineEvent:
    return TimelineEvent(
        release_oid=release.id,
        release_id=release.release_id,
        actor=EventActor(user_id=creator.id, username=creator.username),
        action="release.created",
        after={"release_name": release.release_name},
        comment="Seeded",
        at=release.created_at,
    )
