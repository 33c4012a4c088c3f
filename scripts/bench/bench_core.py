"""Core benchmark: readiness summary, release listing and round trips per service operation.

    python -m scripts.bench.bench_core            # full run (about 40 s on 2 cores)
    python -m scripts.bench.bench_core --quick    # short run (about 12 s)
    MONGO_URI=mongodb://localhost:27017 python -m scripts.bench.bench_core   # or --uri

A benchmark, not a test: it prints tables and exits 0 even when something is over target.
The embedded engine (``mongomock://``) is pure Python, so its timings show the cost of our
own code plus an in-process engine, not of a network; the round-trip counts hold anywhere.
That engine copies every matching document before it sorts and limits, so a page of the
release list costs in proportion to the releases that match, not to the page size.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import math
import os
import platform
import random
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from typing import Any, Protocol, TypeVar

import bson

from core.errors import DomainError, PermissionDenied
from core.models.catalog import ApplicationDraft, Product
from core.models.rbac import Permission, Role, SlackIdentity, User
from core.models.release import (
    ApprovalStatus,
    Decision,
    Environment,
    GateStatus,
    Milestone,
    MilestoneApproval,
    MilestoneStatus,
    QualityGate,
    Release,
    ReleaseDraft,
    ReleaseProduct,
)
from core.rules.permissions import Actor
from core.rules.readiness import summarize
from core.services.container import Repositories, Services, build_services
from core.services.gates import GateChange, GateDraft, MilestoneDraft
from storage.codec import from_document, to_document
from storage.engine import Database, Document, connect, is_embedded
from storage.indexes import ensure_indexes
from storage.instrumented import RoundTrips
from storage.repositories.releases import NEWEST_FIRST
from storage.wiring import open_repositories

EMBEDDED_URI = "mongomock://"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SEED = 20261201

# a. The big release of /release status.
PRODUCTS, GATES, MILESTONES = 20, 8, 6
GATE_NAMES = (
    "Unit tests",
    "Integration tests",
    "Security scan",
    "Performance",
    "Accessibility",
    "UAT sign-off",
    "Change approval",
    "Go-live check",
)
ENVIRONMENTS = (Environment.DEV, Environment.UAT, Environment.STAGE, Environment.PROD)
GATE_MIX = (
    (GateStatus.PASSED, 45),
    (GateStatus.IN_PROGRESS, 25),
    (GateStatus.NOT_STARTED, 20),
    (GateStatus.WAIVED, 4),
    (GateStatus.BLOCKED, 4),
    (GateStatus.FAILED, 2),
)
SUMMARY_TARGET_MS = 5.0

# b. Listing.
LISTED_RELEASES = 5_000
PAGE_SIZE = 20
SQUADS = tuple(f"squad-{n:02d}" for n in range(10))
TRAINS = ("Payments", "Cards", "Lending", "Onboarding", "Mobile", "Ledger", "Fraud", "Core")
LISTED_SHAPE = (1, 2, 2)  # products, gates per product, milestones per gate
HEADER_PROJECTION = {"release_id": 1, "release_name": 1, "release_date": 1, "squad_ids": 1}
SEARCH = "march"  # matches release names "… March 2027", ignoring case

# c. Round-trip budgets per service operation.
REL = "REL-2026.12"
APP = "app-payments"


@dataclass(frozen=True)
class Config:
    summary_iterations: int
    load_iterations: int
    pages: int
    walks: int
    adds: int


FULL = Config(summary_iterations=3_000, load_iterations=100, pages=5, walks=2, adds=20)
QUICK = Config(summary_iterations=400, load_iterations=20, pages=3, walks=1, adds=5)


# ---------------------------------------------------------------------------- measuring


def exit_code(misses: Sequence[str]) -> int:
    """Print the targets missed (exit code 1) or that every target was met (0)."""
    if misses:
        print("\nTargets missed:")
        for miss in misses:
            print(f"  - {miss}")
        return 1
    print("\nEvery target met.")
    return 0


class Judged(Protocol):
    def misses(self) -> list[str]: ...


A = TypeVar("A")
R = TypeVar("R", bound=Judged)


def run_and_report(
    args: A,
    print_environment: Callable[[A], None],
    bench: Callable[[A], Coroutine[Any, Any, R]],
    print_report: Callable[[R], None],
) -> int:
    """A benchmark's main: its environment, the bench run, its report; the exit code says
    whether every target was met."""
    logging.basicConfig(level=logging.WARNING)
    print_environment(args)
    report = asyncio.run(bench(args))
    print_report(report)
    return exit_code(report.misses())


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class Timing:
    samples_ns: list[int]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ns) / 1e6

    @property
    def p95_ms(self) -> float:
        return percentile(self.samples_ns, 95) / 1e6


def time_sync(work: Callable[[], object], iterations: int, warmup: int = 5) -> Timing:
    for _ in range(warmup):
        work()
    samples: list[int] = []
    for _ in range(iterations):
        start = time.perf_counter_ns()
        work()
        samples.append(time.perf_counter_ns() - start)
    return Timing(samples)


async def time_async(
    work: Callable[[], Awaitable[object]], iterations: int, warmup: int = 3
) -> Timing:
    for _ in range(warmup):
        await work()
    samples: list[int] = []
    for _ in range(iterations):
        start = time.perf_counter_ns()
        await work()
        samples.append(time.perf_counter_ns() - start)
    return Timing(samples)


def ms(value: float) -> str:
    return f"{value:.3f}"


def verdict(ok: bool) -> str:
    return "OK" if ok else "OVER"


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A plain-text table; the first column is left-aligned, numbers right-aligned."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(c).ljust(w) if i == 0 or not _numeric(str(c)) else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return " | ".join(parts).rstrip()

    print(f"\n{title}")
    print(line(header))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(line(row))


def _numeric(text: str) -> bool:
    return text.replace(".", "", 1).replace(",", "").isdigit()


# ------------------------------------------------------------------------- environment


@asynccontextmanager
async def database(uri: str) -> AsyncIterator[Database]:
    """A fresh database (a new in-memory engine, or a throw-away database on a server)."""
    name = f"releasebot_bench_{uuid.uuid4().hex[:10]}"
    client, db = connect(uri, name)
    try:
        yield db
    finally:
        await client.drop_database(name)
        client.close()


async def describe_engine(uri: str) -> str:
    if is_embedded(uri):
        return (
            f"embedded (mongomock {metadata.version('mongomock')}, "
            f"mongomock-motor {metadata.version('mongomock-motor')})"
        )
    async with database(uri) as db:
        info = await db.command("buildInfo")
    return f"MongoDB {info.get('version', '?')} via motor {metadata.version('motor')}"


async def print_environment(uri: str, quick: bool) -> None:
    print("releasebot core benchmark" + (" (--quick)" if quick else ""))
    print(f"python   {sys.version.split()[0]} ({platform.python_implementation()})")
    print(f"platform {platform.platform()}, {os.cpu_count()} CPUs")
    print(f"engine   {await describe_engine(uri)}")
    print(f"pydantic {metadata.version('pydantic')}, pymongo {metadata.version('pymongo')}")


# ------------------------------------------------------------------- a. readiness summary


def _weighted_status(rng: random.Random) -> GateStatus:
    statuses = [status for status, _ in GATE_MIX]
    return rng.choices(statuses, [weight for _, weight in GATE_MIX])[0]


def _milestone(rng: random.Random, gate: QualityGate, index: int, start: datetime) -> Milestone:
    """Milestones of a gate follow each other without overlapping; statuses fit the gate."""
    if gate.gate_status in (GateStatus.PASSED, GateStatus.WAIVED):
        status = MilestoneStatus.DONE
    elif gate.gate_status is GateStatus.NOT_STARTED:
        status = MilestoneStatus.NOT_STARTED
    else:
        status = rng.choice(
            (MilestoneStatus.DONE, MilestoneStatus.IN_PROGRESS, MilestoneStatus.NOT_STARTED)
        )
        if gate.gate_status is GateStatus.BLOCKED and index == 0:
            status = MilestoneStatus.BLOCKED
    approval = MilestoneApproval()
    if rng.random() < 0.35:
        decided = status is MilestoneStatus.DONE
        approval = MilestoneApproval(
            required=True,
            requires_approval_manager=rng.random() < 0.5,
            status=ApprovalStatus.APPROVED if decided else ApprovalStatus.PENDING,
            requested_at=start - timedelta(days=1),
            approver_user_id="approver" if decided else None,
            approved_at=start if decided else None,
        )
    return Milestone(
        milestone_key=f"m{index + 1}-{ENVIRONMENTS[index % 4].value}",
        milestone_name=f"{gate.gate_name} #{index + 1}",
        environment=ENVIRONMENTS[index % 4],
        start_date=start,
        end_date=start + timedelta(hours=rng.choice((4, 8, 24))),
        status=status,
        approval=approval,
    )


def _gate(
    rng: random.Random, order: int, name: str, first_start: datetime, milestones: int
) -> QualityGate:
    gate = QualityGate(
        gate_name=name, order=order, required=rng.random() < 0.9, gate_status=_weighted_status(rng)
    )
    if gate.gate_status in (GateStatus.BLOCKED, GateStatus.FAILED, GateStatus.WAIVED):
        gate.comment = f"{name}: see the attached report"
    gate.milestones = [
        _milestone(rng, gate, i, first_start + timedelta(days=2 * i)) for i in range(milestones)
    ]
    return gate


def big_release(
    products: int = PRODUCTS,
    gates: int = GATES,
    milestones: int = MILESTONES,
    release_id: str = "REL-BIG",
) -> Release:
    """A release with ``products × gates × milestones`` milestones and mixed statuses."""
    rng = random.Random(SEED)
    return Release(
        release_id=release_id,
        release_name=f"Release {release_id}",
        release_date=date(2027, 1, 15),
        squad_ids=list(SQUADS[:3]),
        created_by="bench",
        created_at=T0,
        products=[
            ReleaseProduct(
                application_id=f"app-{p // 4}",
                product_id=f"product-{p:02d}",
                product_name=f"Product {p:02d}",
                quality_gates=[
                    _gate(
                        rng,
                        g,
                        GATE_NAMES[g % len(GATE_NAMES)],
                        T0 + timedelta(hours=p + g),
                        milestones,
                    )
                    for g in range(gates)
                ],
            )
            for p in range(products)
        ],
    )


def count_milestones(release: Release) -> int:
    """The baseline: only walking the nested structure the summary walks."""
    count = 0
    for product in release.products:
        for gate in product.quality_gates:
            for _milestone in gate.milestones:
                count += 1
    return count


async def bench_readiness(uri: str, config: Config) -> None:
    release = big_release()
    summary = summarize(release)
    milestones = count_milestones(release)
    async with database(uri) as db:
        repos = await open_repositories(db)
        await repos.releases.add(release)
        raw = await db["releases"].find_one({"release_id": release.release_id})
        if raw is None:
            raise RuntimeError("the release just added was not found")
        services = build_services(repos, clock=lambda: T0)
        viewer = await _actor(repos, "viewer", [Permission.CAN_VIEW_ALL], squads=[])
        n, m = config.summary_iterations, config.load_iterations
        rows = [
            _timing_row(
                "baseline: loop counting milestones",
                n,
                time_sync(lambda: count_milestones(release), n),
                None,
            ),
            _timing_row(
                "readiness.summarize",
                n,
                time_sync(lambda: summarize(release), n),
                SUMMARY_TARGET_MS,
            ),
            _timing_row(
                "engine find_one (raw document)",
                m,
                await time_async(
                    lambda: db["releases"].find_one({"release_id": release.release_id}), m
                ),
                None,
            ),
            _timing_row(
                "from_document (pydantic validate)",
                m,
                time_sync(lambda: from_document(Release, raw), m),
                None,
            ),
            _timing_row(
                "ReleaseRepository.get (load)",
                m,
                await time_async(lambda: repos.releases.get(release.release_id), m),
                None,
            ),
            _timing_row(
                "/release status: ReleaseService.get + summarize",
                m,
                await time_async(lambda: _status(services, viewer, release.release_id), m),
                None,
            ),
        ]
    size_kb = len(bson.encode(raw)) / 1024
    print_table(
        f"a. Readiness of one release: {PRODUCTS} products x {GATES} gates x {MILESTONES} "
        f"milestones = {milestones} milestones, {size_kb:.0f} KiB BSON; "
        f"{summary.total_gates} gates, {len(summary.blockers)} blockers, "
        f"{len(summary.pending_approvals)} pending approvals",
        ("measurement", "iterations", "median ms", "p95 ms", "target ms", "verdict"),
        rows,
    )


def _timing_row(name: str, iterations: int, timing: Timing, target: float | None) -> list[str]:
    within = "" if target is None else verdict(timing.p95_ms < target)
    return [
        name,
        str(iterations),
        ms(timing.median_ms),
        ms(timing.p95_ms),
        "" if target is None else f"< {target:g}",
        within,
    ]


async def _status(services: Services, actor: Actor, ref: str) -> object:
    return summarize(await services.releases.get(actor, ref))


# ----------------------------------------------------------------------------- b. listing


def listed_release(template: Release, n: int) -> Release:
    """The n-th of the listed releases: two a day, one or two squads, a few products."""
    when = date(2024, 1, 1) + timedelta(days=n // 2)
    squads = [SQUADS[n % len(SQUADS)]]
    if n % 3 == 0:
        squads.append(SQUADS[(n + 3) % len(SQUADS)])
    return template.model_copy(
        update={
            "id": str(bson.ObjectId()),
            "release_id": f"REL-{n:05d}",
            "release_name": f"{TRAINS[n % len(TRAINS)]} train {when:%B %Y}",
            "release_date": when,
            "squad_ids": squads,
        }
    )


@dataclass(frozen=True)
class Walk:
    label: str
    timing: Timing
    pages: int
    items: int
    calls: dict[str, int]

    def row(self) -> list[str]:
        total = sum(self.calls.values())
        breakdown = ", ".join(f"{k}={v / self.pages:g}" for k, v in sorted(self.calls.items()))
        return [
            self.label,
            str(self.pages),
            str(self.items),
            ms(self.timing.median_ms),
            ms(self.timing.p95_ms),
            f"{total / self.pages:g}",
            breakdown,
            verdict(total == self.pages),
        ]


async def walk_pages(
    services: Services,
    trips: RoundTrips,
    actor: Actor,
    label: str,
    config: Config,
    query: str | None = None,
) -> Walk:
    """Follow next_cursor from the first page, ``config.pages`` pages, ``config.walks`` times."""
    samples: list[int] = []
    items = 0
    trips.reset()
    for _ in range(config.walks):
        cursor: str | None = None
        for _ in range(config.pages):
            start = time.perf_counter_ns()
            page = await services.releases.list_releases(
                actor, query=query, cursor=cursor, limit=PAGE_SIZE
            )
            samples.append(time.perf_counter_ns() - start)
            items += len(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
    return Walk(label, Timing(samples), len(samples), items, dict(trips.calls))


async def bench_listing(uri: str, config: Config) -> None:
    template = big_release(*LISTED_SHAPE, release_id="REL-TEMPLATE")
    async with database(uri) as db:
        trips = RoundTrips()
        seeded, docs = await seed_listing(db, template)
        repos = await open_repositories(trips.wrap(db))  # indexes after the bulk insert
        services = build_services(repos, clock=lambda: T0)
        numbers = itertools.count(LISTED_RELEASES)
        adds = await time_async(
            lambda: repos.releases.add(listed_release(template, next(numbers))),
            config.adds,
            warmup=0,
        )
        everyone = await _actor(repos, "lead", [Permission.CAN_VIEW_ALL], squads=[])
        squad = await _actor(repos, "dev", [], squads=[SQUADS[0], SQUADS[1]])
        walks = [
            await walk_pages(services, trips, everyone, "can_view_all", config),
            await walk_pages(services, trips, squad, "squad-scoped (2 of 10 squads)", config),
            await walk_pages(
                services, trips, everyone, f"can_view_all, search '{SEARCH}'", config, SEARCH
            ),
            await walk_pages(
                services, trips, squad, f"squad-scoped, search '{SEARCH}'", config, SEARCH
            ),
        ]
        engine = await engine_page_costs(db, config)
    print_table(
        f"b. Listing {LISTED_RELEASES:,} releases ({len(bson.encode(docs[0])) / 1024:.1f} KiB, "
        f"{count_milestones(template)} milestones each), pages of {PAGE_SIZE}",
        ("step", "count", "median ms", "p95 ms", "total ms", "per release µs"),
        [
            *seeded,
            _add_row(f"ReleaseRepository.add at {LISTED_RELEASES:,}", adds),
        ],
    )
    print_table(
        f"   Walking the first {config.pages} pages x {config.walks} (keyset cursor)",
        (
            "actor / query",
            "pages",
            "items",
            "median ms/page",
            "p95 ms/page",
            "trips/page",
            "by collection.method",
            "1 trip/page",
        ),
        [walk.row() for walk in walks],
    )
    print_table(
        "   Engine cost of the can_view_all first-page query (raw collection, no pydantic)",
        ("query", "iterations", "median ms", "p95 ms"),
        engine,
    )


async def seed_listing(db: Database, template: Release) -> tuple[list[list[str]], list[Document]]:
    """Encode and bulk-insert the listed releases; the indexes come afterwards.

    The embedded engine checks a unique index by scanning the collection on every insert, so
    a bulk insert into an indexed collection is quadratic (about 30 s for 5,000); creating the
    indexes afterwards checks them once.
    """
    start = time.perf_counter_ns()
    docs = [to_document(listed_release(template, n)) for n in range(LISTED_RELEASES)]
    encoded = time.perf_counter_ns() - start
    start = time.perf_counter_ns()
    await db["releases"].insert_many(docs)
    inserted = time.perf_counter_ns() - start
    start = time.perf_counter_ns()
    await ensure_indexes(db)
    indexed = time.perf_counter_ns() - start
    rows = [
        _bulk_row("encode (to_document)", encoded),
        _bulk_row("insert_many (no indexes yet)", inserted),
        _bulk_row("ensure_indexes over them", indexed),
    ]
    return rows, docs


async def engine_page_costs(db: Database, config: Config) -> list[list[str]]:
    """One page straight from the engine: whole documents, and only the list's fields."""

    async def page(projection: dict[str, int] | None) -> object:
        cursor = db["releases"].find({}, projection).sort(NEWEST_FIRST).limit(PAGE_SIZE + 1)
        return await cursor.to_list(length=None)

    n = config.walks * config.pages
    full = await time_async(lambda: page(None), n, warmup=1)
    header = await time_async(lambda: page(HEADER_PROJECTION), n, warmup=1)
    return [
        ["find + sort + limit, whole documents", str(n), ms(full.median_ms), ms(full.p95_ms)],
        ["same, header fields only (projection)", str(n), ms(header.median_ms), ms(header.p95_ms)],
    ]


