"""Editing releases through the API: the same core calls as the Slack forms
(bot/views/editing.py) and the approval buttons (bot/approval_flow.py), so a change made
here has the same rules, timeline entry and Slack consequences (approval DMs, status,
digests) as one made in Slack. Bodies are the core's own drafts wherever they fit; what a
form resolves by hand (a Slack person picked as an owner) is an id here, checked to name a
user."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.api.errors import STATUS, error_response
from bot.api.releases import RELEASE_PARAM, ReleaseView
from bot.api.routing import Call, Route
from core.errors import Conflict, ErrorCode, PastReleaseDate, RuleViolation, ValidationFailed
from core.models.approval import Policy
from core.models.attachment import AttachmentDraft, AttachmentTarget
from core.models.common import DomainModel, Key, Name, UtcDatetime
from core.models.release import (
    AttachmentRef,
    Change,
    CTask,
    Decision,
    FixedVersion,
    Release,
    ReleaseDraft,
    RunbookTask,
)
from core.models.schedule import known_zone
from core.rules.approvals import AlreadyDecided
from core.rules.policy_text import check_roles
from core.rules.principal import Scope
from core.services.container import Services
from core.services.gates import GateChange, GateDraft, MilestoneChange, MilestoneDraft
from core.services.runbooks import MAX_TASKS, RunbookDraft, TaskChange

RELEASES_TAG = "releases"
GATES_TAG = "gates"
APPROVALS_TAG = "approvals"
RUNBOOKS_TAG = "runbooks"
CHANGE_TAG = "change"
ATTACHMENTS_TAG = "attachments"

RELEASE = "/api/v1/releases/{release}"
PRODUCT = f"{RELEASE}/products/{{product}}"
GATE = f"{PRODUCT}/gates/{{gate}}"
MILESTONE = f"{GATE}/milestones/{{milestone}}"
RUNBOOK = f"{RELEASE}/runbooks/{{runbook}}"
ATTACHMENTS_PATH = f"{RELEASE}/attachments"

PRODUCT_PARAMS = {**RELEASE_PARAM, "product": "The product's id in the release (payments-api)"}
GATE_PARAMS = {**PRODUCT_PARAMS, "gate": "The gate's name, any case (URL-encoded)"}
MILESTONE_PARAMS = {**GATE_PARAMS, "milestone": "The milestone's key (uat-signoff)"}
RUNBOOK_PARAMS = {**RELEASE_PARAM, "runbook": "The runbook's id or its name"}
TASK_PARAMS = {**RUNBOOK_PARAMS, "task": "The task's name, any case (URL-encoded)"}

FILES_ELSEWHERE = f"files are linked with POST {ATTACHMENTS_PATH}, not set here"


# --- bodies ----------------------------------------------------------------------------------


class ReleaseCreateBody(ReleaseDraft):
    """The core's release draft, and the confirmation Slack asks for with a second press."""

    confirm_past_date: bool = Field(
        False,
        description="A release dated before today (in your time zone) is refused unless this "
        "is true: its date cannot be changed later.",
    )


class ProductAddBody(DomainModel):
    application_id: Key = Field(description="The catalog application the product belongs to")
    product_id: Key = Field(description="The catalog product to add")
    squad_ids: list[Key] | None = Field(
        None, description="The squads taking part; by default the catalog product's squads"
    )


class ArchiveBody(DomainModel):
    reason: str = Field(
        max_length=2000,
        description="Why it is archived: kept in its history and shown with it (required)",
    )


class ProductChangeBody(DomainModel):
    fixed_version: FixedVersion = Field(description="The product's fixed version in Jira")


class DecisionBody(DomainModel):
    comment: str | None = Field(
        None, description="Why: optional to approve, required to reject (at most 2000 characters)"
    )
    break_glass: str | None = Field(
        None,
        description="Approving a prod milestone during a freeze: an approval manager's reason "
        "to go ahead anyway (recorded, shown in status and the digest); without it such an "
        "approval is refused (409) naming the freeze",
    )


class _NoFiles(BaseModel):
    """Refuses ``attachment_refs`` in a body: linking a file needs its own permission."""

    @field_validator("attachment_refs", check_fields=False)
    @classmethod
    def _no_files(cls, value: list[AttachmentRef]) -> list[AttachmentRef]:
        if value:
            raise ValueError(FILES_ELSEWHERE)
        return value


class RunbookTaskBody(_NoFiles, RunbookTask):
    pass


