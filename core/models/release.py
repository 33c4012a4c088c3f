"""The release aggregate: one document with its products, gates, milestones, runbooks, CHG."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Protocol

from pydantic import AfterValidator, Field, StringConstraints

from core.errors import Kind, NotFound
from core.models.approval import (
    ONE_APPROVAL_MANAGER,
    ONE_DECIDER,
    BreakGlass,
    Policy,
    Vote,
    Withdrawal,
)
from core.models.common import (
    URL_MAX,
    Comment,
    DomainModel,
    Entity,
    Key,
    Name,
    PlannedDate,
    Text,
    Url,
    UtcDatetime,
    new_id,
)
from core.models.statuses import (
    ApprovalStatus as ApprovalStatus,
    ChangeStatus as ChangeStatus,
    ChangeType as ChangeType,
    CTaskStatus as CTaskStatus,
    Decision as Decision,
    Environment as Environment,
    FixedVersionStatus as FixedVersionStatus,
    GateStatus as GateStatus,
    MilestoneStatus as MilestoneStatus,
    TaskStatus as TaskStatus,
)
from core.models.timeline import TimelineEvent

# A runbook task lasts at most 30 days.
MAX_TASK_MINUTES = 60 * 24 * 30


class AttachmentRef(DomainModel):
    attachment_id: str
    label: Name
    tags: list[Key] = Field(default_factory=list)
    added_by: str
    added_at: UtcDatetime


class MilestoneApproval(DomainModel):
    """``approver_*``, ``approved_at`` and ``comment`` are the decision: the vote that met the
    policy, or the rejection. A document saved before policies (no ``policy``, no ``votes``)
    means what it meant: one approval manager, or one decider (``effective_policy``)."""

    required: bool = False
    requires_approval_manager: bool = False
    status: ApprovalStatus = ApprovalStatus.NOT_REQUIRED
    requested_at: UtcDatetime | None = None
    approver_user_id: str | None = None
    approver_username: str | None = None
    approver_role_snapshot: list[str] = Field(default_factory=list)
    approved_at: UtcDatetime | None = None
    comment: str | None = None
    attachment_refs: list[AttachmentRef] = Field(default_factory=list)
    policy: Policy | None = None
    votes: list[Vote] = Field(default_factory=list)
    # Who asked (made it pending, or last changed what it covers): never counts toward it.
    requested_by: str | None = None
    requested_by_username: str | None = None
    expires_at: UtcDatetime | None = None
    withdrawal: Withdrawal | None = None  # the last votes withdrawn, and why

    @property
    def is_decided(self) -> bool:
        return self.status in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED)

    def ran_out(self, now: datetime) -> bool:
        """Pending past its deadline (EXPIRED already, or about to be made so)."""
        return (
            self.status is ApprovalStatus.PENDING
            and self.expires_at is not None
            and self.expires_at <= now
        )

    @property
    def effective_policy(self) -> Policy:
        if self.policy is not None:
            return self.policy
        return ONE_APPROVAL_MANAGER if self.requires_approval_manager else ONE_DECIDER


class Milestone(DomainModel):
    milestone_key: Key
    milestone_name: Name
    environment: Environment
    start_date: UtcDatetime
    end_date: UtcDatetime
    status: MilestoneStatus = MilestoneStatus.NOT_STARTED
    owner_id: str | None = None
    attachment_refs: list[AttachmentRef] = Field(default_factory=list)
    approval: MilestoneApproval = Field(default_factory=MilestoneApproval)


class CiStatus(StrEnum):
    """What a CI run may report on a gate: the gate statuses but WAIVED (a person's call)."""

    PASSED = GateStatus.PASSED.value
    FAILED = GateStatus.FAILED.value
    IN_PROGRESS = GateStatus.IN_PROGRESS.value
    BLOCKED = GateStatus.BLOCKED.value

    @property
    def gate_status(self) -> GateStatus:
        return GateStatus(self.value)


HTTP_LINK = re.compile(r"https?://[^\s<>|]+")
_COMMIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/@+:-]*")
COMMIT_MAX = 100


def _http_link(value: str) -> str:
    # Also what keeps a link safe inside Slack's <url|label> markup: no spaces, < > or |.
    if not HTTP_LINK.fullmatch(value):
        raise ValueError("must be an http:// or https:// link without spaces, < > or |")
    return value


