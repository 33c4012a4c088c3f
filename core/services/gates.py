"""Quality gates and their milestones, under rules 1–3."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import Field

from core.clock import Clock
from core.errors import Duplicate
from core.models.approval import Policy
from core.models.common import Comment, DomainModel, Key, Name, PlannedDatetime, Text
from core.models.freeze import FreezeWindow
from core.models.release import (
    CiCommit,
    CiLink,
    CiResult,
    CiStatus,
    Environment,
    GateStatus,
    Milestone,
    MilestoneApproval,
    MilestoneStatus,
    QualityGate,
    Release,
    ReleaseProduct,
)
from core.models.timeline import TargetPath
from core.ports import ReleaseRepository
from core.rules import approvals, freeze, gates, milestones
from core.rules.operations import ADD_GATE, ADD_MILESTONE, CHANGE_GATE, CHANGE_MILESTONE
from core.rules.permissions import Actor
from core.services.approvals import Windows
from core.services.outbox import Outbox
from core.services.release_changes import Recorded, ReleaseChanges, jsonable


class GateDraft(DomainModel):
    gate_name: Name
    description: Text = ""
    order: int = Field(default=0, ge=0, le=10_000)
    required: bool = True
    owner_id: str | None = None


class GateChange(DomainModel):
    """Fields left as None stay as they are."""

    gate_status: GateStatus | None = None
    comment: Comment | None = None
    description: Text | None = None
    order: int | None = Field(default=None, ge=0, le=10_000)
    required: bool | None = None
    owner_id: str | None = None
    # Passing or waiving a gate of a prod milestone during a freeze: an approval manager's
    # reason to go ahead (recorded); ignored when no freeze holds it.
    break_glass: Comment | None = None


APPROVAL_FIELDS = {"approval_required", "requires_approval_manager", "approval_policy"}


class MilestoneDraft(DomainModel):
    milestone_key: Key
    milestone_name: Name
    environment: Environment
    start_date: PlannedDatetime
    end_date: PlannedDatetime
    status: MilestoneStatus = MilestoneStatus.NOT_STARTED
    owner_id: str | None = None
    approval_required: bool = False
    requires_approval_manager: bool = False
    # None: the policy of before policies (one approval manager, or one decider).
    approval_policy: Policy | None = None


class MilestoneChange(DomainModel):
    """Fields left as None stay as they are."""

    milestone_name: Name | None = None
    environment: Environment | None = None
    start_date: PlannedDatetime | None = None
    end_date: PlannedDatetime | None = None
    status: MilestoneStatus | None = None
    owner_id: str | None = None
    approval_required: bool | None = None
    requires_approval_manager: bool | None = None
    approval_policy: Policy | None = None  # None: as it is (or as the flag above says)
    # Making a passed gate's milestone prod during a freeze: an approval manager's reason.
    break_glass: Comment | None = None


class CiReport(DomainModel):
    """A CI run's result for one gate, as a pipeline reports it."""

    status: CiStatus = Field(description="The gate's new status (WAIVED is a person's call)")
    url: CiLink | None = Field(default=None, description="The run, an http(s) link")
    commit: CiCommit | None = Field(default=None, description="The commit or ref tested")
    summary: Comment | None = Field(
        default=None, description="One line for people; becomes the gate's comment"
    )