class RunbookBody(RunbookDraft):
    # Narrowed to tasks without files (lists are invariant for mypy, not for pydantic).
    tasks: list[RunbookTaskBody] = Field(default_factory=list, max_length=MAX_TASKS)  # type: ignore[assignment]


class CTaskBody(_NoFiles, CTask):
    pass


class ChangeBody(_NoFiles, Change):
    """The release's change ticket (CHG) as the Slack change form saves it: CTASKs matched by
    id keep what the body leaves out; a CTASK not listed is dropped."""

    ctasks: list[CTaskBody] = Field(default_factory=list)  # type: ignore[assignment]
    expected_version: int | None = Field(
        None,
        description="The release's version as you read it (GET …/releases/{release}): if it "
        "changed since, nothing is saved (409), so nobody's edit is reverted",
    )


class AttachmentPlace(DomainModel):
    """Where in the release to link the file; nothing: the release itself."""

    product_id: Key | None = None
    gate_name: Name | None = Field(None, description="With product_id")
    milestone_key: Key | None = Field(None, description="With product_id and gate_name")
    runbook_id: str | None = Field(None, description="The runbook's id or name")
    runbook_task_name: Name | None = Field(None, description="With runbook_id")
    ctask_id: Key | None = None


class AttachBody(DomainModel):
    file: AttachmentDraft = Field(description="The file; one with the same sha256 is reused")
    target: AttachmentPlace = Field(default_factory=AttachmentPlace)
    label: str | None = Field(None, description="Shown instead of the file name")


# --- answers ---------------------------------------------------------------------------------


class AttachmentView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    file_name: str
    file_type: str
    file_size: int
    file_url: str
    sha256: str
    tags: list[str]
    uploaded_by: str
    uploaded_at: UtcDatetime


class AttachmentLinked(BaseModel):
    attachment: AttachmentView
    release: ReleaseView


def view(release: Release) -> ReleaseView:
    return ReleaseView.model_validate(release)


# --- the routes ------------------------------------------------------------------------------


