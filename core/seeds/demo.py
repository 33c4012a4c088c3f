"""Demo data (SPEC §7): four personas, a small catalog and four releases in distinct states.

Dates are relative to ``today`` so the demo always looks current. Idempotent: running it
again finds everything by its unique key and adds nothing. The personas sign in to the
portal API with the password ``releasebot-demo`` (``DEMO_PASSWORD``).

Loaded at start-up with ``SEED_DATA=demo``, or from the command line:

    python -m scripts.seed_demo_data      # MONGO_URI (default mongomock://), MONGO_DB_NAME
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial

from core.models.catalog import Application, JiraBoard, Product, Squad
from core.models.rbac import User
from core.models.release import (
    Change,
    ChangeStatus,
    ChangeType,
    CTask,
    CTaskStatus,
    Decision,
    Environment,
    FixedVersion,
    GateStatus,
    Milestone,
    MilestoneApproval,
    MilestoneStatus,
    QualityGate,
    Release,
    ReleaseProduct,
    Runbook,
    RunbookTask,
    VersionBoard,
)
from core.rules import approvals
from core.rules.approvals import ApprovalPolicy
from core.rules.milestones import place_milestone
from core.rules.permissions import Actor
from core.seeds.seeding import (
    ADMIN,
    APPROVAL_MANAGER,
    RELEASE_MANAGER,
    ROLE_FLAGS,
    SQUAD_MEMBER,
    Schedule,
    SeedReport,
    ensure_release,
    ensure_role,
    ensure_user,
    get_or_add,
)
from core.services.container import Repositories

JIRA = "https://jira.example.com"
# Every persona signs in to the portal API with this password (README). Its bcrypt hash is
# computed once, here, not at seed time: hashing costs ~0.2 s a user, and tests seed often.
DEMO_PASSWORD = "releasebot-demo"
DEMO_PASSWORD_HASH = "$2b$12$UXVNd83dz3MpttKMr3a.wuPRjgKkx9zsAks1zE2wq8orHhG.YEfxi"

# username → (full name, role, squads)
PERSONAS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "admin": ("Alex Admin", ADMIN, ()),
    "rhea": ("Rhea Kapoor", RELEASE_MANAGER, ()),
    "arjun": ("Arjun Mehta", APPROVAL_MANAGER, ()),
    "dana": ("Dana Weiss", SQUAD_MEMBER, ("payments",)),
}
# board_id → (name, type)
BOARDS: dict[str, tuple[str, str]] = {
    "PAY": ("Payments", "scrum"),
    "CHK": ("Checkout", "scrum"),
    "IDN": ("Identity", "kanban"),
    "PLAT": ("Platform", "kanban"),
}
# squad_id → (name, boards)
SQUADS: dict[str, tuple[str, tuple[str, ...]]] = {
    "payments": ("Payments", ("PAY",)),
    "checkout": ("Checkout", ("CHK",)),
    "platform": ("Platform", ("PLAT", "IDN")),
}


@dataclass(frozen=True)
class ProductSpec:
    product_id: str
    product_name: str
    board_id: str
    squad_id: str


@dataclass(frozen=True)
class ApplicationSpec:
    application_id: str
    application_name: str
    technologies: tuple[str, ...]
    description: str
    products: tuple[ProductSpec, ...]


APPLICATIONS = (
    ApplicationSpec(
        "payments",
        "Payments",
        ("Java", "Spring Boot", "PostgreSQL", "Kafka"),
        "Card and bank payments, the ledger and fraud scoring.",
        (
            ProductSpec("payments-api", "Payments API", "PAY", "payments"),
            ProductSpec("payments-ledger", "Ledger Service", "PAY", "payments"),
            ProductSpec("payments-fraud", "Fraud Scoring", "PAY", "payments"),
        ),
    ),
    ApplicationSpec(
        "checkout",
        "Checkout",
        ("TypeScript", "React", "Node.js", "Redis"),
        "The web checkout and the shopping cart.",
        (
            ProductSpec("checkout-web", "Checkout Web", "CHK", "checkout"),
            ProductSpec("checkout-cart", "Cart Service", "CHK", "checkout"),
        ),
    ),
    ApplicationSpec(
        "identity",
        "Identity",
        ("Go", "Keycloak", "PostgreSQL"),
        "Sign-in, customer profiles and single sign-on.",
        (
            ProductSpec("identity-auth", "Auth Service", "IDN", "platform"),
            ProductSpec("identity-profile", "Profile Service", "IDN", "platform"),
            ProductSpec("identity-sso", "SSO Gateway", "PLAT", "platform"),
        ),
    ),
)

# The release ids the demo promises, by the state each one shows.
PENDING_APPROVALS_RELEASE = "REL-2026.12"
READY_RELEASE = "REL-2026.11"
BLOCKED_RELEASE = "REL-2026.11-HF1"
IN_PROGRESS_RELEASE = "REL-2027.01"


@dataclass(frozen=True)
class Cast:
    """The seeded people the releases refer to."""

    admin: User
    rhea: User
    arjun: Actor
    dana: User

    def everyone(self) -> list[User]:
        return [self.admin, self.rhea, self.arjun.user, self.dana]


async def seed_demo_data(repos: Repositories, *, today: date | None = None) -> SeedReport:
    """Seed roles, personas, catalog and releases; what exists already is left alone."""
    when = Schedule.starting(today)
    report = SeedReport("Demo data")
    cast = await _seed_people(repos, report, when)
    await _seed_catalog(repos, report, cast)
    await _seed_releases(repos, report, when, cast)
    return report


# --- people -------------------------------------------------------------------------------


async def _seed_people(repos: Repositories, report: SeedReport, when: Schedule) -> Cast:
    role_ids = {name: (await ensure_role(repos, report, name, when.now)).id for name in ROLE_FLAGS}
    users: dict[str, User] = {}
    for username, (_, role, _) in PERSONAS.items():
        build = partial(_persona, username, role_ids[role], when)
        users[username] = await ensure_user(repos, report, build, username)
    arjun = users["arjun"]
    arjun_actor = Actor(arjun, tuple(await repos.roles.get_many(arjun.role_ids)))
    return Cast(users["admin"], users["rhea"], arjun_actor, users["dana"])


def _persona(username: str, role_id: str, when: Schedule) -> User:
    full_name, _, squads = PERSONAS[username]
    return User(
        username=username,
        full_name=full_name,
        email=f"{username}@example.com",
        role_ids=[role_id],
        assigned_squad_ids=list(squads),
        password_hash=DEMO_PASSWORD_HASH,
        created_at=when.now,
    )


# --- catalog ------------------------------------------------------------------------------


async def _seed_catalog(repos: Repositories, report: SeedReport, cast: Cast) -> None:
    for board_id in BOARDS:
        await get_or_add(
            report,
            "jira boards",
            partial(repos.boards.get, board_id),
            partial(_board, board_id),
            repos.boards.add,
        )
    for squad_id in SQUADS:
        await get_or_add(
            report,
            "squads",
            partial(repos.squads.get, squad_id),
            partial(_squad, squad_id, cast),
            repos.squads.add,
        )
    for spec in APPLICATIONS:
        await get_or_add(
            report,
            "applications",
            partial(repos.applications.get, spec.application_id),
            partial(_application, spec, cast),
            repos.applications.add,
        )


def board_link(board_id: str) -> str:
    return f"{JIRA}/jira/software/projects/{board_id}/boards"


def _board(board_id: str) -> JiraBoard:
    name, board_type = BOARDS[board_id]
    return JiraBoard(
        board_id=board_id, board_name=name, board_link=board_link(board_id), board_type=board_type
    )


def _squad(squad_id: str, cast: Cast) -> Squad:
    name, boards = SQUADS[squad_id]
    members = [u.id for u in cast.everyone() if squad_id in u.assigned_squad_ids]
    return Squad(
        squad_id=squad_id, squad_name=name, squad_jira_board_ids=list(boards), member_ids=members
    )


def _application(spec: ApplicationSpec, cast: Cast) -> Application:
    return Application(
        application_id=spec.application_id,
        application_name=spec.application_name,
        technologies=list(spec.technologies),
        description=spec.description,
        products=[
            Product(
                product_id=p.product_id,
                product_name=p.product_name,
                product_owner_ids=[cast.rhea.id],
                product_jira_board_ids=[p.board_id],
                product_squad_ids=[p.squad_id],
            )
            for p in spec.products
        ],
    )


# --- releases -----------------------------------------------------------------------------


async def _seed_releases(
    repos: Repositories, report: SeedReport, when: Schedule, cast: Cast
) -> None:
    builders = {
        PENDING_APPROVALS_RELEASE: _release_awaiting_sign_off,
        READY_RELEASE: _release_ready,
        BLOCKED_RELEASE: _release_blocked,
        IN_PROGRESS_RELEASE: _release_in_progress,
    }
    for release_id, build in builders.items():
        await ensure_release(repos, report, release_id, partial(build, when, cast), cast.admin)


def _release_awaiting_sign_off(when: Schedule, cast: Cast) -> Release:
    """In progress, with two UAT/stage sign-offs waiting for an approval manager."""
    rhea = cast.rhea.id
    sign_offs = _gate(
        "UAT sign-off",
        20,
        GateStatus.IN_PROGRESS,
        rhea,
        _milestone("uat-signoff", "UAT sign-off", Environment.UAT, when.at(3), when.at(5, 17),
                   owner=rhea, approval=_manager_sign_off(when.now)),
        _milestone("stage-signoff", "Stage sign-off", Environment.STAGE, when.at(6),
                   when.at(8, 17), owner=rhea, approval=_manager_sign_off(when.now)),
    )  # fmt: skip
    products = [
        _product(
            "payments-api",
            "3.14.0",
            _gate("Security scan", 10, GateStatus.PASSED, rhea,
                  _milestone("sast-dev", "SAST on dev", Environment.DEV, when.at(-5),
                             when.at(-4, 17), MilestoneStatus.DONE)),
            sign_offs,
        ),
        _product(
            "payments-ledger",
            "2.8.0",
            _gate("Regression suite", 10, GateStatus.IN_PROGRESS, rhea,
                  _milestone("ledger-regression", "Ledger regression", Environment.UAT,
                             when.at(1), when.at(3, 17), MilestoneStatus.IN_PROGRESS)),
        ),
        _product(
            "checkout-web",
            "5.2.0",
            _gate("Performance test", 10, GateStatus.NOT_STARTED, rhea,
                  _milestone("perf-stage", "Load test on stage", Environment.STAGE, when.at(7),
                             when.at(9, 17))),
        ),
    ]  # fmt: skip
    return _release(
        cast,
        when,
        PENDING_APPROVALS_RELEASE,
        "December payments & checkout release",
        14,
        products,
        description="Faster card refunds and the new checkout summary page.",
        runbooks=[_cutover_runbook(when, cast, 14)],
        chg=_change("CHG0031245", ChangeStatus.AUTHORIZE, products, when, cast, 14),
    )


def _release_ready(when: Schedule, cast: Cast) -> Release:
    """Every required gate PASSED, the UAT sign-off approved by arjun, no blockers."""
    rhea = cast.rhea.id
    uat = _milestone("uat-signoff", "UAT sign-off", Environment.UAT, when.at(-3),
                     when.at(-1, 17), MilestoneStatus.DONE, owner=rhea,
                     approval=_manager_sign_off(when.at(-3)))  # fmt: skip
    approvals.decide(
        cast.arjun, uat, Decision.APPROVE, "UAT evidence reviewed.", when.at(-1, 18),
        ApprovalPolicy(),
    )  # fmt: skip
    products = [
        _product(
            "checkout-web",
            "5.1.0",
            _gate("Security scan", 10, GateStatus.PASSED, rhea,
                  _milestone("sast-dev", "SAST on dev", Environment.DEV, when.at(-6),
                             when.at(-5, 17), MilestoneStatus.DONE)),
            _gate("UAT sign-off", 20, GateStatus.PASSED, rhea, uat),
            _gate("Accessibility audit", 30, GateStatus.NOT_STARTED, rhea, required=False),
        ),
        _product(
            "checkout-cart",
            "1.9.2",
            _gate("Regression suite", 10, GateStatus.PASSED, rhea,
                  _milestone("cart-regression", "Cart regression", Environment.UAT,
                             when.at(-4), when.at(-2, 17), MilestoneStatus.DONE)),
        ),
    ]  # fmt: skip
    return _release(
        cast,
        when,
        READY_RELEASE,
        "Checkout November release",
        7,
        products,
        description="Saved carts across devices.",
        chg=_change("CHG0031190", ChangeStatus.SCHEDULED, products, when, cast, 7),
    )


def _release_blocked(when: Schedule, cast: Cast) -> Release:
    """A hotfix whose regression gate FAILED and whose stage deploy is BLOCKED."""
    rhea = cast.rhea.id
    regression = _gate(
        "Regression suite",
        20,
        GateStatus.FAILED,
        rhea,
        _milestone("hotfix-uat", "Hotfix on UAT", Environment.UAT, when.at(-2),
                   when.at(-1, 17), MilestoneStatus.DONE),
        _milestone("hotfix-stage", "Hotfix on stage", Environment.STAGE, when.at(0),
                   when.at(1, 17), MilestoneStatus.BLOCKED, owner=rhea),
        comment="3 reconciliation tests fail on stage (PAY-4821); the fix is in review.",
    )  # fmt: skip
    products = [
        _product(
            "payments-ledger",
            "2.7.1",
            _gate("Security scan", 10, GateStatus.PASSED, rhea),
            regression,
        )
    ]
    return _release(
        cast,
        when,
        BLOCKED_RELEASE,
        "Ledger reconciliation hotfix",
        3,
        products,
        release_type="hotfix",
        description="Fixes double-counted refunds in the nightly reconciliation.",
        runbooks=[_hotfix_runbook(when, cast, 3)],
    )


def _release_in_progress(when: Schedule, cast: Cast) -> Release:
    """Early days: one gate IN_PROGRESS, the others NOT_STARTED."""
    rhea = cast.rhea.id
    products = [
        _product(
            "identity-auth",
            "4.0.0",
            _gate("Security scan", 10, GateStatus.IN_PROGRESS, rhea,
                  _milestone("sast-dev", "SAST on dev", Environment.DEV, when.at(2),
                             when.at(4, 17), MilestoneStatus.IN_PROGRESS)),
            _gate("UAT sign-off", 20, GateStatus.NOT_STARTED, rhea,
                  _milestone("uat-signoff", "UAT sign-off", Environment.UAT, when.at(16),
                             when.at(20, 17), owner=rhea)),
        ),
        _product(
            "identity-profile",
            "2.3.0",
            _gate("Regression suite", 10, GateStatus.NOT_STARTED, rhea,
                  _milestone("profile-regression", "Profile regression", Environment.UAT,
                             when.at(18), when.at(21, 17))),
        ),
    ]  # fmt: skip
    return _release(
        cast,
        when,
        IN_PROGRESS_RELEASE,
        "Identity platform January release",
        28,
        products,
        release_type="major",
        description="Passkeys for customer sign-in.",
    )


# --- builders -----------------------------------------------------------------------------


def _release(
    cast: Cast,
    when: Schedule,
    release_id: str,
    name: str,
    days_ahead: int,
    products: Sequence[ReleaseProduct],
    *,
    release_type: str = "minor",
    description: str = "",
    runbooks: Sequence[Runbook] = (),
    chg: Change | None = None,
) -> Release:
    """A release scoped to its products' applications and squads."""
    return Release(
        release_id=release_id,
        release_name=name,
        release_date=when.day(days_ahead),
        release_type=release_type,
        scope_application_ids=list(dict.fromkeys(p.application_id for p in products)),
        squad_ids=list(dict.fromkeys(s for p in products for s in p.participating_squad_ids)),
        description=description,
        products=list(products),
        runbooks=list(runbooks),
        chg=chg,
        created_by=cast.admin.id,
        created_at=when.now,
    )