def _commit(value: str) -> str:
    if not _COMMIT.fullmatch(value):
        raise ValueError(
            "must be a commit hash or ref: letters, digits and . _ / @ + : - (e.g. 3f2a9c1)"
        )
    return value


CiLink = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=URL_MAX), AfterValidator(_http_link)
]
CiCommit = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=COMMIT_MAX),
    AfterValidator(_commit),
]


class CiResult(DomainModel):
    """The last CI run reported on a gate (through the API): its link is shown where people
    read the gate (`status`, the history)."""

    status: CiStatus
    url: CiLink | None = None
    commit: CiCommit | None = None
    summary: Comment | None = None
    reported_at: UtcDatetime
    reported_by: str  # the username the reporting token acts as

    def same_run(self, other: CiResult) -> bool:
        """The same report again (when and by whom aside)."""
        fields = {"status", "url", "commit", "summary"}
        return self.model_dump(include=fields) == other.model_dump(include=fields)


class QualityGate(DomainModel):
    gate_name: Name
    description: Text = ""
    order: int = Field(default=0, ge=0, le=10_000)
    required: bool = True
    gate_status: GateStatus = GateStatus.NOT_STARTED
    owner_id: str | None = None
    comment: str | None = None
    attachment_refs: list[AttachmentRef] = Field(default_factory=list)
    milestones: list[Milestone] = Field(default_factory=list)
    # None for a gate no CI has reported on (and for every gate stored before CI could).
    ci_result: CiResult | None = None

    def milestone(self, key: str) -> Milestone:
        for milestone in self.milestones:
            if milestone.milestone_key == key:
                return milestone
        known = ", ".join(m.milestone_key for m in self.milestones) or "none yet"
        raise NotFound(
            f"Gate '{self.gate_name}' has no milestone '{key}' (milestones: {known})",
            kind=Kind.MILESTONE,
            fields={"milestone_key": "unknown milestone"},
        )


class VersionBoard(DomainModel):
    jira_board_id: Key
    jira_board_link: Url | None = None
    fixed_version_link: Url | None = None


class FixedVersion(DomainModel):
    version_key: Key
    version_name: Name
    status: FixedVersionStatus = FixedVersionStatus.UNRELEASED


class ReleaseProduct(DomainModel):
    application_id: Key
    product_id: Key
    product_name: Name
    fixed_version: FixedVersion | None = None
    version_boards: list[VersionBoard] = Field(default_factory=list)
    quality_gates: list[QualityGate] = Field(default_factory=list)
    attachment_refs: list[AttachmentRef] = Field(default_factory=list)
    participating_squad_ids: list[Key] = Field(default_factory=list)

    def gate(self, name: str) -> QualityGate:
        wanted = name.casefold()
        for gate in self.quality_gates:
            if gate.gate_name.casefold() == wanted:
                return gate
        known = ", ".join(g.gate_name for g in self.quality_gates) or "none yet"
        raise NotFound(
            f"Product '{self.product_id}' has no gate '{name}' (gates: {known})",
            kind=Kind.GATE,
            fields={"gate_name": "unknown gate"},
        )

    def sorted_gates(self) -> list[QualityGate]:
        return sorted(self.quality_gates, key=lambda g: (g.order, g.gate_name.casefold()))


class RunbookTask(DomainModel):
    task_name: Name
    description: Text = ""
    owner_id: str | None = None
    environment: Environment | None = None
    preconditions: list[Text] = Field(default_factory=list)
    commands: list[Text] = Field(default_factory=list)
    rollback_plan: Text = ""
    validation_steps: list[Text] = Field(default_factory=list)
    scheduled_start: UtcDatetime | None = None
    scheduled_end: UtcDatetime | None = None
    duration_minutes: int | None = Field(default=None, ge=0, le=MAX_TASK_MINUTES)
    depends_on_task_names: list[Name] = Field(default_factory=list)
    status: TaskStatus = TaskStatus.TODO
    attachment_refs: list[AttachmentRef] = Field(default_factory=list)


class Runbook(DomainModel):
    runbook_id: str = Field(default_factory=new_id)
    runbook_name: Name
    description: Text = ""
    tasks: list[RunbookTask] = Field(default_factory=list)
    attachment_refs: list[AttachmentRef] = Field(default_factory=list)
    created_by: str
    created_at: UtcDatetime

    def task(self, name: str) -> RunbookTask:
        for task in self.tasks:
            if task.task_name.casefold() == name.casefold():
                return task
        known = ", ".join(t.task_name for t in self.tasks) or "none yet"
        raise NotFound(
            f"Runbook '{self.runbook_name}' has no task '{name}' (tasks: {known})",
            kind=Kind.TASK,
            fields={"task_name": "unknown task"},
        )


