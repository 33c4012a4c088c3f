"""A terminal tour of the core: seed the demo data, then act as each persona in turn.

dana and rhea list the releases they may see with each one's readiness; dana is refused
when she tries to create a release; arjun reviews his pending approvals and approves one,
and the readiness and the timeline show it. Everything goes through the real services.

    python -m scripts.demo_report      # MONGO_URI (default mongomock://), MONGO_DB_NAME
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, timedelta

from core.clock import Clock, utc_now
from core.errors import DomainError
from core.models.release import Decision, ReleaseDraft
from core.models.timeline import TimelineEvent
from core.rules.permissions import Actor
from core.rules.readiness import Blocker, MilestoneRef, Readiness, ReadinessSummary, summarize
from core.seeds.demo import seed_demo_data
from core.services.approvals import PendingApproval
from core.services.container import Repositories, Services, build_services
from scripts.seeding import repositories_from_environment

Write = Callable[[str], None]

BROWSING_PERSONAS = ("dana", "rhea")
SHOWN_NEXT_MILESTONES = 3
SHOWN_EVENTS = 5


async def run_demo(repos: Repositories, *, write: Write = print, clock: Clock = utc_now) -> None:
    """Seed the demo data and walk through it as dana, rhea and arjun."""
    write(str(await seed_demo_data(repos, today=clock().date())))
    services = build_services(repos, clock=clock)
    for username in BROWSING_PERSONAS:
        await show_visible_releases(services, await actor_named(repos, services, username), write)
    dana = await actor_named(repos, services, "dana")
    await show_refused_creation(services, dana, write, clock().date() + timedelta(days=30))
    await show_approval(services, await actor_named(repos, services, "arjun"), write)


async def actor_named(repos: Repositories, services: Services, username: str) -> Actor:
    return await services.identity.actor_for(await repos.users.get_by_username(username))


# --- the scenes ---------------------------------------------------------------------------


async def show_visible_releases(services: Services, actor: Actor, write: Write) -> None:
    write(persona_heading(actor))
    page = await services.releases.list_releases(actor)
    write(f"{len(page.items)} release(s) visible to {actor.user.username}:")
    for card in page.items:
        for line in readiness_lines(card.summary):
            write(line)


async def show_refused_creation(
    services: Services, dana: Actor, write: Write, release_date: date
) -> None:
    write(f"\n--- {dana.user.username} tries to create a release ---")
    draft = ReleaseDraft(
        release_id="REL-DANA-1",
        release_name="Dana's own release",
        release_date=release_date,
        squad_ids=list(dana.user.assigned_squad_ids),
    )
    try:
        await services.releases.create(dana, draft)
    except DomainError as error:
        write(f"Refused — {error.message}")
    else:
        write("Created (unexpected: a squad member should not be able to create releases)")


async def show_approval(services: Services, arjun: Actor, write: Write) -> None:
    write(persona_heading(arjun))
    pending = await services.approvals.pending_for(arjun)
    write(f"{len(pending)} approval(s) waiting for {arjun.user.username}:")
    for item in pending:
        write(f"  - {pending_line(item)}")
    if pending:
        await approve(services, arjun, pending[0], write)


async def approve(services: Services, arjun: Actor, item: PendingApproval, write: Write) -> None:
    ref = item.ref
    key = ref.milestone.milestone_key
    write(f"\n{arjun.user.username} approves {item.release_id} {milestone_path(ref)}")
    before = summarize(await services.releases.get(arjun, item.release_oid))
    release = await services.approvals.decide(
        arjun, item.release_oid, ref.product_id, ref.gate_name, key, Decision.APPROVE,
        "Evidence reviewed in the demo.",
    )  # fmt: skip
    approval = release.product(ref.product_id).gate(ref.gate_name).milestone(key).approval
    write(
        f"  approval: {approval.status.value} by {approval.approver_username} "
        f"({', '.join(approval.approver_role_snapshot)}) at {when(approval.approved_at)}"
    )
    write(f"  readiness before: {readiness_brief(before)}")
    write(f"  readiness after:  {readiness_brief(summarize(release))}")
    _, events = await services.timeline.history(arjun, release.id, limit=SHOWN_EVENTS)
    write("  timeline (newest first):")
    for event in events:
        write(f"    {event_line(event)}")


# --- rendering ----------------------------------------------------------------------------


def persona_heading(actor: Actor) -> str:
    squads = actor.visible_squads()
    scope = "every release" if squads is None else "squads " + (", ".join(squads) or "none")
    roles = ", ".join(actor.role_names) or "no role"
    return f"\n=== {actor.user.full_name} ({actor.user.username}) — {roles}; sees {scope} ==="


def readiness_lines(summary: ReadinessSummary) -> list[str]:
    lines = [
        f"{summary.release_id} · {summary.release_name} · {summary.release_date:%Y-%m-%d} · "
        f"{readiness_label(summary.readiness)}",
        f"  gates: {gate_counts(summary)}",
    ]
    lines += [f"  blocker: {blocker_line(b)}" for b in summary.blockers]
    lines += [
        f"  next: {milestone_line(ref)}" for ref in summary.next_milestones[:SHOWN_NEXT_MILESTONES]
    ]
    lines += [f"  pending approval: {approval_line(ref)}" for ref in summary.pending_approvals]
    return lines


def readiness_label(readiness: Readiness) -> str:
    return readiness.value.replace("_", " ")


def readiness_brief(summary: ReadinessSummary) -> str:
    return (
        f"{readiness_label(summary.readiness)}, "
        f"{len(summary.pending_approvals)} pending approval(s)"
    )


def gate_counts(summary: ReadinessSummary) -> str:
    counts = [f"{n} {status.value}" for status, n in summary.counts.items() if n]
    return ", ".join(counts) + f" (of {summary.total_gates})" if counts else "none yet"


def blocker_line(blocker: Blocker) -> str:
    where = " / ".join(
        p for p in (blocker.product_id, blocker.gate_name, blocker.milestone_key) if p
    )
    comment = f" — {blocker.comment}" if blocker.comment else ""
    return f"{where} is {blocker.status}{comment}"


def milestone_path(ref: MilestoneRef) -> str:
    return f"{ref.product_id} / {ref.gate_name} / {ref.milestone.milestone_key}"


def milestone_line(ref: MilestoneRef) -> str:
    milestone = ref.milestone
    return (
        f"{when(milestone.start_date)} → {when(milestone.end_date)}  {milestone_path(ref)} "
        f"({milestone.environment.value}, {milestone.status.value})"
    )


def approval_line(ref: MilestoneRef) -> str:
    who = "an approval manager" if ref.milestone.approval.requires_approval_manager else "anyone"
    return f"{milestone_path(ref)}, to be decided by {who}"


def pending_line(item: PendingApproval) -> str:
    return f"{item.release_id} {milestone_line(item.ref)}"


def event_line(event: TimelineEvent) -> str:
    change = ""
    if event.before and event.after and "status" in event.before:
        change = f": {event.before['status']} → {event.after.get('status')}"
    actor = event.actor.username
    return f"{when(event.at)}  {event.action} by {actor} on {event.target.label()}{change}"


def when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "—"


# --- command line -------------------------------------------------------------------------


async def run() -> None:
    async with repositories_from_environment() as (target, repos):
        print(target)
        await run_demo(repos)


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
