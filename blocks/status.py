"""The readiness message of one release (`/release status`)."""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    PlainTextObject,
)

from blocks.ids import ActionId
from blocks.message import Message, context, fit, lines_section, section
from blocks.text import PLAIN_LIMIT, cut, day, esc, plain, when
from core.models.rbac import User
from core.models.release import ApprovalStatus, GateStatus, MilestoneStatus, Release, ReleaseProduct
from core.rules.readiness import Readiness, ReadinessSummary

GATE_EMOJI = {
    GateStatus.NOT_STARTED: ":white_circle:",
    GateStatus.IN_PROGRESS: ":large_blue_circle:",
    GateStatus.BLOCKED: ":no_entry:",
    GateStatus.PASSED: ":white_check_mark:",
    GateStatus.FAILED: ":x:",
    GateStatus.WAIVED: ":fast_forward:",
}
MILESTONE_EMOJI = {
    MilestoneStatus.NOT_STARTED: ":white_circle:",
    MilestoneStatus.IN_PROGRESS: ":large_blue_circle:",
    MilestoneStatus.BLOCKED: ":no_entry:",
    MilestoneStatus.DONE: ":white_check_mark:",
}
PRODUCT_SECTIONS = 30


People = Mapping[str, User]


def person(user: User) -> str:
    """A portal user by name. Not a mention: a status posted in a channel must not ping
    every gate owner each time someone asks for it."""
    return esc(user.full_name)


def readiness_line(summary: ReadinessSummary) -> str:
    if summary.readiness is Readiness.READY:
        return ":white_check_mark: *Ready for approval* — every required gate passed, no blockers"
    if summary.readiness is Readiness.BLOCKED:
        return f":no_entry: *Blocked* — {len(summary.blockers)} blocker(s)"
    if summary.total_gates == 0:
        return ":hourglass_flowing_sand: *Not ready* — no quality gates yet"
    passed = summary.counts[GateStatus.PASSED] + summary.counts[GateStatus.WAIVED]
    return f":hourglass_flowing_sand: *Not ready* — {passed} of {summary.total_gates} gates passed"


def release_status_message(
    release: Release, summary: ReadinessSummary, people: People, tz: ZoneInfo
) -> Message:
    header = cut(f"{release.release_id} · {release.release_name}", PLAIN_LIMIT)
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=header)),
        context(
            f":calendar: {day(release.release_date)} · {esc(release.release_type)} · squads: "
            f"{esc(', '.join(release.squad_ids) or 'none')}"
        ),
        section(readiness_line(summary)),
    ]
    products = [_product_section(p, people) for p in release.products]
    blocks += products[:PRODUCT_SECTIONS]
    if len(products) > PRODUCT_SECTIONS:
        blocks.append(context(f"… and {len(products) - PRODUCT_SECTIONS} more products"))
    blocks += _details(summary, tz)
    blocks.append(status_buttons(release.release_id))
    readiness = plain(readiness_line(summary), escaped=True)
    text = f"{release.release_id} {esc(release.release_name)}: {readiness}"
    return Message(text=text, blocks=fit(blocks, keep_last=1, what="sections"))


def status_buttons(release_id: str) -> ActionsBlock:
    return ActionsBlock(
        elements=[
            ButtonElement(text="Refresh", action_id=ActionId.REFRESH_STATUS, value=release_id),
            ButtonElement(text="History", action_id=ActionId.SHOW_HISTORY, value=release_id),
        ]
    )


def _product_section(product: ReleaseProduct, people: People) -> Block:
    title = f"*{esc(product.product_name)}* (`{esc(product.product_id)}`)"
    if product.fixed_version:
        title += f" · fix version {esc(product.fixed_version.version_name)}"
    gates = product.sorted_gates()
    if not gates:
        return section(f"{title}\n_no quality gates yet_")
    lines = [title]
    for gate in gates:
        marker = "required" if gate.required else "optional"
        owner_user = people.get(gate.owner_id) if gate.owner_id else None
        owner = f" · {person(owner_user)}" if owner_user else ""
        lines.append(f"{GATE_EMOJI[gate.gate_status]} {esc(gate.gate_name)} · {marker}{owner}")
    return lines_section(lines, more="gates")


def _details(summary: ReadinessSummary, tz: ZoneInfo) -> list[Block]:
    blocks: list[Block] = []
    if summary.blockers:
        lines = [
            f":no_entry: {esc(b.product_id)} / {esc(b.gate_name)}"
            + (f" / {esc(b.milestone_key)}" if b.milestone_key else "")
            + f" is *{b.status}*"
            + (f" — {esc(b.comment)}" if b.comment else "")
            for b in summary.blockers
        ]
        blocks += [DividerBlock(), lines_section(["*Blockers*", *lines], more="blockers")]
    if summary.next_milestones:
        lines = [
            f"{MILESTONE_EMOJI[r.milestone.status]} {when(r.milestone.start_date, tz)} → "
            f"{when(r.milestone.end_date, tz)} · {esc(r.milestone.milestone_name)} "
            f"({r.milestone.environment.value}, {esc(r.gate_name)})"
            for r in summary.next_milestones
        ]
        blocks.append(lines_section(["*Next milestones*", *lines], more="milestones"))
    if summary.pending_approvals:
        lines = [
            f":hourglass: {esc(r.product_id)} / {esc(r.gate_name)} / "
            f"{esc(r.milestone.milestone_name)}"
            + (
                " · needs an approval manager"
                if r.milestone.approval.requires_approval_manager
                else ""
            )
            for r in summary.pending_approvals
            if r.milestone.approval.status is ApprovalStatus.PENDING
        ]
        blocks.append(lines_section(["*Pending approvals*", *lines], more="approvals"))
    return blocks