def editing_routes(services: Services) -> list[Route]:
    async def known_users(ids: Mapping[str, str | None]) -> None:
        """Each body field naming a user (an owner) names one that exists: a Slack form can
        only pick people, a request can send anything."""
        wanted = {user_id for user_id in ids.values() if user_id}
        found = await services.identity.people(wanted)
        unknown = {
            name: user_id for name, user_id in ids.items() if user_id and user_id not in found
        }
        if unknown:
            said = ", ".join(f"{name} '{user_id}'" for name, user_id in unknown.items())
            raise ValidationFailed(
                f"No releasebot user has the id given as {said}; GET /api/v1/users lists them "
                "(an admin's), GET /api/v1/me shows yours.",
                fields={name: "No such user" for name in unknown},
            )

    async def known_roles(call: Call, policy: Policy | None) -> Policy | None:
        """A policy naming roles that exist, spelled as stored: one naming another could
        never be met."""
        if policy is None:
            return None
        roles = await services.roles.list_roles(call.actor)
        return check_roles(policy, [r.role_name for r in roles], field="body.approval_policy")

    async def create_release(call: Call) -> ReleaseView:
        body = call.body(ReleaseCreateBody)
        draft = ReleaseDraft.model_validate(body.model_dump(exclude={"confirm_past_date"}))
        zone = known_zone(call.actor.user.time_zone)
        try:
            release = await services.releases.create(
                call.actor,
                draft,
                past_date_confirmed=body.confirm_past_date,
                tz=ZoneInfo(zone) if zone else UTC,
            )
        except PastReleaseDate as past:
            raise RuleViolation(
                f"The release date {past.day:%Y-%m-%d} is in the past, and a release's date "
                'cannot be changed later. Check it, or send "confirm_past_date": true to '
                "create the release anyway.",
                fields={"body.release_date": "In the past"},
            ) from None
        return view(release)

    async def add_product(call: Call) -> ReleaseView:
        body = call.body(ProductAddBody)
        release = await services.releases.add_product(
            call.actor,
            call.params["release"],
            application_id=body.application_id,
            product_id=body.product_id,
            squad_ids=body.squad_ids,
        )
        return view(release)

    async def set_fixed_version(call: Call) -> ReleaseView:
        body = call.body(ProductChangeBody)
        p = call.params
        release = await services.releases.set_fixed_version(
            call.actor, p["release"], p["product"], body.fixed_version
        )
        return view(release)

    async def add_gate(call: Call) -> ReleaseView:
        draft = call.body(GateDraft)
        await known_users({"body.owner_id": draft.owner_id})
        p = call.params
        return view(await services.gates.add_gate(call.actor, p["release"], p["product"], draft))

    async def update_gate(call: Call) -> ReleaseView:
        change = call.body(GateChange)
        await known_users({"body.owner_id": change.owner_id})
        p = call.params
        release = await services.gates.update_gate(
            call.actor, p["release"], p["product"], p["gate"], change
        )
        return view(release)

    async def add_milestone(call: Call) -> ReleaseView:
        draft = call.body(MilestoneDraft)
        await known_users({"body.owner_id": draft.owner_id})
        draft.approval_policy = await known_roles(call, draft.approval_policy)
        p = call.params
        release = await services.gates.add_milestone(
            call.actor, p["release"], p["product"], p["gate"], draft
        )
        return view(release)

    async def update_milestone(call: Call) -> ReleaseView:
        change = call.body(MilestoneChange)
        await known_users({"body.owner_id": change.owner_id})
        change.approval_policy = await known_roles(call, change.approval_policy)
        p = call.params
        release = await services.gates.update_milestone(
            call.actor, p["release"], p["product"], p["gate"], p["milestone"], change
        )
        return view(release)

    async def decide(call: Call, decision: Decision) -> ReleaseView | web.Response:
        p = call.params
        body = call.body(DecisionBody)
        try:
            release = await services.approvals.decide(
                call.actor,
                p["release"],
                p["product"],
                p["gate"],
                p["milestone"],
                decision,
                body.comment,
                break_glass=body.break_glass,
            )
        except AlreadyDecided as decided:
            return already_decided(decided)
        return view(release)

    async def archive_release(call: Call) -> ReleaseView:
        reason = call.body(ArchiveBody).reason
        return view(await services.releases.archive(call.actor, call.params["release"], reason))

    async def restore_release(call: Call) -> ReleaseView:
        return view(await services.releases.restore(call.actor, call.params["release"]))

    async def approve_milestone(call: Call) -> ReleaseView | web.Response:
        return await decide(call, Decision.APPROVE)

    async def reject_milestone(call: Call) -> ReleaseView | web.Response:
        return await decide(call, Decision.REJECT)

    async def request_approval_again(call: Call) -> ReleaseView:
        p = call.params
        release = await services.approvals.request_again(
            call.actor, p["release"], p["product"], p["gate"], p["milestone"]
        )
        return view(release)

    async def add_runbook(call: Call) -> ReleaseView:
        body = call.body(RunbookBody)
        await known_users(
            {f"body.tasks.{i}.owner_id": task.owner_id for i, task in enumerate(body.tasks)}
        )
        draft = RunbookDraft.model_validate(body.model_dump(exclude_unset=True))
        return view(await services.runbooks.add_runbook(call.actor, call.params["release"], draft))

    async def add_task(call: Call) -> ReleaseView:
        body = call.body(RunbookTaskBody)
        await known_users({"body.owner_id": body.owner_id})
        task = RunbookTask.model_validate(body.model_dump(exclude_unset=True))
        p = call.params
        return view(await services.runbooks.add_task(call.actor, p["release"], p["runbook"], task))

    async def update_task(call: Call) -> ReleaseView:
        change = call.body(TaskChange)
        await known_users({"body.owner_id": change.owner_id})
        p = call.params
        release = await services.runbooks.update_task(
            call.actor, p["release"], p["runbook"], p["task"], change
        )
        return view(release)

    async def put_change(call: Call) -> ReleaseView:
        body = call.body(ChangeBody)
        await known_users(
            {f"body.ctasks.{i}.assignee_id": c.assignee_id for i, c in enumerate(body.ctasks)}
        )
        # Unset fields stay unset: a kept CTASK keeps what the body leaves out.
        chg = Change.model_validate(
            body.model_dump(exclude={"expected_version"}, exclude_unset=True)
        )
        with _stale(
            "The release changed since the version you read (expected_version); GET it "
            "again, check what changed, and send the change ticket again.",
            when=body.expected_version is not None,
        ):
            release = await services.runbooks.upsert_change(
                call.actor, call.params["release"], chg, expected_version=body.expected_version
            )
        return view(release)

    async def add_ctask(call: Call) -> ReleaseView:
        """One more CTASK: the change ticket as read with it added, saved as the change form
        saves (refused, 409, if the release changed in between)."""
        body = call.body(CTaskBody)
        await known_users({"body.assignee_id": body.assignee_id})
        ref = call.params["release"]
        release = await services.releases.get(call.actor, ref)
        if release.chg is None:
            raise RuleViolation(
                f"Release '{release.release_id}' has no change ticket yet; create it first "
                f"(PUT {RELEASE}/change).",
            )
        ctask = CTask.model_validate(body.model_dump(exclude_unset=True))
        chg = release.chg.model_copy(update={"ctasks": [*release.chg.ctasks, ctask]})
        with _stale(
            "The release changed while the CTASK was being added; nothing was saved. Send it again."
        ):
            saved = await services.runbooks.upsert_change(
                call.actor, ref, chg, expected_version=release.version
            )
        return view(saved)

    async def attach_file(call: Call) -> AttachmentLinked:
        body = call.body(AttachBody)
        target = AttachmentTarget(
            release_id=call.params["release"], **body.target.model_dump(exclude_none=True)
        )
        attachment, release = await services.attachments.attach(
            call.actor, body.file, target, label=body.label
        )
        return AttachmentLinked(
            attachment=AttachmentView.model_validate(attachment), release=view(release)
        )

    write, gates_write = Scope.RELEASES_WRITE, Scope.GATES_WRITE
    return [
        Route(
            "POST",
            "/api/v1/releases",
            create_release,
            "Create a release",
            RELEASES_TAG,
            scope=write,
            body=ReleaseCreateBody,
            response=ReleaseView,
            status=201,
            description="As the Slack form: a release id already taken is refused (409); a "
            "date before today needs confirm_past_date.",
        ),
        Route(
            "POST",
            f"{RELEASE}/products",
            add_product,
            "Add a catalog product to a release",
            RELEASES_TAG,
            scope=write,
            body=ProductAddBody,
            response=ReleaseView,
            status=201,
            params=RELEASE_PARAM,
        ),
        Route(
            "POST",
            f"{RELEASE}/archive",
            archive_release,
            "Archive a release (soft delete)",
            RELEASES_TAG,
            scope=Scope.ADMIN,
            body=ArchiveBody,
            response=ReleaseView,
            params=RELEASE_PARAM,
            description="An admin's (can_manage_roles): the release leaves every list, App "
            "Home, digest and reminder, and nothing changes it until it is restored; GET "
            "…/releases/{release}, its timeline and the audit export still answer. Archiving "
            "an archived release is refused (409). No route deletes a release.",
        ),
        Route(
            "POST",
            f"{RELEASE}/restore",
            restore_release,
            "Restore an archived release",
            RELEASES_TAG,
            scope=Scope.ADMIN,
            response=ReleaseView,
            params=RELEASE_PARAM,
            description="An admin's (can_manage_roles): the release is back in the lists and "
            "can be changed again. A release that is not archived is refused (409).",
        ),
        Route(
            "PATCH",
            PRODUCT,
            set_fixed_version,
            "Set a product's fixed version",
            RELEASES_TAG,
            scope=write,
            body=ProductChangeBody,
            response=ReleaseView,
            params=PRODUCT_PARAMS,
        ),
        Route(
            "POST",
            f"{PRODUCT}/gates",
            add_gate,
            "Add a quality gate to a product",
            GATES_TAG,
            scope=gates_write,
            body=GateDraft,
            response=ReleaseView,
            status=201,
            params=PRODUCT_PARAMS,
            description="owner_id is a user's id (GET /api/v1/users).",
        ),
        Route(
            "PATCH",
            GATE,
            update_gate,
            "Change a quality gate: its status, comment, order, owner…",
            GATES_TAG,
            scope=gates_write,
            body=GateChange,
            response=ReleaseView,
            params=GATE_PARAMS,
            description="Fields left out stay as they are. WAIVED is an approval manager's "
            "call and needs a comment, as in Slack.",
        ),
        Route(
            "POST",
            f"{GATE}/milestones",
            add_milestone,
            "Add a milestone to a gate",
            GATES_TAG,
            scope=write,
            body=MilestoneDraft,
            response=ReleaseView,
            status=201,
            params=GATE_PARAMS,
            description="One needing approval asks its approvers by Slack DM, as the form does.",
        ),
        Route(
            "PATCH",
            MILESTONE,
            update_milestone,
            "Change a milestone",
            GATES_TAG,
            scope=write,
            body=MilestoneChange,
            response=ReleaseView,
            params=MILESTONE_PARAMS,
            description="Fields left out stay as they are; a decided approval's settings are "
            "final (409).",
        ),
        Route(
            "POST",
            f"{MILESTONE}/approval/approve",
            approve_milestone,
            "Approve a milestone",
            APPROVALS_TAG,
            scope=Scope.APPROVALS_WRITE,
            body=DecisionBody,
            response=ReleaseView,
            params=MILESTONE_PARAMS,
            description="As the Approve button: every approval DM is updated. Decided already: "
            "409 with who decided and when (details.decided_by, details.decided_at).",
        ),
        Route(
            "POST",
            f"{MILESTONE}/approval/reject",
            reject_milestone,
            "Reject a milestone, with a reason",
            APPROVALS_TAG,
            scope=Scope.APPROVALS_WRITE,
            body=DecisionBody,
            response=ReleaseView,
            params=MILESTONE_PARAMS,
            description="comment is required. Decided already: 409 with who decided and when.",
        ),
        Route(
            "POST",
            f"{MILESTONE}/approval/request",
            request_approval_again,
            "Ask again for an approval that expired",
            APPROVALS_TAG,
            scope=write,
            response=ReleaseView,
            params=MILESTONE_PARAMS,
            description="A new round of asking with the same policy, by you: the approvers are "
            "sent a DM again, and the approval expires again after the policy's hours. For "
            "whoever may change the milestone, or asked for the approval. An approval that "
            "has not expired is refused (409).",
        ),
        Route(
            "POST",
            f"{RELEASE}/runbooks",
            add_runbook,
            "Add a runbook with its tasks",
            RUNBOOKS_TAG,
            scope=write,
            body=RunbookBody,
            response=ReleaseView,
            status=201,
            params=RELEASE_PARAM,
        ),
        Route(
            "POST",
            f"{RUNBOOK}/tasks",
            add_task,
            "Add a task to a runbook",
            RUNBOOKS_TAG,
            scope=write,
            body=RunbookTaskBody,
            response=ReleaseView,
            status=201,
            params=RUNBOOK_PARAMS,
            description="The task goes last, held to the rules of a new runbook's tasks: a "
            "name no other task of the runbook has (409), dependencies on its tasks, an end "
            f"not before the start, at most {MAX_TASKS} tasks. owner_id is a user's id "
            "(GET /api/v1/users).",
        ),
        Route(
            "PATCH",
            f"{RUNBOOK}/tasks/{{task}}",
            update_task,
            "Change a runbook task: status, schedule, owner",
            RUNBOOKS_TAG,
            scope=write,
            body=TaskChange,
            response=ReleaseView,
            params=TASK_PARAMS,
        ),
        Route(
            "PUT",
            f"{RELEASE}/change",
            put_change,
            "Create or update the release's change ticket (CHG)",
            CHANGE_TAG,
            scope=write,
            body=ChangeBody,
            response=ReleaseView,
            params=RELEASE_PARAM,
            description="A release has one CHG: another change_id is refused (409).",
        ),
        Route(
            "POST",
            f"{RELEASE}/change/tasks",
            add_ctask,
            "Add a CTASK to the release's change ticket",
            CHANGE_TAG,
            scope=write,
            body=CTaskBody,
            response=ReleaseView,
            status=201,
            params=RELEASE_PARAM,
        ),
        Route(
            "POST",
            ATTACHMENTS_PATH,
            attach_file,
            "Link a file to a release or a part of it",
            ATTACHMENTS_TAG,
            scope=write,
            body=AttachBody,
            response=AttachmentLinked,
            status=201,
            params=RELEASE_PARAM,
        ),
    ]


@contextmanager
def _stale(message: str, *, when: bool = True) -> Iterator[None]:
    """The core's words for a stale save (``when`` a version was expected) speak of a Slack
    form; say it for a request."""
    try:
        yield
    except Conflict:
        if not when:
            raise
        raise Conflict(message) from None


def already_decided(decided: AlreadyDecided) -> web.Response:
    """Who decided first and when: the time in UTC, as the API knows no reader's clock."""
    when = decided.decided_at
    at = f" at {when.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if when else ""
    return error_response(
        STATUS[ErrorCode.RULE_VIOLATION],
        ErrorCode.RULE_VIOLATION.value,
        f"Milestone '{decided.milestone_key}' was already {decided.status.value.lower()} by "
        f"{decided.decided_by}{at}; a decision is final.",
        {
            "status": decided.status.value,
            "decided_by": decided.decided_by,
            "decided_at": when.astimezone(UTC).isoformat() if when else None,
        },
    )
