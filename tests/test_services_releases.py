"""ReleaseService: create, read, list (paged, squad-scoped), describe, products, versions;
and the timeline every change leaves behind."""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.errors import Duplicate, NotFound, PastReleaseDate, PermissionDenied, ValidationFailed
from core.models.common import new_id
from core.models.rbac import Permission
from core.models.release import FixedVersion, Release, ReleaseDraft
from core.rules.permissions import Actor
from core.rules.readiness import ReleaseCard
from tests.support import World

REL = "REL-2026.12"
DAY = date(2026, 12, 10)


@pytest.fixture
def world(any_world: World) -> World:
    """Every test here runs on the in-memory fakes and on the storage adapters."""
    return any_world


def draft(
    release_id: str = REL, on: date = DAY, squads: tuple[str, ...] = ("payments",)
) -> ReleaseDraft:
    return ReleaseDraft(
        release_id=release_id,
        release_name=f"Release {release_id}",
        release_date=on,
        squad_ids=list(squads),
    )


async def create_many(
    world: World, count: int, *, prefix: str = "R", spread: int = 9
) -> list[Release]:
    """``count`` releases over ``spread`` days, so several share a date."""
    admin = await world.admin_actor()
    return [
        await world.services.releases.create(
            admin, draft(f"{prefix}-{n:03}", DAY + timedelta(days=n % spread))
        )
        for n in range(count)
    ]


def newest_first(releases: list[Release]) -> list[str]:
    ordered = sorted(releases, key=lambda r: (r.release_date, r.id), reverse=True)
    return [r.release_id for r in ordered]


async def walk(world: World, actor: Actor, limit: int) -> list[str]:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = await world.services.releases.list_releases(actor, cursor=cursor, limit=limit)
        seen += [r.release_id for r in page.items]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


# --- create and get ---------------------------------------------------------------------


async def test_create_stores_the_release_and_records_who_created_it(world: World) -> None:
    mia = await world.actor("mia", Permission.CAN_CREATE_RELEASE, Permission.CAN_VIEW_ALL)

    created = await world.services.releases.create(mia, draft())

    stored = await world.repos.releases.get(REL)
    assert stored.id == created.id
    assert stored.created_by == mia.user_id
    assert stored.release_date == DAY
    _, events = await world.services.timeline.history(mia, REL)
    assert [(e.action, e.actor.user_id, e.actor.username) for e in events] == [
        ("release.created", mia.user_id, "mia")
    ]


async def test_create_without_permission_is_denied_and_stores_nothing(world: World) -> None:
    viewer = await world.actor("vic", Permission.CAN_VIEW_ALL)
    before = await world.snapshot()

    with pytest.raises(PermissionDenied, match="can_create_release"):
        await world.services.releases.create(viewer, draft())

    assert await world.snapshot() == before


async def test_create_with_a_taken_release_id_is_a_duplicate(world: World) -> None:
    await world.release(REL)
    admin = await world.admin_actor()
    before = await world.snapshot()

    with pytest.raises(Duplicate) as caught:
        await world.services.releases.create(admin, draft(REL))

    assert "release_id" in caught.value.fields
    assert await world.snapshot() == before


async def test_get_finds_a_release_by_its_id_or_its_object_id(world: World) -> None:
    stored = await world.release(REL)
    admin = await world.admin_actor()

    assert (await world.services.releases.get(admin, REL)).id == stored.id
    assert (await world.services.releases.get(admin, stored.id)).release_id == REL


async def test_get_of_another_squads_release_reads_like_an_unknown_id(world: World) -> None:
    await world.release(REL, squads=["payments"])
    outsider = await world.actor("otto", squads=["mobile"])

    with pytest.raises(NotFound, match=REL):
        await world.services.releases.get(outsider, REL)


# --- description ------------------------------------------------------------------------


