"""Years of release history for the scale benchmark (scripts/bench/bench_scale.py).

A team that ships ``RELEASES_PER_YEAR`` releases, the newest ``UPCOMING_DAYS`` ahead of today
and the others going back in time at that pace: 1,000 releases reach back about four months,
50,000 about 25 years. Release ``n`` (0 is the newest) is built from its own random stream,
so a smaller history is exactly the newest part of a larger one: what is upcoming, recent,
pending or in a digest's window is the same at every size, and only the past grows.

Each release ships one application of the demo catalog (core/seeds/demo.py: payments,
checkout, identity, each owned by one squad, so a squad member sees about a third of them):
one to all of its products, two to four quality gates per product, one or two milestones per
gate, a fixed version and a Jira board per product. Shipped releases (older than
``SHIPPED_AFTER_DAYS``) have every gate passed or waived and every approval decided. Recent
and upcoming ones have gates in progress, some blocked or failed; UAT sign-offs are asked for
(``SIGNED_OFF_SHARE`` of them need one) in the ``ASKED_WITHIN_DAYS`` before the release, an
hour before the seeding moment (so no reminder is due when the benchmark's tick runs), about
half of them for an approval manager only. The pending approvals therefore stay a few dozen
at every size, as in a real team.

Ids are ``<APP>-<yyyy.mm>-<n>`` (``PAY-2026.11-00042``) and names
``<Application> <theme> <Month yyyy>`` (``Payments refunds November 2026``): the searches
measured are an id prefix (one application's month, ``id_prefix``: a bounded number of
matches) and a name word (a theme: one release in twenty at every size, so the matches grow
with the history).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from core.models.release import (
    ApprovalStatus,
    Environment,
    FixedVersion,
    GateStatus,
    Milestone,
    MilestoneApproval,
    MilestoneStatus,
    QualityGate,
    Release,
    ReleaseProduct,
    VersionBoard,
)
from core.seeds.demo import APPLICATIONS, ApplicationSpec, board_link
from storage.codec import to_document

SEED = 20261201
RELEASES_PER_YEAR = 2_000
UPCOMING_DAYS = 60
SHIPPED_AFTER_DAYS = 3  # released this long ago: every gate closed, every approval decided
ASKED_WITHIN_DAYS = 7  # UAT sign-offs are asked for this long before the release
SIGNED_OFF_SHARE = 0.4  # the share of UAT sign-off milestones that need an approval
APPROVAL_ASKED_AGO = timedelta(hours=1)  # less than a reminder interval (4 h by default)
CODES = {"payments": "PAY", "checkout": "CHK", "identity": "IDN"}
THEMES = (
    "refunds",
    "passkeys",
    "ledger",
    "cart",
    "onboarding",
    "fraud",
    "statements",
    "wallet",
    "search",
    "profiles",
    "payouts",
    "invoices",
    "loyalty",
    "gateway",
    "receipts",
    "limits",
    "sessions",
    "reporting",
    "disputes",
    "pricing",
)
NAME_WORD = "passkeys"  # the name-word search: one release in len(THEMES)
GATES = (
    ("Security scan", Environment.DEV),
    ("Regression suite", Environment.UAT),
    ("UAT sign-off", Environment.UAT),
    ("Performance test", Environment.STAGE),
)
SIGN_OFF = "UAT sign-off"
OPEN_GATES = (
    (GateStatus.PASSED, 30),
    (GateStatus.IN_PROGRESS, 35),
    (GateStatus.NOT_STARTED, 25),
    (GateStatus.BLOCKED, 5),
    (GateStatus.FAILED, 3),
    (GateStatus.WAIVED, 2),
)


@dataclass(frozen=True)
class Cast:
    """The demo people the history refers to (their stored ids)."""

    admin_id: str
    manager_id: str  # rhea, release manager: owns gates and some milestones
    approver_id: str  # arjun, approval manager: decided the past sign-offs


@dataclass(frozen=True)
class History:
    """``size`` releases as of ``now`` (the seeding moment; ``today`` is its UTC day)."""

    size: int
    now: datetime
    cast: Cast

    @property
    def today(self) -> date:
        return self.now.date()

    def release_day(self, n: int) -> date:
        return release_day(self.today, n)

    def releases(self) -> Iterator[Release]:
        for n in range(self.size):
            yield self.release(n)

    def documents(self) -> Iterator[dict[str, Any]]:
        for n in range(self.size):
            yield self.document(n)

    def document(self, n: int) -> dict[str, Any]:
        """Release ``n`` as stored (storage/codec.py ``to_document``, as the repository
        writes it)."""
        return to_document(self.release(n))

    def awaiting_approval(self, k: int) -> Release:
        """Release ``k`` of another series: upcoming this week, one product whose UAT
        sign-off waits for an approval manager (arjun), asked for an hour ago. The ack
        benchmark's Approve clicks each decide a fresh one of these."""
        spec = APPLICATIONS[k % len(APPLICATIONS)]
        product = spec.products[0]
        day = self.today + timedelta(days=1 + k % ASKED_WITHIN_DAYS)
        start = _at(day - timedelta(days=2), 9)
        milestone = Milestone(
            milestone_key="uat-1",
            milestone_name="UAT sign-off on uat #1",
            environment=Environment.UAT,
            start_date=start,
            end_date=start + timedelta(hours=8),
            status=MilestoneStatus.IN_PROGRESS,
            owner_id=self.cast.manager_id,
            approval=MilestoneApproval(
                required=True,
                requires_approval_manager=True,
                status=ApprovalStatus.PENDING,
                requested_at=self.now - APPROVAL_ASKED_AGO,
            ),
        )
        gate = QualityGate(
            gate_name=SIGN_OFF,
            order=10,
            gate_status=GateStatus.IN_PROGRESS,
            owner_id=self.cast.manager_id,
            milestones=[milestone],
        )
        return Release(
            release_id=f"SIGN-{day:%Y.%m}-{k:05d}",
            release_name=f"{spec.application_name} sign-off {k}",
            release_date=day,
            scope_application_ids=[spec.application_id],
            squad_ids=[product.squad_id],
            products=[
                ReleaseProduct(
                    application_id=spec.application_id,
                    product_id=product.product_id,
                    product_name=product.product_name,
                    quality_gates=[gate],
                    participating_squad_ids=[product.squad_id],
                )
            ],
            created_by=self.cast.admin_id,
            created_at=self.now - timedelta(days=30),
        )

    def release(self, n: int) -> Release:
        rng = random.Random(SEED * 1_000_003 + n)
        day = self.release_day(n)
        spec = rng.choice(APPLICATIONS)
        products = rng.sample(spec.products, rng.randint(1, len(spec.products)))
        theme = rng.choice(THEMES)
        shipped = day < self.today - timedelta(days=SHIPPED_AFTER_DAYS)
        built = [self._product(rng, spec, p.product_id, day, shipped) for p in products]
        return Release(
            release_id=f"{CODES[spec.application_id]}-{day:%Y.%m}-{n:05d}",
            release_name=f"{spec.application_name} {theme} {day:%B %Y}",
            release_date=day,
            release_type=rng.choice(("minor", "minor", "minor", "major", "hotfix")),
            scope_application_ids=[spec.application_id],
            squad_ids=sorted({s for p in built for s in p.participating_squad_ids}),
            description=f"{spec.application_name}: {theme} improvements.",
            products=built,
            created_by=self.cast.admin_id,
            created_at=_at(day - timedelta(days=45), 10),
        )

    def _product(
        self, rng: random.Random, spec: ApplicationSpec, product_id: str, day: date, shipped: bool
    ) -> ReleaseProduct:
        product = next(p for p in spec.products if p.product_id == product_id)
        version = f"{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
        names = [g for g in GATES if g[0] == SIGN_OFF or rng.random() < 0.6][:4]
        gates = [
            self._gate(rng, order, name, env, day, shipped)
            for order, (name, env) in enumerate(names, start=1)
        ]
        return ReleaseProduct(
            application_id=spec.application_id,
            product_id=product_id,
            product_name=product.product_name,
            fixed_version=FixedVersion(
                version_key=f"{product_id}-{version}",
                version_name=f"{product.product_name} {version}",
            ),
            version_boards=[
                VersionBoard(
                    jira_board_id=product.board_id, jira_board_link=board_link(product.board_id)
                )
            ],
            quality_gates=gates,
            participating_squad_ids=[product.squad_id],
        )

    def _gate(
        self,
        rng: random.Random,
        order: int,
        name: str,
        env: Environment,
        day: date,
        shipped: bool,
    ) -> QualityGate:
        if shipped:
            status = GateStatus.WAIVED if rng.random() < 0.03 else GateStatus.PASSED
        else:
            status = rng.choices([s for s, _ in OPEN_GATES], [w for _, w in OPEN_GATES])[0]
        gate = QualityGate(
            gate_name=name,
            order=order * 10,
            required=rng.random() < 0.9,
            gate_status=status,
            owner_id=self.cast.manager_id,
            comment="See the attached report." if status is GateStatus.FAILED else None,
        )
        first = day - timedelta(days=2 * (len(GATES) - order + 1) + 2)
        for index in range(rng.randint(1, 2)):
            start = _at(first + timedelta(days=index), 9)
            gate.milestones.append(self._milestone(rng, gate, index, env, start, day))
        return gate

    def _milestone(
        self,
        rng: random.Random,
        gate: QualityGate,
        index: int,
        env: Environment,
        start: datetime,
        day: date,
    ) -> Milestone:
        if gate.gate_status in (GateStatus.PASSED, GateStatus.WAIVED):
            status = MilestoneStatus.DONE
        elif gate.gate_status is GateStatus.NOT_STARTED:
            status = MilestoneStatus.NOT_STARTED
        elif gate.gate_status is GateStatus.BLOCKED and index == 0:
            status = MilestoneStatus.BLOCKED
        else:
            status = rng.choice((MilestoneStatus.DONE, MilestoneStatus.IN_PROGRESS))
        owner = self.cast.manager_id if rng.random() < 0.3 else None
        return Milestone(
            milestone_key=f"{env.value}-{index + 1}",
            milestone_name=f"{gate.gate_name} on {env.value} #{index + 1}",
            environment=env,
            start_date=start,
            end_date=start + timedelta(hours=8),
            status=status,
            owner_id=owner,
            approval=self._approval(rng, gate, status, start, day),
        )

    def _approval(
        self,
        rng: random.Random,
        gate: QualityGate,
        status: MilestoneStatus,
        start: datetime,
        day: date,
    ) -> MilestoneApproval:
        if gate.gate_name != SIGN_OFF or rng.random() >= SIGNED_OFF_SHARE:
            return MilestoneApproval()
        manager_only = rng.random() < 0.5
        if status is MilestoneStatus.DONE:
            return MilestoneApproval(
                required=True,
                requires_approval_manager=manager_only,
                status=ApprovalStatus.APPROVED,
                requested_at=start,
                approver_user_id=self.cast.approver_id,
                approver_username="arjun",
                approved_at=start + timedelta(hours=6),
            )
        if day > self.today + timedelta(days=ASKED_WITHIN_DAYS):
            return MilestoneApproval(requires_approval_manager=manager_only)  # not asked yet
        return MilestoneApproval(
            required=True,
            requires_approval_manager=manager_only,
            status=ApprovalStatus.PENDING,
            requested_at=self.now - APPROVAL_ASKED_AGO,
        )


def release_day(today: date, n: int) -> date:
    """The day of release ``n`` (0: the newest)."""
    return today + timedelta(days=UPCOMING_DAYS - int(n * 365.25 / RELEASES_PER_YEAR))


def id_prefix(today: date, smallest: int) -> str:
    """The id-prefix search: the payments releases of one month, the month of the middle
    release of the smallest history measured. From 1,000 releases up that is about a month
    before today, a month every size holds in full: the same few dozen matches at every
    size."""
    return f"PAY-{release_day(today, smallest // 2):%Y.%m}"


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)
