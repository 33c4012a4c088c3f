"""Archiving a release (soft delete, core/rules/archive.py): an admin's call, recorded in the
timeline and the audit chain; hidden from every list a repository answers, still read by
reference and exported for the audit; changed by nothing but a restore. Run on the in-memory
fakes and on the storage adapters (``any_world``)."""

from __future__ import annotations

import os
from datetime import date, timedelta
from typing import Any

import mongomock
import pytest

from core.errors import PermissionDenied, RuleViolation, ValidationFailed
from core.models.rbac import Permission
from core.models.release import Decision, Release
from core.rules.archive import NotArchived, ReleaseArchived
from core.rules.permissions import Actor
from core.services.gates import GateDraft
from storage.codec import to_document
from storage.engine import Database
from storage.wiring import open_repositories
from tests.support import T0, World
from tests.test_repository_contracts import pending_release, release
from tests.test_schedule_services import _pending as pending, at_utc

DAY = date(2026, 12, 10)
REASON = "Cancelled: merged into REL-2027.01"


@pytest.fixture
def world(any_world: World) -> World:
    return any_world


async def stored_pair(world: World) -> tuple[Release, Release]:
    """REL-KEEP and REL-GONE (newer, with a pending approval), both in squad payments."""
    keep = await world.repos.releases.add(release("REL-KEEP", DAY))
    gone = pending_release("REL-GONE", ["payments"])
    gone = gone.model_copy(update={"release_date": DAY + timedelta(days=1)})
    return keep, await world.repos.releases.add(gone)


async def listed_everywhere(world: World, squads: list[str] | None) -> dict[str, list[str]]:
    """What every listing query of the release repository answers, by query."""
    releases = world.repos.releases
    home = await releases.home(squads=squads, limit=0)
    window = await releases.dated_between(
        start=DAY - timedelta(days=30), end=DAY + timedelta(days=30), squads=squads
    )
    return {
        "page": [
            c.release_id
            for c in await releases.page(squads=squads, query=None, after=None, limit=0)
        ],
        "search": [
            c.release_id
            for c in await releases.page(squads=squads, query="rel", after=None, limit=0)
        ],
        "recent_ids": await releases.recent_ids(squads=squads, limit=0),
        "pending": [r.release_id for r in await releases.with_pending_approvals(squads=squads)],
        "home.pending": [r.release_id for r in home.pending],
        "home.page": [c.release_id for c in home.page],
        "dated_between": [c.release_id for c in window],
    }


def every_list(*, keep: list[str], pending: list[str]) -> dict[str, list[str]]:
    return {
        "page": keep,
        "search": keep,
        "recent_ids": keep,
        "pending": pending,
        "home.pending": pending,
        "home.page": keep,
        "dated_between": keep,
    }


async def admin(world: World) -> Actor:
    return await world.admin_actor()


# --- archive and restore ----------------------------------------------------------------------


@pytest.mark.parametrize("squads", [None, ["payments"]])
async def test_an_archived_release_leaves_every_list_and_a_restore_brings_it_back(
    world: World, squads: list[str] | None
) -> None:
    await stored_pair(world)
    both = ["REL-GONE", "REL-KEEP"]
    assert await listed_everywhere(world, squads) == every_list(keep=both, pending=["REL-GONE"])

    await world.services.releases.archive(await admin(world), "rel-gone", REASON)

    assert await listed_everywhere(world, squads) == every_list(keep=["REL-KEEP"], pending=[])

    await world.services.releases.restore(await admin(world), "REL-GONE")

    assert await listed_everywhere(world, squads) == every_list(keep=both, pending=["REL-GONE"])


async def test_an_archived_release_is_still_read_by_reference_and_exported_for_the_audit(
    world: World,
) -> None:
    _, gone = await stored_pair(world)
    root = await admin(world)
    world.clock.advance(hours=1)

    await world.services.releases.archive(root, "REL-GONE", REASON)

    read = await world.services.releases.get(root, "REL-GONE")
    assert (read.archived_at, read.archived_by, read.archived_reason) == (
        T0 + timedelta(hours=1),
        root.user_id,
        REASON,
    )
    assert read.is_archived and read.id == gone.id
    by_id = await world.services.releases.get(root, gone.id)
    assert by_id.is_archived
    heads = await world.repos.releases.audit_heads(squads=None, after=None, limit=10)
    assert "REL-GONE" in [h.release_id for h in heads]
    # Someone of its squad still sees it; someone of another squad still does not.
    pam = await world.actor("pam", squads=["payments"])
    assert (await world.services.releases.get(pam, "REL-GONE")).is_archived
    olga = await world.actor("olga", squads=["ops"])
    with pytest.raises(Exception, match="No release 'REL-GONE'"):
        await world.services.releases.get(olga, "REL-GONE")