async def test_edit_description_stores_it_and_records_before_and_after(world: World) -> None:
    await world.release(REL)
    editor = await world.actor(
        "eda", Permission.CAN_EDIT_RELEASE_DESCRIPTION, Permission.CAN_VIEW_ALL
    )

    edited = await world.services.releases.edit_description(editor, REL, "  Card payments v2  ")

    assert (await world.repos.releases.get(REL)).description == "Card payments v2"
    _, events = await world.services.timeline.history(editor, REL, limit=1)
    assert events[0].action == "release.description"
    assert events[0].before == {"description": ""}
    assert events[0].after == {"description": "Card payments v2"}
    assert events[0].actor.username == "eda"
    assert edited.version == (await world.repos.releases.get(REL)).version


async def test_edit_description_without_permission_is_denied(world: World) -> None:
    await world.release(REL)
    creator = await world.actor("cat", Permission.CAN_CREATE_RELEASE, Permission.CAN_VIEW_ALL)
    before = await world.snapshot()

    with pytest.raises(PermissionDenied, match="can_edit_release_description"):
        await world.services.releases.edit_description(creator, REL, "mine now")

    assert await world.snapshot() == before


async def test_edit_description_over_3000_characters_is_refused(world: World) -> None:
    await world.release(REL)
    admin = await world.admin_actor()
    before = await world.snapshot()

    with pytest.raises(ValidationFailed) as caught:
        await world.services.releases.edit_description(admin, REL, "x" * 3001)

    assert "description" in caught.value.fields
    assert await world.snapshot() == before


async def test_edit_description_with_unchanged_text_changes_nothing(world: World) -> None:
    await world.release(REL)
    admin = await world.admin_actor()
    await world.services.releases.edit_description(admin, REL, "Same words")
    before = await world.snapshot()

    result = await world.services.releases.edit_description(admin, REL, "Same words ")

    assert await world.snapshot() == before
    assert result.version == (await world.repos.releases.get(REL)).version


# --- products and fixed versions ---------------------------------------------------------


async def test_add_product_takes_its_name_from_the_catalog(world: World) -> None:
    stored = await world.release(REL, products=["pay-api", "pay-web"])

    assert [(p.product_id, p.product_name) for p in stored.products] == [
        ("pay-api", "Pay-Api"),
        ("pay-web", "Pay-Web"),
    ]
    assert stored.scope_application_ids == ["app-rel-2026-12"]


async def test_add_product_of_an_unknown_application_is_not_found(world: World) -> None:
    await world.release(REL)
    admin = await world.admin_actor()
    before = await world.snapshot()

    with pytest.raises(NotFound, match="no-such-app"):
        await world.services.releases.add_product(
            admin, REL, application_id="no-such-app", product_id="pay-api"
        )

    assert await world.snapshot() == before


async def test_add_unknown_product_is_not_found_and_names_the_known_ones(world: World) -> None:
    await world.release(REL, products=["pay-api"])
    admin = await world.admin_actor()

    with pytest.raises(NotFound, match="pay-api") as caught:
        await world.services.releases.add_product(
            admin, REL, application_id="app-rel-2026-12", product_id="ghost"
        )

    assert "product_id" in caught.value.fields


async def test_add_the_same_product_twice_is_a_duplicate(world: World) -> None:
    await world.release(REL, products=["pay-api"])
    admin = await world.admin_actor()
    before = await world.snapshot()

    with pytest.raises(Duplicate, match="pay-api"):
        await world.services.releases.add_product(
            admin, REL, application_id="app-rel-2026-12", product_id="pay-api"
        )

    assert await world.snapshot() == before


async def test_set_fixed_version_stores_it_on_the_product(world: World) -> None:
    await world.release(REL)
    vera = await world.actor("vera", Permission.CAN_DEFINE_FIXED_VERSIONS, Permission.CAN_VIEW_ALL)
    version = FixedVersion(version_key="PAY-2.4", version_name="Payments 2.4")

    await world.services.releases.set_fixed_version(vera, REL, "pay-api", version)

    stored = await world.repos.releases.get(REL)
    assert stored.product("pay-api").fixed_version == version
    _, events = await world.services.timeline.history(vera, REL, limit=1)
    assert events[0].action == "product.fixed_version"
    assert events[0].target.product_id == "pay-api"
    assert events[0].after == {
        "version_key": "PAY-2.4",
        "version_name": "Payments 2.4",
        "status": "UNRELEASED",
    }


