"""Reading releases: the list, one release, its readiness summary and its timeline — with
the visibility rules of Slack's `list`, `status` and `history` (the same core calls)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.api.routing import Call, Route
from core.models.approval import QuorumRule, Withdrawal
from core.models.release import (
    AttachmentRef,
    Change,
    Milestone,
    ReleaseProduct,
    Runbook,
)
from core.models.statuses import (
    ApprovalStatus,
    Decision,
    Environment,
    GateStatus,
    MilestoneStatus,
)
from core.models.timeline import EventActor, TargetPath
from core.rules.approvals import progress, progress_line, withdraws_on_change
from core.rules.principal import Scope
from core.rules.readiness import (
    Blocker,
    MilestoneRef,
    Readiness,
    ReadinessSummary,
    ReleaseCard,
    summarize,
)
from core.services.container import Services
from core.services.releases import MAX_PAGE
from core.services.timeline import MAX_EVENTS

TAG = "releases"
RELEASE_PARAM = {"release": "The release's id (e.g. REL-2026.12, any case) or its _id"}


class ReleaseListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    limit: int = Field(20, ge=1, le=MAX_PAGE, description=f"Releases per page, 1–{MAX_PAGE}")
    cursor: str | None = Field(
        None, max_length=200, description="The next_cursor of the previous page"
    )
    q: str | None = Field(
        None,
        max_length=100,
        description="Matches the start of the release id or of a word of its name, any case",
    )


class TimelineQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    limit: int = Field(50, ge=1, le=MAX_EVENTS, description=f"Events, newest first, 1–{MAX_EVENTS}")


class GateCounts(BaseModel):
    """Of the release's gates, how many are in each status."""

    model_config = ConfigDict(extra="forbid")

    NOT_STARTED: int = 0
    IN_PROGRESS: int = 0
    BLOCKED: int = 0
    PASSED: int = 0
    FAILED: int = 0
    WAIVED: int = 0

    @classmethod
    def of(cls, counts: dict[GateStatus, int]) -> GateCounts:
        return cls.model_validate({status.value: n for status, n in counts.items()})


class ReleaseListItem(BaseModel):
    id: str
    release_id: str
    release_name: str
    release_date: date
    release_type: str
    squad_ids: list[str]
    readiness: Readiness
    is_ready_for_approval: bool
    all_required_gates_passed: bool
    has_blockers: bool
    total_gates: int
    counts: GateCounts

    @classmethod
    def of(cls, card: ReleaseCard) -> ReleaseListItem:
        summary = card.summary
        return cls(
            id=card.id,
            release_id=card.release_id,
            release_name=card.release_name,
            release_date=card.release_date,
            release_type=card.release_type,
            squad_ids=list(card.squad_ids),
            readiness=summary.readiness,
            is_ready_for_approval=summary.is_ready_for_approval,
            all_required_gates_passed=summary.all_required_gates_passed,
            has_blockers=summary.has_blockers,
            total_gates=summary.total_gates,
            counts=GateCounts.of(summary.counts),
        )


class ReleasePage(BaseModel):
    items: list[ReleaseListItem]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null: no more")


