"""`/release list <query>` searches (core/rules/search.py): the start of the id or of a word of
the name, ignoring case, literally; served by an index on MongoDB and on the embedded engine.
Run on the in-memory fakes and on the storage adapters (``any_world``)."""

from __future__ import annotations

import os
from datetime import date, timedelta
from typing import Any

import mongomock
import pytest

from blocks.releases import release_list_message
from core.models.release import Release, ReleaseDraft
from core.rules.permissions import Actor
from storage import indexes
from storage.codec import DERIVED, SEARCH_KEYS, SUMMARY, to_document
from storage.engine import Database
from storage.indexes import backfill_folded
from storage.wiring import open_repositories
from tests.support import T0, World

DAY = date(2026, 12, 10)
NAMED = {
    "REL-2026.11": "November train",
    "REL-2026.11-HF1": "Hotfix for Payments-API",
    "HOTFIX-7": "Mobile app (beta)",
    "PAY-9": "Straße rewrite",
    "OPS-1": "Use $where wisely",
    "OPS-2": "Payments .* rewrite",
    "OPS-3": "Legacy {$ne: 1} cleanup",
}


@pytest.fixture
def world(any_world: World) -> World:
    return any_world


async def named(world: World, names: dict[str, str], on: date = DAY) -> Actor:
    admin = await world.admin_actor()
    for release_id, name in names.items():
        draft = ReleaseDraft(release_id=release_id, release_name=name, release_date=on)
        await world.services.releases.create(admin, draft)
    return admin


async def found(world: World, actor: Actor, query: str) -> set[str]:
    page = await world.services.releases.list_releases(actor, query=query, limit=100)
    return {card.release_id for card in page.items}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("rel-2026.11", {"REL-2026.11", "REL-2026.11-HF1"}),  # the start of the id
        ("Rel-2026.11-h", {"REL-2026.11-HF1"}),
        ("2026.11", {"REL-2026.11", "REL-2026.11-HF1"}),  # a word of the id
        ("hf1", {"REL-2026.11-HF1"}),
        ("HOTFIX", {"REL-2026.11-HF1", "HOTFIX-7"}),  # a word of the name, or the id
        ("api", {"REL-2026.11-HF1"}),  # words start after any non-alphanumeric
        ("payments-a", {"REL-2026.11-HF1"}),
        ("hotfix for pay", {"REL-2026.11-HF1"}),  # several words, in their order
        ("  november \t TRAIN ", {"REL-2026.11"}),  # spaces folded, case ignored
        ("STRASSE", {"PAY-9"}),  # case-folded: ß is ss
        ("straße re", {"PAY-9"}),
        ("otfix", set()),  # never from the middle of a word
        ("026", set()),
        ("ain", set()),
        ("hotfix payments", set()),  # the words are not next to each other
        ("(beta)", {"HOTFIX-7"}),  # a word starts after a space
        ("beta", {"HOTFIX-7"}),  # and at a letter after anything else
    ],
)
async def test_a_search_matches_the_start_of_the_id_or_of_a_word_of_the_name(
    world: World, query: str, expected: set[str]
) -> None:
    admin = await named(world, NAMED)

    assert await found(world, admin, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (".*", {"OPS-2"}),
        ("$where", {"OPS-1"}),
        ("{$ne: 1}", {"OPS-3"}),
        ("^rel", set()),
        ("rel|pay", set()),
        ("[", set()),
        ("\\", set()),
        ("\x00rel", {"REL-2026.11", "REL-2026.11-HF1"}),  # a control character is a space
        ('{"$gt": ""}', set()),
    ],
)
async def test_a_search_is_text_never_an_operator_or_a_pattern(
    world: World, query: str, expected: set[str]
) -> None:
    admin = await named(world, NAMED)
    before = await world.snapshot()

    assert await found(world, admin, query) == expected
    assert await world.snapshot() == before


