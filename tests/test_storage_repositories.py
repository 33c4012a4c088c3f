"""Repositories over MongoDB: unique keys, versioned saves, dates, literal search."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from core.errors import Duplicate, NotFound, StaleVersion
from core.models.attachment import Attachment
from core.models.rbac import Role, SlackIdentity, User
from core.models.release import Release, ReleaseDraft
from core.services.container import Repositories
from storage.engine import Database
from storage.indexes import INDEXES, ensure_indexes
from storage.wiring import open_repositories
from tests.support import T0, World

SHA = "ab" * 32
REAL_MONGO = bool(os.environ.get("MONGO_TEST_URI"))


@pytest.fixture
async def repos(db: Database) -> Repositories:
    return await open_repositories(db)


def release(
    release_id: str = "REL-1", name: str = "First", on: date = date(2026, 12, 10)
) -> Release:
    return Release(
        release_id=release_id,
        release_name=name,
        release_date=on,
        created_by="someone",
        created_at=T0,
    )


def user(username: str, email: str, slack: SlackIdentity | None = None) -> User:
    return User(
        username=username, full_name=username.title(), email=email, slack=slack, created_at=T0
    )


def attachment(sha256: str) -> Attachment:
    return Attachment(
        file_name="plan.pdf",
        file_type="application/pdf",
        file_size=10,
        file_url="https://files.example.com/plan.pdf",
        sha256=sha256,
        uploaded_by="someone",
        uploaded_at=T0,
    )


async def test_duplicate_release_id_is_refused_naming_the_key(repos: Repositories) -> None:
    await repos.releases.add(release("REL-1"))

    with pytest.raises(Duplicate) as caught:
        await repos.releases.add(release("REL-1", name="Other"))

    assert "release_id 'REL-1'" in caught.value.message
    assert "release_id" in caught.value.fields
    assert [
        r.release_name
        for r in await repos.releases.page(squads=None, query=None, after=None, limit=10)
    ] == ["First"]


async def test_duplicate_role_name_is_refused_naming_the_key(repos: Repositories) -> None:
    await repos.roles.add(Role(role_name="Release manager", created_at=T0))

    with pytest.raises(Duplicate) as caught:
        await repos.roles.add(Role(role_name="Release manager", created_at=T0))

    assert "role_name 'Release manager'" in caught.value.message
    assert "role_name" in caught.value.fields
    assert len(await repos.roles.all()) == 1


async def test_duplicate_username_is_refused_naming_the_key(repos: Repositories) -> None:
    await repos.users.add(user("rhea", "rhea@example.com"))

    with pytest.raises(Duplicate) as caught:
        await repos.users.add(user("rhea", "other@example.com"))

    assert "username 'rhea'" in caught.value.message
    assert "username" in caught.value.fields


async def test_duplicate_email_is_refused_whatever_its_case(repos: Repositories) -> None:
    await repos.users.add(user("rhea", "Rhea@Example.com"))

    with pytest.raises(Duplicate) as caught:
        await repos.users.add(user("rhea2", "RHEA@example.COM"))

    assert "email 'rhea@example.com'" in caught.value.message
    assert "email" in caught.value.fields
    assert [u.username for u in await repos.users.all()] == ["rhea"]


async def test_duplicate_attachment_sha256_is_refused_whatever_its_case(
    repos: Repositories,
) -> None:
    first = await repos.attachments.add(attachment(SHA))

    with pytest.raises(Duplicate) as caught:
        await repos.attachments.add(attachment(SHA.upper()))

    assert "sha256" in caught.value.message
    assert "sha256" in caught.value.fields
    found = await repos.attachments.find_by_sha256(SHA.upper())
    assert found is not None and found.id == first.id


async def test_two_users_cannot_be_added_with_one_slack_identity(repos: Repositories) -> None:
    identity = SlackIdentity(team_id="T1", user_id="U1")
    await repos.users.add(user("rhea", "rhea@example.com", identity))

    with pytest.raises(Duplicate) as caught:
        await repos.users.add(user("maya", "maya@example.com", identity))

    assert caught.value.fields
    assert [u.username for u in await repos.users.all()] == ["rhea"]


async def test_linking_a_second_user_to_a_taken_slack_identity_is_refused(
    repos: Repositories,
) -> None:
    identity = SlackIdentity(team_id="T1", user_id="U1")
    rhea = await repos.users.add(user("rhea", "rhea@example.com", identity))
    maya = await repos.users.add(user("maya", "maya@example.com"))

    with pytest.raises(Duplicate):
        await repos.users.set_slack(maya.id, identity)

    assert (await repos.users.get(maya.id)).slack is None
    linked = await repos.users.find_by_slack(identity)
    assert linked is not None and linked.id == rhea.id


async def test_slack_identity_clash_names_the_slack_identity(repos: Repositories) -> None:
    identity = SlackIdentity(team_id="T1", user_id="U1")
    await repos.users.add(user("rhea", "rhea@example.com", identity))
    maya = await repos.users.add(user("maya", "maya@example.com"))

    with pytest.raises(Duplicate) as caught:
        await repos.users.set_slack(maya.id, identity)

    assert "username" not in caught.value.fields
    assert "U1" in caught.value.message


async def test_users_without_slack_identity_do_not_clash(repos: Repositories) -> None:
    rhea = await repos.users.add(
        user("rhea", "rhea@example.com", SlackIdentity(team_id="T1", user_id="U1"))
    )
    await repos.users.add(user("maya", "maya@example.com"))
    await repos.users.add(user("arjun", "arjun@example.com"))
    await repos.users.set_slack(rhea.id, None)
    await repos.users.add(user("lena", "lena@example.com"))

    assert [u.username for u in await repos.users.all()] == ["arjun", "lena", "maya", "rhea"]


async def test_same_slack_user_id_in_another_team_does_not_clash(repos: Repositories) -> None:
    await repos.users.add(
        user("rhea", "rhea@example.com", SlackIdentity(team_id="T1", user_id="U1"))
    )
    maya = await repos.users.add(user("maya", "maya@example.com"))

    linked = await repos.users.set_slack(maya.id, SlackIdentity(team_id="T2", user_id="U1"))

    assert linked.slack == SlackIdentity(team_id="T2", user_id="U1")


async def test_ensure_indexes_twice_keeps_every_unique_index(db: Database) -> None:
    await ensure_indexes(db)
    await ensure_indexes(db)

    for collection, models in INDEXES.items():
        present = await db[collection].index_information()
        for model in models:
            assert model.document["name"] in present
    repos = await open_repositories(db)
    await repos.releases.add(release("REL-1"))
    with pytest.raises(Duplicate):
        await repos.releases.add(release("REL-1"))


async def test_release_is_found_by_release_id_and_by_object_id(repos: Repositories) -> None:
    stored = await repos.releases.add(release("REL-1"))

    assert (await repos.releases.get("REL-1")).id == stored.id
    assert (await repos.releases.get(stored.id)).release_id == "REL-1"
    assert (await repos.releases.get(f"  {stored.id} ")).release_id == "REL-1"


@pytest.mark.parametrize(
    "ref", ["REL-404", "rel-11", "REL-1.", "0123456789abcdef01234567", "", "$where", "^REL-1$"]
)
async def test_unknown_release_is_not_found(repos: Repositories, ref: str) -> None:
    await repos.releases.add(release("REL-1"))

    with pytest.raises(NotFound):
        await repos.releases.get(ref)


async def test_save_with_a_stale_version_is_refused_and_keeps_the_stored_release(
    repos: Repositories, db: Database
) -> None:
    stored = await repos.releases.add(release("REL-1"))
    first, second = stored.model_copy(deep=True), stored.model_copy(deep=True)
    first.description = "first writer"
    await repos.releases.save(first)
    before = await db["releases"].find_one({"release_id": "REL-1"})

    second.description = "second writer"
    with pytest.raises(StaleVersion):
        await repos.releases.save(second)

    assert await db["releases"].find_one({"release_id": "REL-1"}) == before
    assert (await repos.releases.get("REL-1")).description == "first writer"


async def test_dates_and_datetimes_come_back_as_stored(repos: Repositories) -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    local = datetime(2026, 12, 1, 14, 30, tzinfo=india)
    await repos.releases.add(
        Release(
            release_id="REL-1",
            release_name="First",
            release_date=date(2026, 12, 31),
            created_by="someone",
            created_at=local,
        )
    )

    reloaded = await repos.releases.get("REL-1")

    assert type(reloaded.release_date) is date
    assert reloaded.release_date == date(2026, 12, 31)
    assert reloaded.created_at == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert reloaded.created_at.utcoffset() == timedelta(0)


async def _named_releases(world: World, names: dict[str, str]) -> None:
    admin = await world.admin_actor()
    for release_id, name in names.items():
        await world.services.releases.create(
            admin,
            ReleaseDraft(release_id=release_id, release_name=name, release_date=date(2026, 12, 10)),
        )


SEARCHABLE = {
    "REL-1": "Payments .* rewrite",
    "REL-2": "Payments rewrite",
    "REL-3": "Use $where wisely",
    "REL-4": "Legacy {$ne: 1} cleanup",
    "REL-5": "Mobile app (beta)",
    "MOBILE.X": "Mobile X",
}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (".*", {"REL-1"}),
        ("$where", {"REL-3"}),
        ("{$ne: 1}", {"REL-4"}),
        ("(beta)", {"REL-5"}),
        ("mobile.x", {"MOBILE.X"}),
        ("e.x", set()),  # a prefix of the id or of a word, never from the middle
        ("[", set()),
        ("\\", set()),
    ],
)
async def test_search_matches_the_query_literally(
    world: World, query: str, expected: set[str]
) -> None:
    await _named_releases(world, SEARCHABLE)
    admin = await world.admin_actor()

    page = await world.services.releases.list_releases(admin, query=query)

    assert {r.release_id for r in page.items} == expected


async def test_search_ignores_case_on_id_and_name(world: World) -> None:
    await _named_releases(world, SEARCHABLE)
    admin = await world.admin_actor()

    by_id = await world.services.releases.list_releases(admin, query="rel-2")
    by_name = await world.services.releases.list_releases(admin, query="PAYMENTS REWRITE")

    assert [r.release_id for r in by_id.items] == ["REL-2"]
    assert [r.release_id for r in by_name.items] == ["REL-2"]