async def test_archive_and_restore_are_recorded_in_the_timeline_and_the_audit_chain(
    world: World,
) -> None:
    await stored_pair(world)
    root = await admin(world)
    before = await world.repos.releases.get("REL-GONE")

    await world.services.releases.archive(root, "REL-GONE", f"  {REASON} ")
    world.clock.advance(minutes=5)
    restored = await world.services.releases.restore(root, "REL-GONE")

    _, events = await world.services.timeline.history(root, "REL-GONE")
    assert [e.action for e in events] == ["release.restored", "release.archived"]
    archived = events[1]
    assert archived.comment == REASON
    assert archived.actor.username == "root"
    assert (archived.at, archived.actor.user_id) == (T0, root.user_id)
    assert events[0].at == T0 + timedelta(minutes=5)
    assert restored.audit_seq == before.audit_seq + 2
    assert (restored.archived_at, restored.archived_by, restored.archived_reason) == (
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    "flags",
    [
        (),
        (Permission.CAN_CREATE_RELEASE, Permission.CAN_VIEW_ALL),  # a release manager
        (Permission.IS_APPROVAL_MANAGER, Permission.CAN_VIEW_ALL),
    ],
)
async def test_only_an_admin_archives_or_restores_and_a_refusal_stores_nothing(
    world: World, flags: tuple[Permission, ...]
) -> None:
    await stored_pair(world)
    await world.services.releases.archive(await admin(world), "REL-KEEP", REASON)
    someone = await world.actor("mia", *flags, squads=["payments"])
    before = await world.snapshot()

    with pytest.raises(PermissionDenied, match="'can_manage_roles' permission to archive"):
        await world.services.releases.archive(someone, "REL-GONE", REASON)
    with pytest.raises(PermissionDenied, match="to restore an archived release"):
        await world.services.releases.restore(someone, "REL-KEEP")

    assert await world.snapshot() == before


async def test_archiving_twice_or_restoring_what_is_not_archived_is_refused_in_words(
    world: World,
) -> None:
    await stored_pair(world)
    root = await admin(world)
    await world.services.releases.archive(root, "REL-GONE", REASON)
    before = await world.snapshot()

    with pytest.raises(ReleaseArchived) as again:
        await world.services.releases.archive(root, "REL-GONE", "once more")
    with pytest.raises(NotArchived) as not_archived:
        await world.services.releases.restore(root, "REL-KEEP")

    assert again.value.message == (
        "Release 'REL-GONE' was archived on 2026-12-01 09:00 UTC (“Cancelled: merged into "
        "REL-2027.01”) already; nothing changed."
    )
    assert not_archived.value.message == (
        "Release 'REL-KEEP' is not archived: there is nothing to restore."
    )
    assert await world.snapshot() == before


@pytest.mark.parametrize("reason", ["", "   ", "x" * 2001])
async def test_archiving_needs_a_reason(world: World, reason: str) -> None:
    await stored_pair(world)
    root = await admin(world)
    before = await world.snapshot()

    with pytest.raises(ValidationFailed, match="reason"):
        await world.services.releases.archive(root, "REL-GONE", reason)

    assert await world.snapshot() == before


async def test_an_archived_release_refuses_every_change_but_a_restore(world: World) -> None:
    await stored_pair(world)
    root = await admin(world)
    await world.services.releases.archive(root, "REL-GONE", REASON)
    before = await world.snapshot()
    services = world.services
    changes: list[Any] = [
        services.releases.edit_description(root, "REL-GONE", "changed"),
        services.gates.add_gate(root, "REL-GONE", "pay-api", GateDraft(gate_name="Perf")),
        services.approvals.decide(
            root, "REL-GONE", "pay-api", "Security scan", "go-live", Decision.APPROVE
        ),
        services.approvals.decide(
            root, "REL-GONE", "pay-api", "Security scan", "go-live", Decision.REJECT, "no"
        ),
    ]

    for change in changes:
        with pytest.raises(
            RuleViolation,
            match="Release 'REL-GONE' was archived .* change it: an admin must restore it first",
        ):
            await change

    assert await world.snapshot() == before
    await services.releases.restore(root, "REL-GONE")
    decided = await services.approvals.decide(
        root, "REL-GONE", "pay-api", "Security scan", "go-live", Decision.APPROVE
    )
    assert decided.version == before_version(before, "REL-GONE") + 2