def _add_row(name: str, timing: Timing) -> list[str]:
    count = len(timing.samples_ns)
    total = sum(timing.samples_ns)
    return [
        name,
        str(count),
        ms(timing.median_ms),
        ms(timing.p95_ms),
        f"{total / 1e6:.0f}",
        f"{total / 1e3 / count:.0f}",
    ]


def _bulk_row(name: str, elapsed_ns: int) -> list[str]:
    return [
        name,
        f"{LISTED_RELEASES:,}",
        "",
        "",
        f"{elapsed_ns / 1e6:.0f}",
        f"{elapsed_ns / 1e3 / LISTED_RELEASES:.0f}",
    ]


def _user(username: str, role: Role, squads: Sequence[str] = ()) -> User:
    return User(
        username=username,
        full_name=username.title(),
        email=f"{username}@example.com",
        role_ids=[role.id],
        assigned_squad_ids=list(squads),
        created_at=T0,
    )


async def _actor(
    repos: Repositories,
    username: str,
    permissions: Sequence[Permission],
    *,
    squads: Sequence[str],
    slack: SlackIdentity | None = None,
) -> Actor:
    """A stored user with one stored role holding exactly these flags."""
    flags: dict[str, Any] = {p.value: True for p in permissions}
    role = await repos.roles.add(
        Role.model_validate({"role_name": f"role-{username}", "created_at": T0, **flags})
    )
    user = _user(username, role, squads).model_copy(update={"slack": slack})
    await repos.users.add(user)
    return Actor(user, (role,))