def _product(product_id: str, version: str, *gates: QualityGate) -> ReleaseProduct:
    """A catalog product shipping ``version`` through ``gates``."""
    application, spec = _catalog_product(product_id)
    return ReleaseProduct(
        application_id=application.application_id,
        product_id=product_id,
        product_name=spec.product_name,
        fixed_version=FixedVersion(
            version_key=f"{product_id}-{version}", version_name=f"{spec.product_name} {version}"
        ),
        version_boards=[
            VersionBoard(
                jira_board_id=spec.board_id,
                jira_board_link=board_link(spec.board_id),
                fixed_version_link=f"{JIRA}/projects/{spec.board_id}/versions/{product_id}-{version}",
            )
        ],
        quality_gates=list(gates),
        participating_squad_ids=[spec.squad_id],
    )


def _catalog_product(product_id: str) -> tuple[ApplicationSpec, ProductSpec]:
    for application in APPLICATIONS:
        for product in application.products:
            if product.product_id == product_id:
                return application, product
    raise KeyError(product_id)


def _gate(
    name: str,
    order: int,
    status: GateStatus,
    owner_id: str,
    *milestones: Milestone,
    comment: str | None = None,
    required: bool = True,
) -> QualityGate:
    """A gate whose milestones are placed by the overlap rule (a clash raises)."""
    gate = QualityGate(
        gate_name=name,
        order=order,
        required=required,
        gate_status=status,
        owner_id=owner_id,
        comment=comment,
    )
    for milestone in milestones:
        place_milestone(gate, milestone)
    return gate