def before_version(snapshot: dict[str, list[dict[str, Any]]], release_id: str) -> int:
    [doc] = [d for d in snapshot["releases"] if d["release_id"] == release_id]
    return int(doc["version"])


# --- what the scheduler and the approvals read ------------------------------------------------


async def test_digests_reminders_and_pending_approvals_leave_an_archived_release_out(
    world: World,
) -> None:
    world.clock.now = at_utc(1, 9)
    await pending(world)  # REL-2026.12, dated 10 Dec, squad payments, go-live pending
    arjun = await world.actor("arjun", Permission.IS_APPROVAL_MANAGER, Permission.CAN_VIEW_ALL)
    dana = await world.actor("dana", squads=["payments"])
    root = await admin(world)

    async def seen() -> tuple[list[str], list[str], list[str]]:
        digest = await world.services.digests.digest_for(dana, date(2026, 12, 1))
        reminded = [
            j
            for j in await world.services.reminders.due(at_utc(1, 13))
            if j.recipient.user_id == arjun.user_id
        ]
        waiting = await world.services.approvals.pending_for(arjun)
        return (
            [e.release.release_id for e in digest.entries],
            sorted({j.release.release_id for j in reminded}),
            [p.release_id for p in waiting],
        )

    await world.services.releases.archive(root, "REL-2026.12", REASON)
    hidden = await seen()
    await world.services.releases.restore(root, "REL-2026.12")
    shown = await seen()

    assert hidden == ([], [], [])
    assert shown == (["REL-2026.12"], ["REL-2026.12"], ["REL-2026.12"])


# --- storage: old documents, index-served lists ----------------------------------------------


async def test_a_release_stored_before_archiving_loads_unarchived_and_is_listed(
    storage_world: World,
) -> None:
    world = storage_world
    old = to_document(release("REL-OLD", DAY))
    for field in ("archived_at", "archived_by", "archived_reason"):
        old.pop(field)
    await world.mongo["releases"].insert_one(old)

    read = await world.repos.releases.get("REL-OLD")
    listed = await world.repos.releases.page(squads=None, query=None, after=None, limit=0)

    assert not read.is_archived
    assert [c.release_id for c in listed] == ["REL-OLD"]


@pytest.mark.skipif(bool(os.environ.get("MONGO_TEST_URI")), reason="the embedded engine's own")
async def test_the_embedded_engine_still_answers_a_page_from_its_index(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = [to_document(release(f"REL-{n:04d}", DAY + timedelta(days=n))) for n in range(3000)]
    for doc in docs[-5:]:  # the five newest are archived
        doc["archived_at"] = T0
    await db["releases"].insert_many(docs)
    repos = await open_repositories(db)
    looked_at = 0
    original: Any = mongomock.filtering.filter_applies

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal looked_at
        looked_at += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(mongomock.filtering, "filter_applies", counting)
    page = await repos.releases.page(squads=["payments"], query=None, after=None, limit=11)

    assert [c.release_id for c in page] == [f"REL-{n:04d}" for n in range(2994, 2983, -1)]
    # Of 3,000: the 11 shown (and one more, as without archived releases), and the 5
    # archived ones walked past.
    assert looked_at <= 12 + 5


@pytest.mark.skipif(not os.environ.get("MONGO_TEST_URI"), reason="needs a MongoDB server")
async def test_mongodb_walks_the_date_index_for_a_page_without_archived_releases(
    db: Database,
) -> None:
    repos = await open_repositories(db)
    await repos.releases.add(release("REL-1", DAY))
    query = {"$and": [{"squad_ids": {"$in": ["payments"]}}, {"archived_at": None}]}

    plan = await db.command(
        "explain",
        {"find": "releases", "filter": query, "sort": {"release_date": -1, "_id": -1}},
    )

    assert "by_squad_release_date" in str(plan["queryPlanner"]["winningPlan"])
