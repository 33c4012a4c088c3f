"""`/release milestone <release>`: add or update a milestone, with its approval settings."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, DividerBlock, Option
from slack_sdk.models.views import View

from blocks.ids import Approval, CallbackId, EditField
from blocks.message import context
from blocks.modals.form import (
    EditingMetadata,
    Group,
    Pick,
    break_glass_input,
    datetime_input,
    enum_options,
    modal,
    notice_view,
    option,
    select_input,
    text_input,
    user_input,
)
from blocks.modals.form_state import Form, present
from blocks.text import esc
from core.errors import ValidationFailed
from core.models.approval import ONE_APPROVAL_MANAGER, ONE_DECIDER, Policy, QuorumRule
from core.models.common import KEY_MAX, NAME_MAX, parse
from core.models.release import (
    Environment,
    Milestone,
    MilestoneApproval,
    MilestoneStatus,
    Release,
)
from core.rules.policy_text import parse_rules, render_rules
from core.services.gates import MilestoneChange, MilestoneDraft

TITLE = "Milestone"
NEW_MILESTONE = "➕ New milestone"
APPROVAL_OPTIONS = [
    option(Approval.NONE, "No approval needed"),
    option(Approval.REQUIRED, "Approval required"),
    option(Approval.MANAGER, "Approval manager sign-off required"),
]


class PolicyField(StrEnum):
    """block_id and action_id of the approval policy's inputs."""

    APPROVERS = "approvers"
    EXPIRES = "expires_after"
    WITHDRAW = "withdraw_votes"


class Withdraw(StrEnum):
    """When the evidence changes: ``Policy.withdraw_when_evidence_changes``."""

    DEFAULT = "default"
    ALWAYS = "always"
    NEVER = "never"

    @property
    def switch(self) -> bool | None:
        return {Withdraw.DEFAULT: None, Withdraw.ALWAYS: True, Withdraw.NEVER: False}[self]

    @classmethod
    def of(cls, switch: bool | None) -> Withdraw:
        return {None: cls.DEFAULT, True: cls.ALWAYS, False: cls.NEVER}[switch]


APPROVERS_MAX = 500
NEVER_EXPIRES = "never"
EXPIRY_HOURS = (4, 8, 24, 48, 72, 24 * 7)
EXPIRY_OPTIONS = [
    option(NEVER_EXPIRES, "Never"),
    *(option(str(h), "1 week" if h == 24 * 7 else f"{h} hours") for h in EXPIRY_HOURS),
]
WITHDRAW_OPTIONS = [
    option(Withdraw.DEFAULT, "Withdraw the votes for prod milestones only"),
    option(Withdraw.ALWAYS, "Always withdraw the votes"),
    option(Withdraw.NEVER, "Never withdraw the votes"),
]


@dataclass(frozen=True)
class MilestonePick(Pick):
    """An existing milestone, or (``milestone_key`` None) a new one in the gate."""

    product_id: str
    gate_name: str
    milestone_key: str | None = None


def milestone_picks(release: Release) -> list[MilestonePick]:
    return [
        pick
        for product, gate in release.gates()
        for pick in [
            MilestonePick(product.product_id, gate.gate_name),
            *(
                MilestonePick(product.product_id, gate.gate_name, m.milestone_key)
                for m in gate.milestones
            ),
        ]
    ]