def _milestone(
    key: str,
    name: str,
    environment: Environment,
    start: datetime,
    end: datetime,
    status: MilestoneStatus = MilestoneStatus.NOT_STARTED,
    *,
    owner: str | None = None,
    approval: MilestoneApproval | None = None,
) -> Milestone:
    return Milestone(
        milestone_key=key,
        milestone_name=name,
        environment=environment,
        start_date=start,
        end_date=end,
        status=status,
        owner_id=owner,
        approval=approval or MilestoneApproval(),
    )


def _manager_sign_off(requested_at: datetime) -> MilestoneApproval:
    """An approval only an approval manager may decide, PENDING since ``requested_at``."""
    return approvals.new_approval(True, True, requested_at)


def _cutover_runbook(when: Schedule, cast: Cast, day: int) -> Runbook:
    rhea = cast.rhea.id
    tasks = [
        RunbookTask(task_name="Freeze ledger writes", owner_id=rhea, environment=Environment.PROD,
                    commands=["ledgerctl freeze --reason release"],
                    rollback_plan="ledgerctl unfreeze", scheduled_start=when.at(day, 6),
                    duration_minutes=10),
        RunbookTask(task_name="Deploy payments-api 3.14.0", owner_id=rhea,
                    environment=Environment.PROD,
                    commands=["helm upgrade payments-api charts/payments-api --version 3.14.0"],
                    rollback_plan="helm rollback payments-api",
                    validation_steps=["Refund a test card payment"],
                    scheduled_start=when.at(day, 7), duration_minutes=30,
                    depends_on_task_names=["Freeze ledger writes"]),
        RunbookTask(task_name="Unfreeze ledger writes", owner_id=rhea,
                    environment=Environment.PROD, commands=["ledgerctl unfreeze"],
                    scheduled_start=when.at(day, 8), duration_minutes=5,
                    depends_on_task_names=["Deploy payments-api 3.14.0"]),
    ]  # fmt: skip
    return Runbook(
        runbook_name="Payments cutover",
        description="Production cutover for payments-api with the ledger frozen.",
        tasks=tasks,
        created_by=rhea,
        created_at=when.now,
    )