# -------------------------------------------------------------------- c. round trips


@dataclass(frozen=True)
class TripCase:
    operation: str
    target: int
    run: Callable[[], Awaitable[object]]
    refused: type[DomainError] | None = None


@dataclass(frozen=True)
class People:
    admin: Actor
    manager: Actor
    gatekeeper: Actor
    viewer: Actor
    slack: SlackIdentity


async def _people(repos: Repositories) -> People:
    slack = SlackIdentity(team_id="T0001", user_id="U0GATE")
    return People(
        admin=await _actor(repos, "root", list(Permission), squads=[]),
        manager=await _actor(
            repos,
            "arjun",
            [Permission.IS_APPROVAL_MANAGER, Permission.CAN_VIEW_ALL],
            squads=[],
        ),
        gatekeeper=await _actor(
            repos,
            "rhea",
            [Permission.CAN_MANAGE_QUALITY_GATES, Permission.CAN_VIEW_ALL],
            squads=[],
            slack=slack,
        ),
        viewer=await _actor(repos, "vik", [], squads=[SQUADS[0]]),
        slack=slack,
    )


def _milestone_draft(key: str, day: int, *, approval: bool) -> MilestoneDraft:
    start = T0 + timedelta(days=day)
    return MilestoneDraft(
        milestone_key=key,
        milestone_name=key.title(),
        environment=Environment.UAT,
        start_date=start,
        end_date=start + timedelta(days=1),
        approval_required=approval,
        requires_approval_manager=approval,
    )


