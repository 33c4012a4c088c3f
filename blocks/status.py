"""The readiness message of one release (`/release status`), posted in the channel.

Many people read it, so its times are Slack's ``<!date^…>``: each reader sees their own zone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    PlainTextObject,
)

from blocks.archive import archived_line
from blocks.freezes import freeze_blocks
from blocks.ids import ActionId
from blocks.message import Message, context, fit, lines_section, section
from blocks.text import PLAIN_LIMIT, EveryReader, Readers, cut, day, esc, plain, plural, span, when
from core.models.approval import BreakGlass
from core.models.rbac import User
from core.models.release import (
    HTTP_LINK,
    ApprovalStatus,
    CiResult,
    GateStatus,
    MilestoneApproval,
    MilestoneStatus,
    Release,
    ReleaseProduct,
)
from core.rules.approvals import progress_line
from core.rules.freeze import FreezeOutlook
from core.rules.readiness import Blocker, MilestoneRef, Readiness, ReadinessSummary

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
COMMIT_SHOWN = 12  # a commit hash, shortened as git shows it
LINK_LIMIT = 1000  # of a link's (escaped) address in a line
REASON_LIMIT = 300
BREAK_GLASS_SHOWN = 5  # the newest overrides; the others are counted
BROKE_GLASS = "🔨"


People = Mapping[str, User]


def person(user: User) -> str:
    """A portal user by name. Not a mention: a status posted in a channel must not ping
    every gate owner each time someone asks for it."""
    return esc(user.full_name)


def web_link(url: str, label: str) -> str:
    """``<url|label>`` for an http(s) link (escaped, as Slack wants it); anything else, or a
    link too long for a line (a link cannot be cut), is shown as escaped text: the label."""
    link = esc(url)
    if not HTTP_LINK.fullmatch(url) or len(link) > LINK_LIMIT:
        return esc(label)
    return f"<{link}|{esc(label)}>"


def ci_run(result: CiResult | None) -> str:
    """A gate's last CI run, as its line ends: `` · CI run `3f2a9c1` `` (the link to it)."""
    if result is None or not (result.url or result.commit):
        return ""
    commit = f" `{esc(result.commit[:COMMIT_SHOWN])}`" if result.commit else ""
    return f" · {web_link(result.url, 'CI run') if result.url else 'CI'}{commit}"


def readiness_line(summary: ReadinessSummary) -> str:
    if summary.readiness is Readiness.READY:
        return ":white_check_mark: *Ready for approval* — every required gate passed, no blockers"
    if summary.readiness is Readiness.BLOCKED:
        return f":no_entry: *Blocked* — {plural(len(summary.blockers), 'blocker')}"
    if summary.total_gates == 0:
        return ":hourglass_flowing_sand: *Not ready* — no quality gates yet"
    passed = summary.counts[GateStatus.PASSED] + summary.counts[GateStatus.WAIVED]
    gates = plural(summary.total_gates, "gate")
    return f":hourglass_flowing_sand: *Not ready* — {passed} of {gates} passed"


def blocker_place(blocker: Blocker) -> str:
    """Where a blocker is, by name: product / gate, and the milestone when it is one."""
    parts = [blocker.product_name or blocker.product_id, blocker.gate_name]
    if blocker.milestone_key:
        parts.append(blocker.milestone_name or blocker.milestone_key)
    return " / ".join(esc(p) for p in parts)


def blocker_line(blocker: Blocker) -> str:
    return f":no_entry: {blocker_place(blocker)} is *{blocker.status}*" + (
        f" — {esc(blocker.comment)}" if blocker.comment else ""
    )


def people_shown(release: Release, summary: ReadinessSummary) -> set[str]:
    """The users the status names (gate owners, who rejected an approval, who archived it):
    read them at once."""
    owners = {gate.owner_id for _, gate in release.gates() if gate.owner_id}
    deciders = {r.milestone.approval.approver_user_id for r in summary.rejected_approvals}
    archiver = {release.archived_by} if release.archived_by else set()
    return owners | {d for d in deciders if d} | archiver


