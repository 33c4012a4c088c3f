"""The seed scripts promise personas, a catalog and releases in given states; so they are."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.errors import NotFound, PermissionDenied
from core.models.rbac import Permission
from core.models.release import ApprovalStatus, Decision, GateStatus, Release
from core.rules.approvals import may_decide
from core.rules.milestones import overlapping
from core.rules.permissions import Actor
from core.rules.readiness import Readiness, summarize
from core.seeds.demo import (
    BLOCKED_RELEASE,
    IN_PROGRESS_RELEASE,
    PENDING_APPROVALS_RELEASE,
    READY_RELEASE,
    seed_demo_data,
)
from core.seeds.minimal import seed_minimal
from scripts import demo_report, seed_demo_data as seed_demo_cli
from storage.engine import Database
from storage.wiring import open_repositories
from tests.support import COLLECTIONS, T0, FrozenClock, World

TODAY = T0.date()
MANAGER = Permission.IS_APPROVAL_MANAGER


async def persona(world: World, username: str) -> Actor:
    user = await world.repos.users.get_by_username(username)
    return await world.services.identity.actor_for(user)


async def all_releases(world: World) -> dict[str, Release]:
    rhea = await persona(world, "rhea")
    page = await world.services.releases.list_releases(rhea, limit=100)
    return {c.release_id: await world.services.releases.get(rhea, c.id) for c in page.items}


async def counts(db: Database) -> dict[str, int]:
    return {name: await db[name].count_documents({}) for name in COLLECTIONS}


@pytest.fixture
async def demo(world: World) -> World:
    await seed_demo_data(world.repos, today=TODAY)
    return world


async def test_personas_have_their_roles_and_flags(demo: World) -> None:
    expected = {
        "admin": ("Admin", set(Permission)),
        "rhea": ("Release Manager", set(Permission) - {MANAGER, Permission.CAN_MANAGE_ROLES}),
        "arjun": ("Approval Manager", {MANAGER, Permission.CAN_VIEW_ALL}),
        "dana": ("Squad Member", set()),
    }
    for username, (role, permissions) in expected.items():
        actor = await persona(demo, username)
        assert actor.role_names == [role]
        assert actor.permissions == permissions
        assert actor.user.email == f"{username}@example.com"
    assert (await persona(demo, "dana")).user.assigned_squad_ids == ["payments"]


async def test_catalog_links_only_to_things_that_exist(demo: World) -> None:
    applications = await demo.repos.applications.all()
    squads = {s.squad_id: s for s in await demo.repos.squads.all()}
    boards = {b.board_id for b in await demo.repos.boards.all()}
    assert len(applications) == 3
    assert set(squads) == {"payments", "checkout", "platform"}
    for application in applications:
        assert 2 <= len(application.products) <= 3
        for product in application.products:
            assert set(product.product_squad_ids) <= set(squads)
            assert set(product.product_jira_board_ids) <= boards
    assert all(set(s.squad_jira_board_ids) <= boards for s in squads.values())
    assert squads["payments"].member_ids == [(await persona(demo, "dana")).user_id]
    catalog = {
        (a.application_id, p.product_id, p.product_name) for a in applications for p in a.products
    }
    for release in (await all_releases(demo)).values():
        for shipped in release.products:
            assert (shipped.application_id, shipped.product_id, shipped.product_name) in catalog


async def test_releases_are_in_the_promised_states(demo: World) -> None:
    releases = await all_releases(demo)
    readiness = {key: summarize(release).readiness for key, release in releases.items()}
    assert len(releases) >= 4
    assert readiness[READY_RELEASE] is Readiness.READY
    assert readiness[BLOCKED_RELEASE] is Readiness.BLOCKED
    assert readiness[IN_PROGRESS_RELEASE] is Readiness.NOT_READY
    assert readiness[PENDING_APPROVALS_RELEASE] is Readiness.NOT_READY
    failing = [
        gate
        for _, gate in releases[BLOCKED_RELEASE].gates()
        if gate.gate_status in (GateStatus.FAILED, GateStatus.BLOCKED)
    ]
    assert failing and all(gate.comment for gate in failing)
    in_progress = {gate.gate_status for _, gate in releases[IN_PROGRESS_RELEASE].gates()}
    assert in_progress == {GateStatus.IN_PROGRESS, GateStatus.NOT_STARTED}


async def test_pending_sign_offs_wait_for_an_approval_manager(demo: World) -> None:
    release = (await all_releases(demo))[PENDING_APPROVALS_RELEASE]
    pending = summarize(release).pending_approvals
    rhea, arjun, dana = [await persona(demo, u) for u in ("rhea", "arjun", "dana")]
    policy = demo.services.approvals.policy

    assert len(pending) >= 2
    for ref in pending:
        assert ref.milestone.approval.requires_approval_manager
        assert ref.milestone.owner_id == rhea.user_id
        assert may_decide(arjun, ref.milestone, policy)
        assert not may_decide(dana, ref.milestone, policy)
    keys = {p.ref.milestone.milestone_key for p in await demo.services.approvals.pending_for(arjun)}
    assert keys == {ref.milestone.milestone_key for ref in pending}
    assert await demo.services.approvals.pending_for(dana) == []


async def test_arjun_may_approve_a_sign_off_that_dana_may_not(demo: World) -> None:
    ref = summarize(await demo.repos.releases.get(PENDING_APPROVALS_RELEASE)).pending_approvals[0]
    where = (ref.product_id, ref.gate_name, ref.milestone.milestone_key)
    dana, arjun = await persona(demo, "dana"), await persona(demo, "arjun")

    with pytest.raises(PermissionDenied):
        await demo.services.approvals.decide(
            dana, PENDING_APPROVALS_RELEASE, *where, Decision.APPROVE
        )
    release = await demo.services.approvals.decide(
        arjun, PENDING_APPROVALS_RELEASE, *where, Decision.APPROVE
    )

    approval = release.product(where[0]).gate(where[1]).milestone(where[2]).approval
    assert approval.status is ApprovalStatus.APPROVED
    assert approval.approver_role_snapshot == ["Approval Manager"]


async def test_milestones_never_overlap_and_come_in_date_order(demo: World) -> None:
    for release in (await all_releases(demo)).values():
        for _, gate in release.gates():
            starts = [m.start_date for m in gate.milestones]
            assert starts == sorted(starts)
            for milestone in gate.milestones:
                assert milestone.end_date >= milestone.start_date
                assert overlapping(gate, milestone) is None


async def test_dates_are_relative_to_today(world: World) -> None:
    today = date(2031, 5, 4)
    await seed_demo_data(world.repos, today=today)
    releases = await all_releases(world)
    assert all(today < r.release_date <= today + timedelta(weeks=5) for r in releases.values())
    pending = summarize(releases[PENDING_APPROVALS_RELEASE]).pending_approvals
    assert all(ref.milestone.start_date.date() > today for ref in pending)


async def test_seeding_again_changes_nothing(demo: World) -> None:
    before = await demo.snapshot()
    again = await seed_demo_data(demo.repos, today=TODAY + timedelta(days=1))
    assert await demo.snapshot() == before
    assert again.created_total == 0
    assert again.existing == {
        "roles": 4,
        "users": 4,
        "jira boards": 4,
        "squads": 3,
        "applications": 3,
        "releases": 4,
    }
    assert "releases      created 0, existing 4" in str(again)


async def test_every_release_starts_its_history_with_its_creation(demo: World) -> None:
    rhea = await persona(demo, "rhea")
    for release_id in await all_releases(demo):
        _, events = await demo.services.timeline.history(rhea, release_id)
        assert [(e.action, e.actor.username) for e in events] == [("release.created", "admin")]


async def test_dana_sees_only_payments_releases(demo: World) -> None:
    dana = await persona(demo, "dana")
    visible = (await demo.services.releases.list_releases(dana, limit=100)).items
    assert {r.release_id for r in visible} == {PENDING_APPROVALS_RELEASE, BLOCKED_RELEASE}
    assert all("payments" in r.squad_ids for r in visible)
    with pytest.raises(NotFound):  # not disclosed: reads like an unknown id
        await demo.services.releases.get(dana, READY_RELEASE)


async def test_minimal_seed_holds_exactly_its_promise(world: World) -> None:
    report = await seed_minimal(world.repos, today=TODAY)
    stored = await counts(world.mongo)
    rm = await persona(world, "rm")
    release = await world.repos.releases.get("REL-0001")

    assert report.created_total == 4
    assert stored == dict.fromkeys(COLLECTIONS, 0) | {
        "roles": 1,
        "users": 1,
        "applications": 1,
        "releases": 1,
        "events": 1,
    }
    assert rm.role_names == ["Release Manager"]
    assert rm.user.email == "rm@example.com"
    assert rm.has(Permission.CAN_CREATE_RELEASE) and not rm.has(MANAGER)
    assert len((await world.repos.applications.all())[0].products) == 1
    assert release.products == [] and release.release_date > TODAY


async def test_minimal_seed_twice_is_idempotent(world: World) -> None:
    await seed_minimal(world.repos, today=TODAY)
    before = await world.snapshot()
    again = await seed_minimal(world.repos, today=TODAY)
    assert await world.snapshot() == before
    assert (again.created_total, again.existing_total) == (0, 4)


async def test_demo_report_tells_each_personas_story(db: Database) -> None:
    repos = await open_repositories(db)
    lines: list[str] = []
    await demo_report.run_demo(repos, write=lines.append, clock=FrozenClock())
    text = "\n".join(lines)

    assert "2 release(s) visible to dana:" in text
    assert "4 release(s) visible to rhea:" in text
    assert f"{READY_RELEASE} · Checkout November release · " in text
    assert "Refused — You need the 'can_create_release' permission" in text
    assert "PERMISSION_DENIED" not in text
    assert "2 approval(s) waiting for arjun:" in text
    assert "approval: APPROVED by arjun (Approval Manager)" in text
    assert "readiness after:  NOT READY, 1 pending approval(s)" in text
    assert "approval.approved by arjun on payments-api / UAT sign-off" in text
    stored = summarize(await repos.releases.get(PENDING_APPROVALS_RELEASE))
    assert len(stored.pending_approvals) == 1
    with pytest.raises(NotFound):
        await repos.releases.get("REL-DANA-1")


async def test_demo_report_again_approves_the_next_sign_off(db: Database) -> None:
    repos = await open_repositories(db)
    await demo_report.run_demo(repos, write=lambda _: None, clock=FrozenClock())
    lines: list[str] = []
    await demo_report.run_demo(repos, write=lines.append, clock=FrozenClock())
    assert "1 approval(s) waiting for arjun:" in lines
    stored = summarize(await repos.releases.get(PENDING_APPROVALS_RELEASE))
    assert stored.pending_approvals == []


def test_seed_command_prints_its_report(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MONGO_URI", "mongomock://")
    monkeypatch.setenv("MONGO_DB_NAME", "releasebot_cli_test")
    seed_demo_cli.main()
    out = capsys.readouterr().out
    assert "the data lives only in this process" in out
    assert "releases      created 4, existing 0" in out