async def test_set_fixed_version_without_permission_is_denied(world: World) -> None:
    await world.release(REL)
    mia = await world.actor("mia", Permission.CAN_CREATE_RELEASE, Permission.CAN_VIEW_ALL)
    before = await world.snapshot()

    with pytest.raises(PermissionDenied, match="can_define_fixed_versions"):
        await world.services.releases.set_fixed_version(
            mia, REL, "pay-api", FixedVersion(version_key="PAY-2.4", version_name="2.4")
        )

    assert await world.snapshot() == before


# --- listing ------------------------------------------------------------------------------


async def test_walking_pages_visits_every_release_once_in_order(world: World) -> None:
    releases = await create_many(world, 40)
    admin = await world.admin_actor()

    seen = await walk(world, admin, limit=7)

    assert seen == newest_first(releases)


async def test_releases_added_between_pages_neither_skip_nor_repeat_earlier_ones(
    world: World,
) -> None:
    original = newest_first(await create_many(world, 40))
    admin = await world.admin_actor()
    first = await world.services.releases.list_releases(admin, limit=7)
    seen = [r.release_id for r in first.items]
    cursor = first.next_cursor
    inserted = 0
    while cursor is not None:
        for on in (
            DAY + timedelta(days=400),
            DAY - timedelta(days=400),
            first.items[-1].release_date,
        ):
            new = draft(f"NEW-{inserted:03}", on)
            await world.services.releases.create(admin, new, past_date_confirmed=True)
            inserted += 1
        page = await world.services.releases.list_releases(admin, cursor=cursor, limit=7)
        seen += [r.release_id for r in page.items]
        cursor = page.next_cursor

    assert [r for r in seen if r in set(original)] == original
    assert len(seen) == len(set(seen))


def _token(data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "%%%",
        _token({"d": "2026-12-10"}),
        _token({"d": "not-a-date", "i": new_id()}),
        _token({"d": "2026-12-10", "i": "not-an-object-id"}),
        _token(["2026-12-10", new_id()]),
        _token("just a string"),
        base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(),
    ],
)
async def test_a_garbage_cursor_is_refused(world: World, cursor: str) -> None:
    await create_many(world, 3)
    admin = await world.admin_actor()

    with pytest.raises(ValidationFailed):
        await world.services.releases.list_releases(admin, cursor=cursor)


async def test_limit_below_one_still_returns_one_release(world: World) -> None:
    releases = await create_many(world, 3)
    admin = await world.admin_actor()

    page = await world.services.releases.list_releases(admin, limit=0)

    assert [r.release_id for r in page.items] == newest_first(releases)[:1]
    assert page.next_cursor is not None


async def test_limit_above_one_hundred_returns_one_hundred(world: World) -> None:
    await create_many(world, 101, spread=30)
    admin = await world.admin_actor()

    page = await world.services.releases.list_releases(admin, limit=1000)

    assert len(page.items) == 100
    assert page.next_cursor is not None


async def test_listing_shows_only_releases_of_the_actors_squads(world: World) -> None:
    admin = await world.admin_actor()
    for release_id, squads in [
        ("PAY-1", ("payments",)),
        ("MOB-1", ("mobile",)),
        ("BOTH-1", ("payments", "mobile")),
        ("NONE-1", ()),
    ]:
        await world.services.releases.create(admin, draft(release_id, squads=squads))
    payer = await world.actor("pam", squads=["payments"])
    loner = await world.actor("lou")
    everyone = await world.actor("eve", Permission.CAN_VIEW_ALL)

    def ids(page_items: list[ReleaseCard]) -> set[str]:
        return {r.release_id for r in page_items}

    assert ids((await world.services.releases.list_releases(payer)).items) == {"PAY-1", "BOTH-1"}
    assert ids((await world.services.releases.list_releases(loner)).items) == set()
    assert ids((await world.services.releases.list_releases(everyone)).items) == {
        "PAY-1",
        "MOB-1",
        "BOTH-1",
        "NONE-1",
    }


