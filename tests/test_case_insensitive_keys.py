"""Release ids, role names and usernames match ignoring case, by a folded key under a unique
index (the same queries on mongomock and MongoDB); data stored before keys were folded keeps
working; an unknown one is answered with the closest names the actor may see."""

from __future__ import annotations

import pytest

from core.errors import Duplicate, Kind, NotFound
from core.models.catalog import Squad
from core.models.rbac import Role, User
from core.models.release import Release
from core.seeds.demo import seed_demo_data
from core.services.container import Repositories, build_services
from core.suggestions import closest
from storage.codec import from_document, to_document
from storage.engine import Database
from storage.indexes import backfill_folded, ensure_indexes
from storage.instrumented import RoundTrips
from storage.wiring import open_repositories
from tests.support import T0, World

FOLDED_KEYS = ("release_id", "role_name", "username")


def release(release_id: str) -> Release:
    return Release(
        release_id=release_id,
        release_name=f"Release {release_id}",
        release_date=T0.date(),
        created_by="someone",
        created_at=T0,
    )


def role(name: str) -> Role:
    return Role(role_name=name, created_at=T0)


def user(username: str) -> User:
    return User(
        username=username, full_name=username, email=f"{username}@example.com", created_at=T0
    )


@pytest.fixture
async def repos(db: Database) -> Repositories:
    return await open_repositories(db)


# --- storage: found ignoring case, unique ignoring case --------------------------------------


async def test_keys_are_found_ignoring_case(repos: Repositories) -> None:
    stored = await repos.releases.add(release("REL-2026.12"))
    admin = await repos.roles.add(role("Release Manager"))
    dana = await repos.users.add(user("Dana"))

    assert (await repos.releases.get("rel-2026.12")).id == stored.id
    assert (await repos.releases.get(" Rel-2026.12 ")).id == stored.id
    assert (await repos.roles.get("release MANAGER")).id == admin.id
    assert (await repos.users.get_by_username("dana")).id == dana.id
    assert (await repos.users.get_by_username("DANA")).username == "Dana"


@pytest.mark.parametrize("typed", ["rel-2026.1", "REL-2026.12.", "rel.2026.12", "^rel-2026.12$"])
async def test_only_the_same_key_matches_not_a_pattern(repos: Repositories, typed: str) -> None:
    await repos.releases.add(release("REL-2026.12"))

    with pytest.raises(NotFound) as refused:
        await repos.releases.get(typed)

    assert refused.value.kind is Kind.RELEASE


async def test_keys_differing_only_in_case_are_duplicates(repos: Repositories) -> None:
    await repos.releases.add(release("REL-1"))
    await repos.roles.add(role("Admin"))
    await repos.users.add(user("dana"))

    with pytest.raises(Duplicate) as twin_release:
        await repos.releases.add(release("rel-1"))
    with pytest.raises(Duplicate) as twin_role:
        await repos.roles.add(role("ADMIN"))
    with pytest.raises(Duplicate) as twin_user:
        await repos.users.add(user("Dana").model_copy(update={"email": "other@example.com"}))

    assert twin_release.value.fields == {"release_id": "Already taken"}
    assert "release_id 'rel-1' already exists (ignoring case)" in twin_release.value.message
    assert twin_role.value.fields == {"role_name": "Already taken"}
    assert twin_user.value.fields == {"username": "Already taken"}


async def test_the_folded_key_is_stored_but_never_reaches_the_domain(
    repos: Repositories, db: Database
) -> None:
    stored = await repos.releases.add(release("REL-2026.12"))

    raw = await db["releases"].find_one({"release_id": "REL-2026.12"})

    assert raw is not None and raw["release_id_folded"] == "rel-2026.12"
    assert to_document(stored)["release_id_folded"] == "rel-2026.12"
    assert from_document(Release, raw) == stored


async def test_catalog_keys_keep_matching_exactly(repos: Repositories) -> None:
    """Only release ids, role names and usernames are folded; squads are picked, not typed."""
    await repos.squads.add(Squad(squad_id="payments", squad_name="Payments"))

    with pytest.raises(NotFound) as refused:
        await repos.squads.get("PAYMENTS")

    assert refused.value.kind is Kind.SQUAD and refused.value.message == "No squad 'PAYMENTS'."


# --- data stored before keys were folded ------------------------------------------------------


async def stored_before_folding(db: Database) -> None:
    """Documents as an earlier version wrote them: no folded keys, no folded indexes."""
    await db["releases"].insert_many(
        [
            {k: v for k, v in to_document(release(r)).items() if not k.endswith("_folded")}
            for r in ("REL-OLD", "rel-twin", "REL-TWIN")
        ]
    )
    await db["roles"].insert_one(
        {k: v for k, v in to_document(role("Old Role")).items() if not k.endswith("_folded")}
    )
    await db["users"].insert_one(
        {k: v for k, v in to_document(user("OldTimer")).items() if not k.endswith("_folded")}
    )


async def test_start_up_folds_the_keys_of_older_documents(db: Database) -> None:
    await stored_before_folding(db)

    repos = await open_repositories(db)

    assert (await repos.releases.get("rel-old")).release_id == "REL-OLD"
    assert (await repos.roles.get("old role")).role_name == "Old Role"
    assert (await repos.users.get_by_username("oldtimer")).username == "OldTimer"
    with pytest.raises(Duplicate):
        await repos.releases.add(release("Rel-Old"))
    assert await backfill_folded(db) == 0  # done once
    await ensure_indexes(db)  # and idempotent