class GateService:
    def __init__(
        self,
        releases: ReleaseRepository,
        outbox: Outbox,
        clock: Clock,
        freezes: Windows,
        policy: approvals.ApprovalPolicy | None = None,
    ) -> None:
        self._changes = ReleaseChanges(releases, outbox, clock)
        self._freezes = freezes
        self._policy = policy or approvals.ApprovalPolicy()

    async def add_gate(self, actor: Actor, ref: str, product_id: str, draft: GateDraft) -> Release:
        ADD_GATE.require(actor)

        def change(release: Release, _now: datetime) -> Recorded:
            product = release.product(product_id)
            if any(
                g.gate_name.casefold() == draft.gate_name.casefold() for g in product.quality_gates
            ):
                raise Duplicate(
                    f"Product '{product_id}' already has a gate named '{draft.gate_name}'.",
                    fields={"gate_name": "A gate with this name exists"},
                )
            product.quality_gates.append(QualityGate(**draft.model_dump()))
            target = TargetPath(product_id=product_id, gate_name=draft.gate_name)
            return Recorded("gate.added", target, after=draft.model_dump(mode="json"))

        return await self._changes.apply(actor, ref, change)

    async def update_gate(
        self, actor: Actor, ref: str, product_id: str, gate_name: str, update: GateChange
    ) -> Release:
        # A comment given with a status belongs to that status change (a waiver's reason);
        # on its own it is an ordinary edit.
        with_status = {"gate_status", "comment"} if update.gate_status else {"gate_status"}
        edits = update.model_dump(exclude_none=True, exclude=with_status | {"break_glass"})
        if edits:
            CHANGE_GATE.require(actor)
        actor.require_active()

        def change(
            release: Release, now: datetime, windows: Sequence[FreezeWindow] | None
        ) -> Recorded | None:
            product = release.product(product_id)
            gate = product.gate(gate_name)
            if update.gate_status is not None:
                gates.check_gate_status_change(actor, gate, update.gate_status, update.comment)
                _guard(windows, release, product, gate, update.gate_status, now, actor, update)
            if update.required is not None:
                gates.check_required_change(actor, gate, update.required)
            before, after = _diff(gate, {**edits, **_status_part(update)})
            if not after:
                return None
            for name, value in after.items():
                setattr(gate, name, value)
            target = TargetPath(product_id=product_id, gate_name=gate.gate_name)
            action = "gate.waived" if update.gate_status is GateStatus.WAIVED else "gate.updated"
            return Recorded(
                action, target, before=before, after=jsonable(after), comment=update.comment
            )

        return await self._changes.apply_guarded(actor, ref, change, self._freezes)

    async def report_result(
        self, actor: Actor, ref: str, product_id: str, gate_name: str, report: CiReport
    ) -> Release:
        """A CI run's result: the gate's status and comment set as the gate form sets them
        (the same rule, timeline entry and events), and the run recorded on the gate.

        Always needs the gate-managing permission, even when the status stays (a new run is
        a change). The same report again changes nothing (no timeline entry)."""
        CHANGE_GATE.require(actor)

        def change(
            release: Release, now: datetime, windows: Sequence[FreezeWindow] | None
        ) -> Recorded | None:
            product = release.product(product_id)
            gate = product.gate(gate_name)
            status = report.status.gate_status
            gates.check_gate_status_change(actor, gate, status, report.summary)
            _guard(windows, release, product, gate, status, now, actor, None)
            result = CiResult(
                **report.model_dump(), reported_at=now, reported_by=actor.user.username
            )
            if (
                gate.ci_result is not None
                and gate.ci_result.same_run(result)
                and (gate.gate_status, gate.comment) == (status, report.summary)
            ):
                return None
            before, after = _diff(gate, {"gate_status": status, "comment": report.summary})
            for name, value in after.items():
                setattr(gate, name, value)
            runs = _run_fields(gate.ci_result), _run_fields(result)
            before |= {k: v for k, v in runs[0].items() if v is not None and runs[1][k] != v}
            after |= {k: v for k, v in runs[1].items() if v is not None}
            gate.ci_result = result
            target = TargetPath(product_id=product_id, gate_name=gate.gate_name)
            return Recorded(
                "gate.reported",
                target,
                before=before,
                after=jsonable(after),
                comment=report.summary,
            )

        return await self._changes.apply_guarded(actor, ref, change, self._freezes)

    async def add_milestone(
        self, actor: Actor, ref: str, product_id: str, gate_name: str, draft: MilestoneDraft
    ) -> Release:
        ADD_MILESTONE.require(actor)

        def change(release: Release, now: datetime) -> Recorded:
            gate = release.product(product_id).gate(gate_name)
            if any(m.milestone_key == draft.milestone_key for m in gate.milestones):
                raise Duplicate(
                    f"Gate '{gate.gate_name}' already has milestone '{draft.milestone_key}'.",
                    fields={"milestone_key": "A milestone with this key exists"},
                )
            fields = draft.model_dump(exclude=APPROVAL_FIELDS)
            approvals.check_settings(
                draft.approval_required, draft.requires_approval_manager, draft.approval_policy
            )
            approval = approvals.new_approval(
                draft.approval_required,
                draft.requires_approval_manager,
                now,
                policy=draft.approval_policy,
                requested_by=actor,
            )
            milestone = Milestone(**fields, approval=approval)
            milestones.place_milestone(gate, milestone)
            target = TargetPath(
                product_id=product_id, gate_name=gate.gate_name, milestone_key=draft.milestone_key
            )
            return Recorded("milestone.added", target, after=draft.model_dump(mode="json"))

        return await self._changes.apply(actor, ref, change)

    async def update_milestone(
        self,
        actor: Actor,
        ref: str,
        product_id: str,
        gate_name: str,
        milestone_key: str,
        update: MilestoneChange,
    ) -> Release:
        CHANGE_MILESTONE.require(actor)

        def change(
            release: Release, now: datetime, windows: Sequence[FreezeWindow] | None
        ) -> Recorded | None:
            product = release.product(product_id)
            gate = product.gate(gate_name)
            current = gate.milestone(milestone_key)
            edits = update.model_dump(exclude_none=True, exclude=APPROVAL_FIELDS | {"break_glass"})
            candidate = current.model_copy(deep=True)
            before, after = _diff(current, edits)
            for name, value in after.items():
                setattr(candidate, name, value)
            required = _pick(update.approval_required, current.approval.required)
            manager = _pick(
                update.requires_approval_manager, current.approval.requires_approval_manager
            )
            policy = update.approval_policy
            if policy is None and update.requires_approval_manager is None:
                policy = current.approval.policy  # kept as it is
            if set(after) - {"owner_id"}:  # what it covers changed (its owner is not that)
                approvals.covered_changed(actor, candidate)
            approvals.change_settings(actor, candidate, required, manager, now, policy=policy)
            dropped = approvals.after_edit(actor, current, candidate, self._policy, now)
            if _becomes_prod(current, candidate) and gate.gate_status in PASSING:
                # A passed gate's milestone made prod during a freeze is a gate passing then.
                freeze.guard(
                    windows,
                    release,
                    product,
                    now,
                    break_glass=update.break_glass,
                    actor=actor,
                    what=f"{milestone_key} ({product_id} / {gate.gate_name}) → prod",
                )
            if _settings(candidate.approval) != _settings(current.approval):
                before["approval"] = current.approval.status.value
                after["approval"] = candidate.approval.status.value
            if dropped:  # their owner's or requester's: no longer counted
                after["votes_dropped"] = dropped
            if not after:
                return None
            milestones.place_milestone(gate, candidate)
            target = TargetPath(
                product_id=product_id, gate_name=gate.gate_name, milestone_key=milestone_key
            )
            return Recorded(
                "milestone.updated", target, before=jsonable(before), after=jsonable(after)
            )

        return await self._changes.apply_guarded(actor, ref, change, self._freezes)