async def test_squad_scoped_pages_walk_only_the_actors_releases(world: World) -> None:
    admin = await world.admin_actor()
    mine = [
        await world.services.releases.create(
            admin,
            draft(f"R-{n:02}", DAY + timedelta(days=n % 5), ("payments" if n % 3 else "mobile",)),
        )
        for n in range(20)
    ]
    payer = await world.actor("pam", squads=["payments"])

    seen = await walk(world, payer, limit=4)

    assert seen == newest_first([r for r in mine if r.squad_ids == ["payments"]])


# --- timeline -----------------------------------------------------------------------------


async def test_history_is_newest_first_one_event_per_change(world: World) -> None:
    await world.release(REL)  # created, then product.added
    admin = await world.admin_actor()
    for text in ("one", "two", "three"):
        world.clock.advance(minutes=5)
        await world.services.releases.edit_description(admin, REL, text)

    _, events = await world.services.timeline.history(admin, REL)

    assert [e.action for e in events] == [
        "release.description",
        "release.description",
        "release.description",
        "product.added",
        "release.created",
    ]
    assert [e.after for e in events[:3]] == [
        {"description": "three"},
        {"description": "two"},
        {"description": "one"},
    ]
    assert events[0].before == {"description": "two"}
    assert events[0].at == world.clock()
    assert events[3].target.product_id == "pay-api"
    assert all(e.actor.user_id == admin.user_id and e.actor.username == "root" for e in events)


async def test_history_returns_at_most_the_limit(world: World) -> None:
    await world.release(REL)
    admin = await world.admin_actor()
    for n in range(5):
        await world.services.releases.edit_description(admin, REL, f"take {n}")

    _, events = await world.services.timeline.history(admin, REL, limit=2)

    assert [e.after for e in events] == [{"description": "take 4"}, {"description": "take 3"}]


async def test_history_is_refused_to_someone_who_cannot_see_the_release(world: World) -> None:
    await world.release(REL, squads=["payments"])
    outsider = await world.actor("otto", squads=["mobile"])

    with pytest.raises(NotFound, match=REL):
        await world.services.timeline.history(outsider, REL)


async def test_history_of_one_release_excludes_other_releases(world: World) -> None:
    await world.release("REL-A")
    await world.release("REL-B")
    admin = await world.admin_actor()
    await world.services.releases.edit_description(admin, "REL-B", "only B")

    _, events = await world.services.timeline.history(admin, "REL-A")

    assert {e.release_id for e in events} == {"REL-A"}
    assert [e.action for e in events] == ["product.added", "release.created"]


async def test_a_release_dated_in_the_past_needs_confirmation(world: World) -> None:
    """A release's date cannot be changed afterwards: one before today is asked about."""
    admin = await world.admin_actor()  # the world's clock: 2026-12-01 09:00 UTC

    with pytest.raises(PastReleaseDate) as asked:
        await world.services.releases.create(admin, draft("REL-LATE", date(2026, 11, 30)))
    assert asked.value.fields == {"release_date": "In the past"}
    with pytest.raises(NotFound):
        await world.services.releases.get(admin, "REL-LATE")

    confirmed = draft("REL-LATE", date(2026, 11, 30))
    kept = await world.services.releases.create(admin, confirmed, past_date_confirmed=True)
    today = await world.services.releases.create(admin, draft("REL-TODAY", date(2026, 12, 1)))

    assert kept.release_date == date(2026, 11, 30) and today.release_date == date(2026, 12, 1)


async def test_today_is_the_persons_own_day(world: World) -> None:
    """At 09:00 UTC on 1 Dec it is 23:00 on 30 Nov in Honolulu (UTC-10): there, a release
    on 30 Nov is today's, not one in the past."""
    admin = await world.admin_actor()
    honolulu = ZoneInfo("Pacific/Honolulu")

    made = await world.services.releases.create(
        admin, draft("REL-HNL", date(2026, 11, 30)), tz=honolulu
    )

    assert made.release_date == date(2026, 11, 30)
