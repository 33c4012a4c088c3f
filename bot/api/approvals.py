"""A pipeline waits for approval: every milestone's approval in a release, with its state,
who decided and when, read from the release as Slack's `status` reads it (same visibility)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from bot.api.releases import RELEASE_PARAM, ApprovalDetail, MilestonePlace
from bot.api.routing import Call, Route
from core.models.statuses import ApprovalStatus, MilestoneStatus
from core.rules.principal import Scope
from core.rules.readiness import MilestoneRef, milestone_refs
from core.services.container import Services

TAG = "approvals"


class ApprovalsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: ApprovalStatus | None = Field(
        None, description="Only the approvals in this state (e.g. PENDING)"
    )


class ApprovalView(MilestonePlace, ApprovalDetail):
    """One milestone's approval. ``status`` NOT_REQUIRED: the milestone needs none."""

    milestone_status: MilestoneStatus
    required: bool
    requires_approval_manager: bool
    status: ApprovalStatus
    requested_at: datetime | None = Field(description="When this round of asking began")
    decided_by_user_id: str | None
    decided_by: str | None = Field(description="The username of who approved or rejected")
    decided_at: datetime | None
    comment: str | None

    @classmethod
    def of(cls, ref: MilestoneRef) -> ApprovalView:
        milestone, approval = ref.milestone, ref.milestone.approval
        decided = approval.is_decided
        return cls(
            **cls.of_ref(ref),
            milestone_status=milestone.status,
            required=approval.required,
            requires_approval_manager=approval.requires_approval_manager,
            status=approval.status,
            requested_at=approval.requested_at,
            decided_by_user_id=approval.approver_user_id if decided else None,
            decided_by=approval.approver_username if decided else None,
            decided_at=approval.approved_at if decided else None,
            comment=approval.comment if decided else None,
            **ApprovalDetail.fields_of(milestone),
        )


class ApprovalList(BaseModel):
    release_id: str
    approvals: list[ApprovalView] = Field(description="In the order `status` shows the gates")


def approval_routes(services: Services) -> list[Route]:
    async def list_release_approvals(call: Call) -> ApprovalList:
        wanted = call.query(ApprovalsQuery).status
        release = await services.releases.get(call.actor, call.params["release"])
        refs = milestone_refs(release)
        return ApprovalList(
            release_id=release.release_id,
            approvals=[
                ApprovalView.of(r)
                for r in refs
                if wanted is None or r.milestone.approval.status is wanted
            ],
        )

    return [
        Route(
            "GET",
            "/api/v1/releases/{release}/approvals",
            list_release_approvals,
            "Every milestone's approval in a release, with its state",
            TAG,
            scope=Scope.APPROVALS_READ,
            query=ApprovalsQuery,
            response=ApprovalList,
            params=RELEASE_PARAM,
            description=(
                "Poll it from a pipeline waiting for a sign-off: the milestone's `status` "
                "turns APPROVED or REJECTED, with who decided, when and why. A release you "
                "may not see answers 404, exactly as an unknown one."
            ),
        )
    ]