class ReleaseView(BaseModel):
    """A release with everything in it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    release_id: str
    release_name: str
    release_date: date
    release_type: str
    scope_application_ids: list[str]
    squad_ids: list[str]
    description: str
    products: list[ReleaseProduct]
    runbooks: list[Runbook]
    chg: Change | None
    attachment_refs: list[AttachmentRef]
    created_by: str
    created_at: datetime
    version: int
    archived_at: datetime | None = Field(
        description="When an admin archived it (hidden from lists, changed by nothing until "
        "restored: POST …/releases/{release}/restore); null: not archived"
    )
    archived_by: str | None = Field(description="The id of the admin who archived it")
    archived_reason: str | None = Field(description="Why it was archived")


class MilestonePlace(BaseModel):
    """Which milestone, and where it sits in its release: what every milestone view starts with."""

    product_id: str
    product_name: str
    gate_name: str
    milestone_key: str
    milestone_name: str
    environment: Environment

    @staticmethod
    def of_ref(ref: MilestoneRef) -> dict[str, Any]:
        milestone = ref.milestone
        return {
            "product_id": ref.product_id,
            "product_name": ref.product_name,
            "gate_name": ref.gate_name,
            "milestone_key": milestone.milestone_key,
            "milestone_name": milestone.milestone_name,
            "environment": milestone.environment,
        }


class PolicyView(BaseModel):
    """Who must approve: each rule needs ``count`` distinct people holding the role ``role``
    (or, no role, any of the role flags ``flags``); a person counts once across the rules."""

    rules: list[QuorumRule]
    describe: str = Field(
        description="The rules as people read them: 1 × QA Lead + 2 × Payments Owner"
    )
    expires_after_hours: int | None = Field(
        description="A pending approval expires this long after it was asked for; null: never"
    )
    withdraw_when_evidence_changes: bool | None = Field(
        description="As set: null is the default (on for prod milestones only)"
    )
    withdraws: bool = Field(
        description="Whether this milestone's votes are withdrawn when its evidence changes"
    )
    is_default: bool = Field(
        description="No policy was set: one approval manager, or one approver, as "
        "requires_approval_manager says"
    )


class RuleProgress(BaseModel):
    label: str
    have: int = Field(description="The approving votes counted toward the rule")
    need: int


class VoteView(BaseModel):
    user_id: str = Field(description="Whose vote it is (who counts)")
    username: str
    cast_by_user_id: str | None = Field(description="A delegate who cast it in their place")
    cast_by: str | None
    decision: Decision
    at: datetime
    roles: list[str] = Field(description="The voter's roles when they voted")
    comment: str | None


class ApprovalDetail(BaseModel):
    """An approval's policy, how far it has got, the votes, who asked and until when."""

    policy: PolicyView
    progress: list[RuleProgress] = Field(description="Per rule of the policy")
    votes: list[VoteView] = Field(description="Of this round of asking, in the order cast")
    requested_by_user_id: str | None = Field(
        description="Who asked for it (made it pending, or last changed what it covers)"
    )
    requested_by: str | None
    expires_at: datetime | None = Field(description="When a pending approval expires")
    withdrawal: Withdrawal | None = Field(
        description="The last votes withdrawn because their evidence changed, and why"
    )

    @staticmethod
    def fields_of(milestone: Milestone) -> dict[str, Any]:
        approval = milestone.approval
        policy = approval.effective_policy
        return {
            "policy": PolicyView(
                rules=policy.rules,
                describe=policy.describe(),
                expires_after_hours=policy.expires_after_hours,
                withdraw_when_evidence_changes=policy.withdraw_when_evidence_changes,
                withdraws=withdraws_on_change(milestone),
                is_default=approval.policy is None,
            ),
            "progress": [
                RuleProgress(label=label, have=have, need=need)
                for label, have, need in progress(approval)
            ],
            "votes": [
                VoteView(
                    user_id=v.user_id,
                    username=v.username,
                    cast_by_user_id=v.cast_by_user_id,
                    cast_by=v.cast_by_username,
                    decision=v.decision,
                    at=v.at,
                    roles=v.role_snapshot,
                    comment=v.comment,
                )
                for v in approval.votes
            ],
            "requested_by_user_id": approval.requested_by,
            "requested_by": approval.requested_by_username,
            "expires_at": approval.expires_at,
            "withdrawal": approval.withdrawal,
        }


class MilestoneRefView(MilestonePlace):
    start_date: datetime
    end_date: datetime
    status: MilestoneStatus
    owner_id: str | None
    approval_status: ApprovalStatus
    approval_required: bool
    approver_username: str | None
    approval_comment: str | None
    # The summary stays light: the policy and its progress in words; the votes and the rest
    # are in …/approvals.
    approval_policy: str = Field(description="Who must approve: 1 × QA Lead + 2 × Payments Owner")
    approval_progress: str = Field(description="How far it got: QA Lead 1/1 · Payments Owner 1/2")

    @classmethod
    def of(cls, ref: MilestoneRef) -> MilestoneRefView:
        milestone, approval = ref.milestone, ref.milestone.approval
        return cls(
            **cls.of_ref(ref),
            start_date=milestone.start_date,
            end_date=milestone.end_date,
            status=milestone.status,
            owner_id=milestone.owner_id,
            approval_status=approval.status,
            approval_required=approval.required,
            approver_username=approval.approver_username,
            approval_comment=approval.comment,
            approval_policy=approval.effective_policy.describe(),
            approval_progress=progress_line(approval),
        )