class CTask(DomainModel):
    ctask_id: Key
    description: Text = ""
    assignee_id: str | None = None
    start_time: UtcDatetime | None = None
    end_time: UtcDatetime | None = None
    status: CTaskStatus = CTaskStatus.TODO
    dependency_ctask_ids: list[Key] = Field(default_factory=list)
    attachment_refs: list[AttachmentRef] = Field(default_factory=list)


class Change(DomainModel):
    change_id: Key
    change_type: ChangeType = ChangeType.NORMAL
    status: ChangeStatus = ChangeStatus.NEW
    affected_ci: list[Name] = Field(default_factory=list)
    bp_signoff: bool = False
    ctasks: list[CTask] = Field(default_factory=list)
    attachment_refs: list[AttachmentRef] = Field(default_factory=list)


class ReleaseDraft(DomainModel):
    release_id: Key
    release_name: Name
    release_date: PlannedDate
    release_type: Key = "minor"
    scope_application_ids: list[Key] = Field(default_factory=list)
    squad_ids: list[Key] = Field(default_factory=list)
    description: Text = ""


class Release(Entity, ReleaseDraft):
    # Checked when a release is created (ReleaseDraft); one stored before the check stays
    # readable.
    release_date: date
    products: list[ReleaseProduct] = Field(default_factory=list)
    runbooks: list[Runbook] = Field(default_factory=list)
    chg: Change | None = None
    attachment_refs: list[AttachmentRef] = Field(default_factory=list)
    # Changes made during a freeze by an approval manager's override, with the reason.
    break_glass: list[BreakGlass] = Field(default_factory=list)
    created_by: str
    created_at: UtcDatetime
    version: int = 0
    # The head of the release's audit chain: how many entries it has and the last one's hash,
    # written with every entry (core/rules/audit.py).
    audit_seq: int = 0
    audit_head: str = ""
    # The outbox: audit entries written in the same (atomic) write as the change they record,
    # then delivered to the timeline and removed (core/services/outbox.py). One left here
    # was not delivered yet, e.g. because the process stopped right after the write.
    outbox: list[TimelineEvent] = Field(default_factory=list)
    # Archived (soft-deleted): hidden from lists, Home, digests and reminders, kept for the
    # audit, changed by nothing but a restore (core/rules/archive.py). None: not archived
    # (every release stored before archiving existed).
    archived_at: UtcDatetime | None = None
    archived_by: str | None = None  # the admin's user id
    archived_reason: str | None = None

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def product(self, product_id: str) -> ReleaseProduct:
        for product in self.products:
            if product.product_id == product_id:
                return product
        known = ", ".join(p.product_id for p in self.products) or "none yet"
        raise NotFound(
            f"Release '{self.release_id}' has no product '{product_id}' (products: {known})",
            kind=Kind.PRODUCT,
            fields={"product_id": "unknown product"},
        )

    def runbook(self, runbook_id: str) -> Runbook:
        for runbook in self.runbooks:
            if runbook_id in (runbook.runbook_id, runbook.runbook_name):
                return runbook
        known = ", ".join(r.runbook_name for r in self.runbooks) or "none yet"
        raise NotFound(
            f"Release '{self.release_id}' has no runbook '{runbook_id}' (runbooks: {known})",
            kind=Kind.RUNBOOK,
            fields={"runbook_id": "unknown runbook"},
        )

    def gates(self) -> list[tuple[ReleaseProduct, QualityGate]]:
        return [(p, g) for p in self.products for g in p.sorted_gates()]


class ReleaseHead(Protocol):
    """What a list line shows of a release besides its readiness: a ``Release``, or the card
    stored with it (``core.rules.readiness.ReleaseCard``)."""

    @property
    def id(self) -> str: ...
    @property
    def release_id(self) -> str: ...
    @property
    def release_name(self) -> str: ...
    @property
    def release_date(self) -> date: ...
    @property
    def release_type(self) -> str: ...
    @property
    def squad_ids(self) -> Sequence[str]: ...
    @property
    def break_glass(self) -> Sequence[BreakGlass]: ...