def trip_cases(services: Services, people: People) -> list[TripCase]:
    """Service operations in an order that builds the state the next ones need."""
    s, p = services, people
    gate = "Security scan"

    async def next_page() -> object:
        first = await s.releases.list_releases(p.admin, limit=PAGE_SIZE)
        return await s.releases.list_releases(p.admin, cursor=first.next_cursor, limit=PAGE_SIZE)

    return [
        TripCase("IdentityService.resolve", 2, lambda: s.identity.resolve(p.slack)),
        TripCase(
            "ReleaseService.create",
            2,  # the write with its outbox, the timeline entry (reactions come later)
            lambda: s.releases.create(
                p.admin,
                ReleaseDraft(
                    release_id=REL,
                    release_name="December train",
                    release_date=date(2026, 12, 10),
                    squad_ids=[SQUADS[0]],
                ),
            ),
        ),
        TripCase(
            "ReleaseService.add_product",
            4,  # the write with its outbox, the timeline entry (reactions come later)
            lambda: s.releases.add_product(p.admin, REL, application_id=APP, product_id="pay-api"),
        ),
        TripCase(
            "GateService.add_gate",
            3,  # the write with its outbox, the timeline entry (reactions come later)
            lambda: s.gates.add_gate(p.gatekeeper, REL, "pay-api", GateDraft(gate_name=gate)),
        ),
        TripCase(
            "GateService.add_milestone",
            3,  # the write with its outbox, the timeline entry (reactions come later)
            lambda: s.gates.add_milestone(
                p.gatekeeper, REL, "pay-api", gate, _milestone_draft("scan-uat", 0, approval=True)
            ),
        ),
        TripCase(
            "GateService.update_gate",
            3,  # the write with its outbox, the timeline entry (reactions come later)
            lambda: s.gates.update_gate(
                p.gatekeeper, REL, "pay-api", gate, GateChange(gate_status=GateStatus.IN_PROGRESS)
            ),
        ),
        TripCase(
            "update_gate, nothing changes",
            1,
            lambda: s.gates.update_gate(
                p.gatekeeper, REL, "pay-api", gate, GateChange(gate_status=GateStatus.IN_PROGRESS)
            ),
        ),
        TripCase(
            "update_gate status, refused",
            1,
            lambda: s.gates.update_gate(
                p.viewer, REL, "pay-api", gate, GateChange(gate_status=GateStatus.PASSED)
            ),
            PermissionDenied,
        ),
        TripCase(
            "update_gate order, refused",
            0,
            lambda: s.gates.update_gate(p.viewer, REL, "pay-api", gate, GateChange(order=2)),
            PermissionDenied,
        ),
        TripCase(
            "add_milestone, refused",
            0,
            lambda: s.gates.add_milestone(
                p.viewer, REL, "pay-api", gate, _milestone_draft("scan-prod", 3, approval=False)
            ),
            PermissionDenied,
        ),
        TripCase(
            "ApprovalService.decide",
            3,  # the write with its outbox, the timeline entry (reactions come later)
            lambda: s.approvals.decide(
                p.manager, REL, "pay-api", gate, "scan-uat", Decision.APPROVE
            ),
        ),
        TripCase("ApprovalService.pending_for", 1, lambda: s.approvals.pending_for(p.manager)),
        TripCase("ReleaseService.get", 1, lambda: s.releases.get(p.viewer, REL)),
        TripCase(
            "ReleaseService.list_releases (page 1)",
            1,
            lambda: s.releases.list_releases(p.admin, limit=PAGE_SIZE),
        ),
        TripCase("list_releases (page 1 + page 2)", 2, next_page),
        TripCase(
            "list_releases, squad-scoped search",
            1,
            lambda: s.releases.list_releases(p.viewer, query="train", limit=PAGE_SIZE),
        ),
        TripCase("TimelineService.history", 2, lambda: s.timeline.history(p.viewer, REL)),
    ]