PASSING = frozenset({GateStatus.PASSED, GateStatus.WAIVED})


def _becomes_prod(was: Milestone, now: Milestone) -> bool:
    return now.environment is Environment.PROD and was.environment is not Environment.PROD


def _guard(
    windows: Sequence[FreezeWindow] | None,
    release: Release,
    product: ReleaseProduct,
    gate: QualityGate,
    status: GateStatus,
    now: datetime,
    actor: Actor,
    update: GateChange | None,
) -> None:
    """A gate of a prod milestone moving to PASSED or WAIVED is held by a freeze in scope
    (``freeze.guard``); other moves, and gates without prod milestones, never are."""
    if status not in PASSING or status is gate.gate_status:
        return
    if not any(m.environment is Environment.PROD for m in gate.milestones):
        return
    freeze.guard(
        windows,
        release,
        product,
        now,
        break_glass=update.break_glass if update is not None else None,
        actor=actor,
        what=f"{gate.gate_name} ({product.product_id}) → {status.value}",
    )


def _run_fields(result: CiResult | None) -> dict[str, str | None]:
    """What the timeline keeps of a CI run: its link and commit (``ci_url``, ``ci_commit``)."""
    if result is None:
        return {"ci_url": None, "ci_commit": None}
    return {"ci_url": result.url, "ci_commit": result.commit}


def _status_part(update: GateChange) -> dict[str, Any]:
    if update.gate_status is None:
        return {}
    return {"gate_status": update.gate_status, "comment": update.comment}


def _settings(approval: MilestoneApproval) -> dict[str, Any]:
    return approval.model_dump(exclude={"requested_by", "requested_by_username"})


def _pick(value: bool | None, default: bool) -> bool:
    return default if value is None else value


def _diff(model: DomainModel, edits: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields whose value would change: (old values, new values)."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in edits.items():
        old = getattr(model, name)
        if old != value:
            before[name] = old
            after[name] = value
    return jsonable(before), after