async def test_older_twins_differing_only_in_case_are_each_found_by_their_own_id(
    db: Database,
) -> None:
    await stored_before_folding(db)

    repos = await open_repositories(db)

    assert (await repos.releases.get("rel-twin")).release_id == "rel-twin"
    assert (await repos.releases.get("REL-TWIN")).release_id == "REL-TWIN"
    assert (await repos.releases.get("Rel-Twin")).release_id == "rel-twin"  # the older one
    twins = (
        await db["releases"].find({"release_id": {"$in": ["rel-twin", "REL-TWIN"]}}).to_list(None)
    )
    assert sorted("release_id_folded" in t for t in twins) == [False, True]
    twin = await repos.releases.get("REL-TWIN")
    twin.description = "still saved"
    await repos.releases.save(twin)
    assert (await repos.releases.get("REL-TWIN")).description == "still saved"
    saved = await db["releases"].find_one({"release_id": "REL-TWIN"})
    assert saved is not None and "release_id_folded" not in saved


async def test_seeding_over_data_stored_before_folding_creates_nothing(db: Database) -> None:
    repos = await open_repositories(db)
    await seed_demo_data(repos, today=T0.date())
    for name in ("releases", "roles", "users"):
        await db[name].update_many({}, {"$unset": {f"{k}_folded": "" for k in FOLDED_KEYS}})
    for name, index in (
        ("releases", "uniq_release_id_folded"),
        ("roles", "uniq_role_name_folded"),
        ("users", "uniq_username_folded"),
    ):
        await db[name].drop_index(index)

    report = await seed_demo_data(await open_repositories(db), today=T0.date())

    assert report.created_total == 0
    assert (await repos.releases.get("rel-2026.12")).release_id == "REL-2026.12"


# --- services: did you mean, only what the actor may see -----------------------------------------


async def test_an_unknown_release_offers_only_releases_the_actor_may_see(world: World) -> None:
    await world.release("REL-2026.12", squads=["payments"])
    await world.release("REL-2027.01", squads=["platform"])
    dana = await world.actor("dana", squads=["payments"])
    viewer = await world.admin_actor()

    with pytest.raises(NotFound) as for_dana:
        await world.services.releases.get(dana, "REL-2027.1")
    with pytest.raises(NotFound) as for_viewer:
        await world.services.releases.get(viewer, "REL-2027.1")

    assert for_dana.value.kind is Kind.RELEASE
    assert for_dana.value.suggestions == ("REL-2026.12",)
    assert for_viewer.value.suggestions[0] == "REL-2027.01"
    assert for_dana.value.message == "No release 'REL-2027.1'."


async def test_a_hidden_release_is_answered_as_if_it_did_not_exist(world: World) -> None:
    await world.release("REL-2026.12", squads=["payments"])
    await world.release("REL-2027.01", squads=["platform"])
    dana = await world.actor("dana", squads=["payments"])

    with pytest.raises(NotFound) as hidden:
        await world.services.releases.get(dana, "rel-2027.01")
    await world.mongo["releases"].delete_one({"release_id": "REL-2027.01"})
    with pytest.raises(NotFound) as gone:
        await world.services.releases.get(dana, "rel-2027.01")

    assert (hidden.value.message, hidden.value.suggestions, hidden.value.fields) == (
        gone.value.message,
        gone.value.suggestions,
        gone.value.fields,
    )


async def test_an_unknown_role_or_username_offers_the_closest(world: World) -> None:
    admin = await world.admin()
    await world.repos.roles.add(role("Release Manager"))
    await world.actor("dana")

    with pytest.raises(NotFound) as no_role:
        await world.services.users.grant_role(admin, "dana", "release managr")
    with pytest.raises(NotFound) as no_user:
        await world.services.users.grant_role(admin, "dnaa", "Release Manager")

    assert no_role.value.kind is Kind.ROLE
    assert no_role.value.suggestions == ("Release Manager",)
    assert no_user.value.kind is Kind.USER
    assert no_user.value.suggestions == ("dana",)


async def test_usernames_are_offered_only_to_someone_who_may_list_users(world: World) -> None:
    await world.actor("dana")
    viewer = await world.actor("vik")

    with pytest.raises(NotFound) as refused:
        await world.services.users.get(viewer, "dnaa")

    assert refused.value.suggestions == ()


async def test_the_suggestions_cost_one_query_and_only_when_nothing_was_found(
    db: Database, world: World
) -> None:
    await world.release("REL-2026.12", squads=["payments"])
    trips = RoundTrips()
    repos = await open_repositories(trips.wrap(db))
    services = build_services(repos, clock=world.clock)
    dana = await world.actor("dana", squads=["payments"])
    trips.reset()

    await services.releases.get(dana, "rel-2026.12")
    found = dict(trips.calls)
    trips.reset()
    with pytest.raises(NotFound):
        await services.releases.get(dana, "REL-2026.13")

    assert found == {"releases.find_one": 1}
    assert trips.calls == {"releases.find_one": 1, "releases.find": 1}


# --- closest ------------------------------------------------------------------------------------


def test_closest_ignores_case_offers_at_most_three_and_never_what_was_typed() -> None:
    names = ["REL-2026.10", "REL-2026.11", "REL-2026.12", "REL-2027.01", "Other"]

    assert closest("rel-2026.13", names) == ["REL-2026.12", "REL-2026.11", "REL-2026.10"]
    assert closest("REL-2026.12", ["rel-2026.12", "REL-2026.11"]) == ["REL-2026.11"]
    assert closest("zzz", names) == []
    assert closest("x", []) == []