async def run_case(case: TripCase, trips: RoundTrips) -> list[str]:
    trips.reset()
    outcome = "done"
    try:
        await case.run()
    except DomainError as error:
        if case.refused is None or not isinstance(error, case.refused):
            raise
        outcome = error.code.value
    else:
        if case.refused is not None:
            outcome = "NOT REFUSED"
    breakdown = ", ".join(f"{k}={v}" for k, v in sorted(trips.calls.items())) or "-"
    ok = trips.total <= case.target and outcome != "NOT REFUSED"
    return [case.operation, str(trips.total), str(case.target), breakdown, outcome, verdict(ok)]


async def bench_round_trips(uri: str) -> None:
    async with database(uri) as db:
        trips = RoundTrips()
        repos = await open_repositories(trips.wrap(db))
        services = build_services(repos, clock=lambda: T0)
        people = await _people(repos)
        await services.catalog.create_application(
            people.admin,
            ApplicationDraft(
                application_id=APP,
                application_name="Payments",
                products=[Product(product_id="pay-api", product_name="Payments API")],
            ),
        )
        template = big_release(*LISTED_SHAPE, release_id="REL-TEMPLATE")
        await db["releases"].insert_many(
            [to_document(listed_release(template, n)) for n in range(3 * PAGE_SIZE)]
        )
        rows = [await run_case(case, trips) for case in trip_cases(services, people)]
    print_table(
        "c. Database round trips per service operation",
        ("operation", "round trips", "target", "by collection.method", "outcome", "verdict"),
        rows,
    )


# ----------------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer iterations (about 15 s)")
    parser.add_argument(
        "--uri",
        default=os.environ.get("MONGO_URI") or EMBEDDED_URI,
        help="database to measure (default: MONGO_URI, else the embedded engine)",
    )
    return parser.parse_args(argv)


async def run(uri: str, config: Config, quick: bool) -> None:
    started = time.perf_counter()
    await print_environment(uri, quick)
    await bench_readiness(uri, config)
    await bench_listing(uri, config)
    await bench_round_trips(uri)
    print(f"\ntotal {time.perf_counter() - started:.1f} s")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    asyncio.run(run(args.uri, QUICK if args.quick else FULL, args.quick))


if __name__ == "__main__":
    main()