def _hotfix_runbook(when: Schedule, cast: Cast, day: int) -> Runbook:
    rhea = cast.rhea.id
    tasks = [
        RunbookTask(task_name="Deploy ledger 2.7.1", owner_id=rhea, environment=Environment.PROD,
                    commands=["helm upgrade payments-ledger charts/ledger --version 2.7.1"],
                    rollback_plan="helm rollback payments-ledger",
                    scheduled_start=when.at(day, 6), duration_minutes=20),
        RunbookTask(task_name="Re-run reconciliation", owner_id=rhea,
                    environment=Environment.PROD, commands=["ledgerctl reconcile --since 7d"],
                    validation_steps=["No double-counted refunds in the report"],
                    scheduled_start=when.at(day, 7), duration_minutes=45,
                    depends_on_task_names=["Deploy ledger 2.7.1"]),
    ]  # fmt: skip
    return Runbook(
        runbook_name="Ledger hotfix rollout", tasks=tasks, created_by=rhea, created_at=when.now
    )


def _change(
    change_id: str, status: ChangeStatus, products: Sequence[ReleaseProduct], when: Schedule,
    cast: Cast, day: int,
) -> Change:  # fmt: skip
    """The CHG for a release going live on ``day``, its CIs being the products."""
    rhea = cast.rhea.id
    ctasks = [
        CTask(ctask_id=f"{change_id}-T1", description="Deploy to production", assignee_id=rhea,
              start_time=when.at(day, 6), end_time=when.at(day, 8)),
        CTask(ctask_id=f"{change_id}-T2", description="Post-deploy verification",
              assignee_id=rhea, start_time=when.at(day, 8), end_time=when.at(day, 9),
              status=CTaskStatus.WAITING, dependency_ctask_ids=[f"{change_id}-T1"]),
    ]  # fmt: skip
    return Change(
        change_id=change_id,
        change_type=ChangeType.NORMAL,
        status=status,
        affected_ci=[p.product_id for p in products],
        bp_signoff=status is ChangeStatus.SCHEDULED,
        ctasks=ctasks,
    )