def span(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """``03 Dec 09:00 → 05 Dec 17:00`` in the viewer's time zone."""
    return f"{start.astimezone(tz):%d %b %H:%M} → {end.astimezone(tz):%d %b %H:%M}"


def _milestone_label(milestone: Milestone, tz: ZoneInfo) -> str:
    approval = milestone.approval.status.value.replace("_", " ").lower()
    dates = span(milestone.start_date, milestone.end_date, tz)
    return f"{milestone.milestone_key} · {dates} · {approval}"


def milestone_modal(
    release: Release,
    metadata: EditingMetadata,
    tz: ZoneInfo,
    *,
    picked: MilestonePick | None = None,
) -> View:
    """The form; ``picked``: the milestone just picked in it, whose approval policy the form
    is drawn again with (its inputs filled in with what it is now)."""
    gates = release.gates()
    if not gates:
        return notice_view(
            TITLE,
            CallbackId.MILESTONE,
            f"*{esc(release.release_id)}* has no quality gates yet; add one with "
            f"`/release gate {esc(release.release_id)}` first.",
        )
    groups = [
        Group(
            f"{product.product_id} · {gate.gate_name}",
            [
                MilestonePick(product.product_id, gate.gate_name).option(NEW_MILESTONE),
                *(
                    MilestonePick(product.product_id, gate.gate_name, m.milestone_key).option(
                        _milestone_label(m, tz)
                    )
                    for m in gate.milestones
                ),
            ],
        )
        for product, gate in gates
    ]
    blocks: list[Block] = [
        context(
            f"*{esc(release.release_id)}* · {esc(release.release_name)} — pick *New milestone* "
            f"in a gate, or a milestone to change. Times are in your time zone ({esc(tz.key)}); "
            "milestones of one gate must not overlap."
        ),
        _picker(groups, picked),
        text_input(
            EditField.MILESTONE_KEY,
            "Key of the new milestone",
            optional=True,
            placeholder="uat-signoff",
            max_length=KEY_MAX,
            hint="Letters, digits and . _ : - (no spaces). Only for a new milestone.",
        ),
        context("For an existing milestone, only the fields you fill in change."),
        text_input(EditField.MILESTONE_NAME, "Name", optional=True, max_length=NAME_MAX),
        select_input(
            EditField.ENVIRONMENT,
            "Environment",
            options=[option(e.value, e.value.upper()) for e in Environment],
            optional=True,
        ),
        datetime_input(EditField.START, "Starts", optional=True),
        datetime_input(EditField.END, "Ends", optional=True),
        select_input(
            EditField.STATUS,
            "Status",
            options=enum_options(MilestoneStatus),
            optional=True,
            hint="A new milestone is Not started unless you pick another.",
        ),
        user_input(EditField.OWNER, "Owner", hint="An owner may not approve their own milestone."),
        break_glass_input(EditField.BREAK_GLASS, "to make a passed gate's milestone prod"),
        DividerBlock(),
        select_input(
            EditField.APPROVAL,
            "Approval",
            options=APPROVAL_OPTIONS,
            optional=True,
            hint="Approvers get a DM with Approve / Reject as soon as the approval is pending.",
        ),
        *policy_inputs(release, picked),
    ]
    return modal(TITLE, CallbackId.MILESTONE, blocks, metadata)


def _picker(groups: list[Group], picked: MilestonePick | None) -> Block:
    """The milestone select; picking one sends an action (the form is drawn again with its
    policy filled in)."""
    initial = None
    if picked is not None:
        initial = next((o for g in groups for o in g.options if o.value == picked.value()), None)
    block = select_input(EditField.MILESTONE, "Milestone", groups=groups, initial=initial)
    block.dispatch_action = True
    return block


def _tag(pick: MilestonePick) -> str:
    return hashlib.sha256(pick.value().encode()).hexdigest()[:10]


def policy_block(field: str, picked: MilestonePick | None) -> str:
    """The block id of a policy input: one of its own for each existing milestone the form is
    drawn for, as Slack keeps what an input held across views.update (ignoring its new
    initial value) unless its block id changes."""
    if picked is None or picked.milestone_key is None:
        return field
    return f"{field}@{_tag(picked)}"


def policy_inputs(release: Release, picked: MilestonePick | None) -> list[Block]:
    """Who must approve, when the approval expires, and what a change of evidence does: empty
    for a new milestone (the defaults), what it is now for an existing one."""
    policy: Policy | None = None
    if picked is not None and picked.milestone_key is not None:
        gate = release.product(picked.product_id).gate(picked.gate_name)
        policy = gate.milestone(picked.milestone_key).approval.policy
    hours = policy.expires_after_hours if policy else None
    switch = policy.withdraw_when_evidence_changes if policy else None
    drawn = picked is not None and picked.milestone_key is not None
    return [
        text_input(
            policy_block(PolicyField.APPROVERS, picked),
            "Who must approve",
            optional=True,
            multiline=True,
            initial=render_rules(policy) if policy else None,
            placeholder="1 × QA Lead + 2 × Payments Owner",
            max_length=APPROVERS_MAX,
            hint="Distinct people by role (a person counts once), rules joined by + or new "
            "lines; “Approval Manager” is anyone who may sign off as one. Empty: one approval "
            "manager, or one approver, as chosen above.",
        ),
        select_input(
            policy_block(PolicyField.EXPIRES, picked),
            "Expires after",
            options=EXPIRY_OPTIONS,
            optional=True,
            initial=_expiry_option(hours) if drawn else None,
            placeholder="Never",
            hint="An approval still pending then expires; it can be asked for again.",
        ),
        select_input(
            policy_block(PolicyField.WITHDRAW, picked),
            "When the evidence changes",
            options=WITHDRAW_OPTIONS,
            optional=True,
            initial=_withdraw_option(switch) if drawn else None,
            placeholder="Withdraw the votes for prod milestones only",
            hint="A gate of the product changing status (or its fixed version or files) "
            "after a vote withdraws the votes, and the approvers are asked again.",
        ),
    ]


def _expiry_option(hours: int | None) -> Option | None:
    value = str(hours) if hours else NEVER_EXPIRES
    # A policy set through the API may expire after hours the form does not offer.
    return next((o for o in EXPIRY_OPTIONS if o.value == value), None)


def _withdraw_option(switch: bool | None) -> Option:
    value = Withdraw.of(switch)
    return next(o for o in WITHDRAW_OPTIONS if o.value == value)


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MilestoneUpdate:
    milestone_key: str
    change: MilestoneChange


def read_milestone_form(
    form: Form,
    pick: MilestonePick,
    *,
    owner_id: str | None,
    role_names: Sequence[str] = (),
    current: MilestoneApproval | None = None,
) -> MilestoneDraft | MilestoneUpdate:
    """A new milestone's draft, or what changes in the milestone picked; ``owner_id``: the
    portal user of the owner picked, if any; ``role_names``: the roles that exist (read when
    the form names approvers); ``current``: the approval of the milestone picked."""
    choice = _approval(form.choice(EditField.APPROVAL))
    settings = read_policy(form, pick, choice, role_names=role_names, current=current)
    values = present(
        {
            "milestone_name": form.text(EditField.MILESTONE_NAME),
            "environment": form.choice(EditField.ENVIRONMENT),
            "start_date": form.unix_time(EditField.START),
            "end_date": form.unix_time(EditField.END),
            "status": form.choice(EditField.STATUS),
            "owner_id": owner_id,
            "approval_required": settings.required,
            "requires_approval_manager": settings.manager,
            "approval_policy": settings.policy,
        }
    )
    key = form.text(EditField.MILESTONE_KEY)
    if pick.milestone_key is None:
        return parse(MilestoneDraft, {**present({"milestone_key": key}), **values})
    if key and key != pick.milestone_key:
        raise ValidationFailed(
            "Milestones keep their key.",
            fields={EditField.MILESTONE_KEY: "Only for a new milestone; leave it empty"},
        )
    reason = form.text(EditField.BREAK_GLASS)
    change = parse(MilestoneChange, {**values, **present({"break_glass": reason})})
    if change.model_copy(update={"break_glass": None}) == MilestoneChange():  # a reason alone
        raise ValidationFailed(
            "Nothing to change.", fields={EditField.MILESTONE_NAME: "Fill in what should change"}
        )
    return MilestoneUpdate(pick.milestone_key, change)


Choice = tuple[bool | None, bool | None]  # (approval_required, requires_approval_manager)


def _approval(value: str | None) -> Choice:
    """(approval_required, requires_approval_manager); (None, None) leaves them as they are."""
    if value is None:
        return None, None
    try:
        return Approval(value).settings
    except ValueError:
        raise ValidationFailed(
            "Unknown approval setting.", fields={EditField.APPROVAL: "Pick one of the options"}
        ) from None


# --- the approval policy ------------------------------------------------------------------


@dataclass(frozen=True)
class ApprovalSettings:
    """What the form sets of an approval: None leaves a setting as it is (``policy`` None
    with ``manager`` set: the policy of before policies, as ``manager`` says)."""

    required: bool | None
    manager: bool | None
    policy: Policy | None


def drawn_block(form: Form, field: str) -> str:
    """The block id an input of the policy has in the submitted form (``policy_block``)."""
    return next((b for b in form.input_blocks if b.partition("@")[0] == field), field)


def names_approvers(form: Form) -> bool:
    """Whether the form names approvers (so the roles there are must be read)."""
    return form.text(drawn_block(form, PolicyField.APPROVERS)) is not None


def read_policy(
    form: Form,
    pick: MilestonePick,
    choice: Choice,
    *,
    role_names: Sequence[str] = (),
    current: MilestoneApproval | None = None,
) -> ApprovalSettings:
    """The approval settings the form asks for, with the approval choice above (``choice``).

    A select left empty keeps what the milestone has (a new one: the default). Approvers left
    empty mean the approval choice's own approver (the policy of before policies) — unless
    the form was not drawn again with the existing milestone's policy (``policy_block``):
    then they are kept. A policy the same as the milestone's leaves it as it is."""
    required, manager = choice
    approvers = drawn_block(form, PolicyField.APPROVERS)
    text = form.text(approvers)
    now = current.policy if current is not None else None
    redrawn = approvers == policy_block(PolicyField.APPROVERS, pick)
    if not redrawn and approvers != PolicyField.APPROVERS:
        raise ValidationFailed(
            "The form still shows the approval policy of another milestone.",
            fields={
                EditField.MILESTONE: "The approval settings below are another milestone's: "
                "pick this one again, or close the form and open it again"
            },
        )
    hours, switch = _hours(form, now), _switch(form, now)
    rules = None
    if text:
        rules = parse_rules(text, role_names, field=approvers)
    elif now is not None and not redrawn and manager is None:
        rules = now.rules  # not shown, so kept
    if rules is None and hours is None and switch is None:  # the policy of before policies
        if now is not None and manager is None and current is not None:
            manager = current.requires_approval_manager  # the flag says the policy goes
        return ApprovalSettings(required, manager, None)
    if rules is None:
        rules = _default_rules(manager if manager is not None else _manager_now(current))
    policy = parse(
        Policy,
        {"rules": rules, "expires_after_hours": hours, "withdraw_when_evidence_changes": switch},
    )
    if required is False:
        if text and policy != now:
            raise ValidationFailed(
                "A milestone needing no approval has no approvers.",
                fields={
                    approvers: "The approval is set to “No approval needed”: pick “Approval "
                    "required”, or leave this empty"
                },
            )
        return ApprovalSettings(False, False, None)
    if manager and not policy.needs_approval_manager:
        raise ValidationFailed(
            "An approval manager's sign-off needs an approval manager among the approvers.",
            fields={
                approvers: "Add “1 × Approval Manager” for an approval manager's sign-off, "
                "or pick “Approval required”"
            },
        )
    if policy == now:
        return ApprovalSettings(required, None, None)  # as it is
    if required is None and text:  # approvers named: the milestone needs approval
        required = True
    return ApprovalSettings(required, manager, policy)


def _manager_now(current: MilestoneApproval | None) -> bool:
    return current is not None and current.requires_approval_manager


def _default_rules(manager: bool) -> list[QuorumRule]:
    return (ONE_APPROVAL_MANAGER if manager else ONE_DECIDER).rules


def _hours(form: Form, now: Policy | None) -> int | None:
    block = drawn_block(form, PolicyField.EXPIRES)
    value = form.choice(block)
    if value is None:
        return now.expires_after_hours if now else None
    if value == NEVER_EXPIRES:
        return None
    if value.isdigit() and int(value) in EXPIRY_HOURS:
        return int(value)
    raise ValidationFailed("Unknown expiry.", fields={block: "Pick one of the options"})


def _switch(form: Form, now: Policy | None) -> bool | None:
    block = drawn_block(form, PolicyField.WITHDRAW)
    value = form.choice(block)
    if value is None:
        return now.withdraw_when_evidence_changes if now else None
    try:
        return Withdraw(value).switch
    except ValueError:
        raise ValidationFailed(
            "Unknown setting.", fields={block: "Pick one of the options"}
        ) from None