class BlockerView(BaseModel):
    """A BLOCKED or FAILED gate, or a BLOCKED milestone (milestone_key set)."""

    product_id: str
    product_name: str
    gate_name: str
    status: str
    milestone_key: str | None
    milestone_name: str | None
    comment: str | None

    @classmethod
    def of(cls, blocker: Blocker) -> BlockerView:
        return cls(
            product_id=blocker.product_id,
            product_name=blocker.product_name,
            gate_name=blocker.gate_name,
            status=blocker.status,
            milestone_key=blocker.milestone_key,
            milestone_name=blocker.milestone_name,
            comment=blocker.comment,
        )


class ReleaseSummaryView(BaseModel):
    """The readiness summary, as Slack's status message shows it."""

    release_id: str
    release_name: str
    release_date: date
    readiness: Readiness
    total_gates: int
    counts: GateCounts
    all_required_gates_passed: bool = Field(description="Every required gate PASSED or WAIVED")
    has_blockers: bool
    is_ready_for_approval: bool = Field(
        description="Some gate, every required one passed, no blocker"
    )
    blockers: list[BlockerView]
    next_milestones: list[MilestoneRefView]
    pending_approvals: list[MilestoneRefView]
    rejected_approvals: list[MilestoneRefView]

    @classmethod
    def of(cls, summary: ReadinessSummary) -> ReleaseSummaryView:
        return cls(
            release_id=summary.release_id,
            release_name=summary.release_name,
            release_date=summary.release_date,
            readiness=summary.readiness,
            total_gates=summary.total_gates,
            counts=GateCounts.of(summary.counts),
            all_required_gates_passed=summary.all_required_gates_passed,
            has_blockers=summary.has_blockers,
            is_ready_for_approval=summary.is_ready_for_approval,
            blockers=[BlockerView.of(b) for b in summary.blockers],
            next_milestones=[MilestoneRefView.of(r) for r in summary.next_milestones],
            pending_approvals=[MilestoneRefView.of(r) for r in summary.pending_approvals],
            rejected_approvals=[MilestoneRefView.of(r) for r in summary.rejected_approvals],
        )


class TimelineEventView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    action: str
    actor: EventActor
    target: TargetPath
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    comment: str | None
    at: datetime


class TimelineView(BaseModel):
    release_id: str
    events: list[TimelineEventView] = Field(description="Newest first")


def release_routes(services: Services) -> list[Route]:
    async def list_releases(call: Call) -> ReleasePage:
        query = call.query(ReleaseListQuery)
        page = await services.releases.list_releases(
            call.actor, query=query.q, cursor=query.cursor, limit=query.limit
        )
        items = [ReleaseListItem.of(card) for card in page.items]
        return ReleasePage(items=items, next_cursor=page.next_cursor)

    async def get_release(call: Call) -> ReleaseView:
        release = await services.releases.get(call.actor, call.params["release"])
        return ReleaseView.model_validate(release)

    async def get_release_summary(call: Call) -> ReleaseSummaryView:
        release = await services.releases.get(call.actor, call.params["release"])
        return ReleaseSummaryView.of(summarize(release))

    async def get_release_timeline(call: Call) -> TimelineView:
        limit = call.query(TimelineQuery).limit
        release, events = await services.timeline.history(
            call.actor, call.params["release"], limit=limit
        )
        return TimelineView(
            release_id=release.release_id,
            events=[TimelineEventView.model_validate(e) for e in events],
        )

    read = Scope.RELEASES_READ
    return [
        Route(
            "GET",
            "/api/v1/releases",
            list_releases,
            "The releases you can see, newest release date first",
            TAG,
            scope=read,
            query=ReleaseListQuery,
            response=ReleasePage,
            description="Only the releases of your squads, unless you may view all.",
        ),
        Route(
            "GET",
            "/api/v1/releases/{release}",
            get_release,
            "One release",
            TAG,
            scope=read,
            response=ReleaseView,
            params=RELEASE_PARAM,
            description="A release you may not see answers 404, exactly as an unknown one.",
        ),
        Route(
            "GET",
            "/api/v1/releases/{release}/summary",
            get_release_summary,
            "A release's readiness summary",
            TAG,
            scope=read,
            response=ReleaseSummaryView,
            params=RELEASE_PARAM,
        ),
        Route(
            "GET",
            "/api/v1/releases/{release}/timeline",
            get_release_timeline,
            "A release's history, newest first",
            TAG,
            scope=read,
            query=TimelineQuery,
            response=TimelineView,
            params=RELEASE_PARAM,
        ),
    ]