def release_status_message(
    release: Release,
    summary: ReadinessSummary,
    people: People,
    tz: ZoneInfo,
    freezes: FreezeOutlook | None = None,
) -> Message:
    """``tz``: the zone of the fallback text where Slack cannot show a reader their own time;
    ``freezes``: the freeze windows on and to come that touch the release."""
    header = cut(f"{release.release_id} · {release.release_name}", PLAIN_LIMIT)
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=header)),
        context(
            f":calendar: {day(release.release_date)} · {esc(release.release_type)} · squads: "
            f"{esc(', '.join(release.squad_ids) or 'none')}"
        ),
        section(readiness_line(summary)),
        *(
            [section(archived_line(release, people, EveryReader(tz)))]
            if release.is_archived
            else []
        ),
        *freeze_blocks("*Freezes*", freezes, EveryReader(tz)),
        *break_glass_blocks(release.break_glass, EveryReader(tz)),
    ]
    products = [_product_section(p, people) for p in release.products]
    blocks += products[:PRODUCT_SECTIONS]
    if len(products) > PRODUCT_SECTIONS:
        hidden = plural(len(products) - PRODUCT_SECTIONS, "more product")
        blocks.append(context(f"… and {hidden}"))
    blocks += _details(summary, people, EveryReader(tz))
    blocks.append(status_buttons(release.release_id))
    readiness = plain(readiness_line(summary), escaped=True)
    text = f"{release.release_id} {esc(release.release_name)}: {readiness}"
    if release.is_archived:
        text = f"{text} (archived)"
    return Message(text=text, blocks=fit(blocks, keep_last=1, what="section"))


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
        lines.append(
            f"{GATE_EMOJI[gate.gate_status]} {esc(gate.gate_name)} · {marker}{owner}"
            + ci_run(gate.ci_result)
        )
    return lines_section(lines, more="gate")


def break_glass_line(record: BreakGlass, readers: Readers) -> str:
    """``🔨 *arjun* broke glass during *Holiday freeze*: approved go-live (…) — “why” · when``."""
    reason = " ".join(record.reason.split())
    return (
        f"{BROKE_GLASS} *{esc(record.by)}* broke glass during *{esc(record.freeze_name)}*: "
        f"{esc(record.what)} — “{esc(cut(reason, REASON_LIMIT))}” · {when(record.at, readers)}"
    )


def break_glass_blocks(
    records: Sequence[BreakGlass], readers: Readers, title: str = "*Break-glass overrides*"
) -> list[Block]:
    """The newest overrides of freezes first, at most ``BREAK_GLASS_SHOWN`` (the others
    counted); nothing when there are none."""
    if not records:
        return []
    newest = sorted(records, key=lambda r: r.at, reverse=True)
    lines = [break_glass_line(r, readers) for r in newest[:BREAK_GLASS_SHOWN]]
    if len(newest) > BREAK_GLASS_SHOWN:
        lines.append(f"_… and {plural(len(newest) - BREAK_GLASS_SHOWN, 'more override')}_")
    return [lines_section([title, *lines], more="override")]


def milestone_place(ref: MilestoneRef) -> str:
    """product / gate / milestone, by name."""
    return (
        f"{esc(ref.product_name or ref.product_id)} / {esc(ref.gate_name)} / "
        f"{esc(ref.milestone.milestone_name)}"
    )


def rejection_line(ref: MilestoneRef, people: People, readers: Readers) -> str:
    """Who rejected a milestone's approval, when, and why."""
    approval = ref.milestone.approval
    user = people.get(approval.approver_user_id) if approval.approver_user_id else None
    who = person(user) if user else esc(approval.approver_username or "someone")
    at = f" · {when(approval.approved_at, readers)}" if approval.approved_at else ""
    reason = " ".join((approval.comment or "").split())
    why = f" · “{esc(cut(reason, REASON_LIMIT))}”" if reason else ""
    return f":x: {milestone_place(ref)} — *rejected* by {who}{at}{why}"


def _details(summary: ReadinessSummary, people: People, readers: Readers) -> list[Block]:
    blocks: list[Block] = []
    if summary.blockers:
        lines = [blocker_line(b) for b in summary.blockers]
        blocks += [DividerBlock(), lines_section(["*Blockers*", *lines], more="blocker")]
    if summary.rejected_approvals:
        lines = [rejection_line(r, people, readers) for r in summary.rejected_approvals]
        blocks.append(lines_section(["*Rejected approvals*", *lines], more="rejection"))
    if summary.next_milestones:
        lines = [
            f"{MILESTONE_EMOJI[r.milestone.status]} "
            f"{span(r.milestone.start_date, r.milestone.end_date, readers)} · "
            f"{esc(r.milestone.milestone_name)} "
            f"({r.milestone.environment.value}, {esc(r.gate_name)})"
            for r in summary.next_milestones
        ]
        blocks.append(lines_section(["*Next milestones*", *lines], more="milestone"))
    if summary.pending_approvals:
        lines = [
            f":hourglass: {milestone_place(r)}{_needs(r.milestone.approval)}"
            for r in summary.pending_approvals
            if r.milestone.approval.status is ApprovalStatus.PENDING
        ]
        blocks.append(lines_section(["*Pending approvals*", *lines], more="approval"))
    return blocks


def _needs(approval: MilestoneApproval) -> str:
    """What a pending approval still waits for: its policy's progress ("QA Lead 1/1 ·
    Payments Owner 1/2"), or (the policy of before) whether an approval manager decides."""
    if approval.policy is not None or approval.votes:
        return f" · {esc(progress_line(approval))}"
    return " · needs an approval manager" if approval.requires_approval_manager else ""