async def test_a_search_is_paged_by_the_same_cursor_newest_first(world: World) -> None:
    admin = await world.admin_actor()
    for n in range(25):
        on = DAY + timedelta(days=n // 2)  # two a day: ties broken by id
        draft = ReleaseDraft(
            release_id=f"TR-{n:02d}", release_name="Payments train", release_date=on
        )
        await world.services.releases.create(admin, draft)
        other = ReleaseDraft(release_id=f"XX-{n:02d}", release_name="Checkout", release_date=on)
        await world.services.releases.create(admin, other)

    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        page = await world.services.releases.list_releases(
            admin, query="TRAIN", cursor=cursor, limit=10
        )
        pages.append([card.release_id for card in page.items])
        cursor = page.next_cursor
        if cursor is None:
            break

    assert [len(p) for p in pages] == [10, 10, 5]
    assert sum(pages, []) == [f"TR-{n:02d}" for n in range(24, -1, -1)]


async def test_a_search_sees_only_the_squads_releases(world: World) -> None:
    admin = await world.admin_actor()
    for release_id, squads in (("PAY-1", ["payments"]), ("CHK-1", ["checkout"])):
        draft = ReleaseDraft(
            release_id=release_id, release_name="Train", release_date=DAY, squad_ids=squads
        )
        await world.services.releases.create(admin, draft)
    payer = await world.actor("pam", squads=["payments"])

    assert await found(world, payer, "train") == {"PAY-1"}
    assert await found(world, admin, "train") == {"PAY-1", "CHK-1"}


# --- stored with every write, rebuilt at start-up, served by an index -------------------------


async def test_every_write_stores_the_search_keys_and_never_hands_them_out(
    storage_world: World,
) -> None:
    world = storage_world
    admin = await named(world, {"REL-1": "Payments rewrite"})
    await world.services.releases.edit_description(admin, "REL-1", "changed")

    raw = await world.mongo["releases"].find_one({"release_id": "REL-1"})
    release = await world.services.releases.get(admin, "REL-1")

    assert raw is not None
    assert raw[SEARCH_KEYS] == ["1", "payments rewrite", "rel-1", "rewrite"]
    assert isinstance(raw[SUMMARY], str) and raw[DERIVED]
    assert release.description == "changed" and release.version == 1
    assert to_document(release) == raw


def stored_by_an_older_version(release: Release, **changes: Any) -> dict[str, Any]:
    document = to_document(release)
    for key in (SEARCH_KEYS, SUMMARY, DERIVED):
        document.pop(key)
    return {**document, **changes}


def plain(release_id: str, name: str) -> Release:
    return Release(
        release_id=release_id,
        release_name=name,
        release_date=DAY,
        squad_ids=["payments"],
        created_by="someone",
        created_at=T0,
    )


async def test_start_up_gives_older_releases_their_search_keys_and_summary(db: Database) -> None:
    older = plain("OLD-1", "Legacy train")
    stale = plain("OLD-2", "Legacy cleanup")
    await db["releases"].insert_many(
        [
            stored_by_an_older_version(older),
            {**stored_by_an_older_version(stale), SEARCH_KEYS: ["x"], DERIVED: "search 0"},
        ]
    )

    repos = await open_repositories(db)

    listed = await repos.releases.page(squads=None, query="legacy", after=None, limit=0)
    assert sorted(card.release_id for card in listed) == ["OLD-1", "OLD-2"]
    for release in (older, stale):
        raw = await db["releases"].find_one({"release_id": release.release_id})
        assert raw is not None and raw == to_document(release)
    assert await backfill_folded(db) == 0  # done once


async def test_start_up_never_overwrites_what_a_save_stored_meanwhile(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    repos = await open_repositories(db)
    release = await repos.releases.add(plain("REL-1", "Before"))
    await db["releases"].update_one({"release_id": "REL-1"}, {"$unset": {DERIVED: ""}})
    complete = indexes._complete
    saved: list[Release] = []

    async def saved_first(*args: Any) -> bool:
        """Another replica saves the release after start-up read it, before it writes."""
        renamed = release.model_copy(update={"release_name": "After"})
        saved.append(await repos.releases.save(renamed))
        return await complete(*args)

    monkeypatch.setattr(indexes, "_complete", saved_first)
    changed = await backfill_folded(db)

    raw = await db["releases"].find_one({"release_id": "REL-1"})
    assert changed == 0 and raw == to_document(saved[0])
    listed = await repos.releases.page(squads=None, query="after", after=None, limit=0)
    assert [card.summary.release_name for card in listed] == ["After"]


@pytest.mark.skipif(bool(os.environ.get("MONGO_TEST_URI")), reason="the embedded engine's own")
async def test_the_embedded_engine_answers_a_search_from_its_index(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [("Passkeys rollout" if n % 100 == 7 else f"Train {n}") for n in range(3000)]
    await db["releases"].insert_many(
        [to_document(plain(f"REL-{n:04d}", name)) for n, name in enumerate(names)]
    )
    repos = await open_repositories(db)
    looked_at = 0
    original: Any = mongomock.filtering.filter_applies

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal looked_at
        looked_at += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(mongomock.filtering, "filter_applies", counting)
    by_word = await repos.releases.page(squads=None, query="PASSKEYS", after=None, limit=11)
    word_cost, looked_at = looked_at, 0
    by_id = await repos.releases.page(squads=["payments"], query="rel-012", after=None, limit=11)

    assert len(by_word) == 11 and word_cost <= 30  # of 3,000, the 30 that match
    assert [c.release_id for c in by_id] == [f"REL-{n:04d}" for n in range(129, 119, -1)]
    assert looked_at <= 11  # REL-0120 … REL-0129


@pytest.mark.skipif(not os.environ.get("MONGO_TEST_URI"), reason="needs a MongoDB server")
async def test_mongodb_answers_a_search_from_the_search_key_index(db: Database) -> None:
    repos = await open_repositories(db)
    await repos.releases.add(plain("REL-1", "Payments rewrite"))
    query = {SEARCH_KEYS: {"$regex": "^payments"}}

    plan = await db.command("explain", {"find": "releases", "filter": query})

    assert "by_search_key" in str(plan["queryPlanner"]["winningPlan"])


def test_a_search_that_finds_nothing_says_what_a_search_matches() -> None:
    message = release_list_message([], query="otfix", next_cursor=None)

    assert message.text.startswith("No releases matching “otfix” that you can see.")
    assert "the start of a release id or of a word in a release name" in message.text
    assert (
        "No releases that you can see yet"
        in release_list_message([], query=None, next_cursor=None).text
    )
