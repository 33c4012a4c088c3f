"""What every implementation of the core ports promises: the same checks on the in-memory
fakes (tests/fakes.py) and on the storage adapters (mongomock, or MongoDB with
MONGO_TEST_URI). A fake that drifts from the adapters fails here first."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from core.errors import DomainError, Duplicate, Kind, NotFound, StaleVersion
from core.models.attachment import Attachment, AttachmentTarget
from core.models.catalog import Application, JiraBoard, Squad
from core.models.common import new_id
from core.models.events import AccessChanged, PendingEvents
from core.models.idempotency import IdempotentRequest, StoredAnswer
from core.models.notification import ApprovalMessage
from core.models.rbac import Role, SlackIdentity, User, UserStatus
from core.models.release import (
    ApprovalStatus,
    Environment,
    Milestone,
    MilestoneApproval,
    QualityGate,
    Release,
    ReleaseProduct,
)
from core.models.schedule import DigestKind, DigestSubscription, Snooze
from core.models.timeline import EventActor, TimelineEvent
from core.models.webhooks import (
    DeliveryAttempt,
    DeliveryStatus,
    StoredWebhook,
    WebhookDelivery,
    WebhookEvent,
)
from core.pagination import ReleaseCursor
from core.ports import ReleaseWithCatalog
from core.rules.readiness import card_of
from core.services.container import Repositories
from tests.support import T0, World

SHA = "ab" * 32
RHEA = SlackIdentity(team_id="T1", user_id="U1")


@pytest.fixture
def repos(any_world: World) -> Repositories:
    """Each test twice: on the in-memory fakes, and on the storage adapters."""
    return any_world.repos


def told(error: pytest.ExceptionInfo[DomainError]) -> tuple[str, str, dict[str, str]]:
    """What a person and a form get from an error: its class, message and field errors."""
    return type(error.value).__name__, error.value.message, error.value.fields


def role(name: str) -> Role:
    return Role(role_name=name, created_at=T0)


def user(username: str, email: str | None = None, slack: SlackIdentity | None = None) -> User:
    return User(
        username=username,
        full_name=username.title(),
        email=email or f"{username.lower()}@example.com",
        slack=slack,
        created_at=T0,
    )


def release(
    release_id: str, on: date = date(2026, 12, 10), squads: list[str] | None = None, **extra: Any
) -> Release:
    return Release(
        release_id=release_id,
        release_name=f"Release {release_id}",
        release_date=on,
        squad_ids=squads or ["payments"],
        created_by="someone",
        created_at=T0,
        **extra,
    )


def pending_release(
    release_id: str, squads: list[str], *, expires_at: datetime | None = None
) -> Release:
    milestone = Milestone(
        milestone_key="go-live",
        milestone_name="Go live",
        environment=Environment.PROD,
        start_date=T0,
        end_date=T0 + timedelta(days=1),
        approval=MilestoneApproval(
            required=True, status=ApprovalStatus.PENDING, expires_at=expires_at
        ),
    )
    gate = QualityGate(gate_name="Security scan", milestones=[milestone])
    product = ReleaseProduct(
        application_id="pay", product_id="pay-api", product_name="Pay API", quality_gates=[gate]
    )
    return release(release_id, squads=squads, products=[product])


def attachment(sha256: str = SHA) -> Attachment:
    return Attachment(
        file_name="plan.pdf",
        file_size=10,
        file_url="https://files.example.com/plan.pdf",
        sha256=sha256,
        uploaded_by="someone",
        uploaded_at=T0,
    )


# --- roles and the catalog ------------------------------------------------------------------


async def test_a_role_is_found_by_its_name_ignoring_case(repos: Repositories) -> None:
    admin = await repos.roles.add(role("Admin"))

    assert (await repos.roles.get("admin")).id == admin.id
    assert await repos.roles.get_many([admin.id.upper(), new_id()]) == [admin]


async def test_a_role_name_is_unique_ignoring_case_and_says_so(repos: Repositories) -> None:
    await repos.roles.add(role("Admin"))

    with pytest.raises(Duplicate) as exact:
        await repos.roles.add(role("Admin"))
    with pytest.raises(Duplicate) as other_case:
        await repos.roles.add(role("ADMIN"))

    assert told(exact) == (
        "Duplicate",
        "A role with role_name 'Admin' already exists; choose another.",
        {"role_name": "Already taken"},
    )
    assert told(other_case) == (
        "Duplicate",
        "A role with role_name 'admin' already exists (ignoring case); choose another.",
        {"role_name": "Already taken"},
    )
    assert [r.role_name for r in await repos.roles.all()] == ["Admin"]


async def test_an_unknown_role_is_not_found_by_name_or_by_id(repos: Repositories) -> None:
    with pytest.raises(NotFound) as by_name:
        await repos.roles.get(" Viewer ")
    with pytest.raises(NotFound) as by_id:
        await repos.roles.get_many(["not-an-id"])

    assert told(by_name) == ("NotFound", "No role 'Viewer'.", {"role_name": "Unknown"})
    assert by_name.value.kind is Kind.ROLE
    assert told(by_id) == ("NotFound", "No role with id 'not-an-id'.", {})
    assert by_id.value.kind is Kind.ROLE


async def test_catalog_keys_are_unique_matched_exactly_and_listed_in_order(
    repos: Repositories,
) -> None:
    await repos.applications.add(Application(application_id="pay", application_name="Pay"))
    await repos.applications.add(Application(application_id="Pay", application_name="Pay 2"))
    await repos.applications.add(Application(application_id="cards", application_name="Cards"))
    await repos.squads.add(Squad(squad_id="payments", squad_name="Payments"))
    await repos.boards.add(JiraBoard(board_id="PAY", board_name="Pay board"))

    with pytest.raises(Duplicate) as app:
        await repos.applications.add(Application(application_id="pay", application_name="X"))
    with pytest.raises(Duplicate) as board:
        await repos.boards.add(JiraBoard(board_id="PAY", board_name="X"))
    with pytest.raises(NotFound) as squad:
        await repos.squads.get("PAYMENTS")

    assert (await repos.applications.get("Pay")).application_name == "Pay 2"
    assert [a.application_id for a in await repos.applications.all()] == ["Pay", "cards", "pay"]
    assert told(app) == (
        "Duplicate",
        "An application with application_id 'pay' already exists; choose another.",
        {"application_id": "Already taken"},
    )
    assert told(board)[1] == "A Jira board with board_id 'PAY' already exists; choose another."
    assert told(squad) == ("NotFound", "No squad 'PAYMENTS'.", {"squad_id": "Unknown"})
    assert squad.value.kind is Kind.SQUAD


async def test_two_catalog_collections_are_read_together_each_in_its_order(
    repos: Repositories,
) -> None:
    for application_id in ("pay", "Pay", "pay.v2", "cards", "pay-v2", "9"):
        await repos.applications.add(
            Application(application_id=application_id, application_name="A")
        )
    for squad_id in ("payments", "Ops", "core"):
        await repos.squads.add(Squad(squad_id=squad_id, squad_name="S"))

    squads, applications = await repos.squads.all_with(repos.applications)
    boards, none = await repos.boards.all_with(repos.roles)

    assert (squads, applications) == (await repos.squads.all(), await repos.applications.all())
    assert [s.squad_id for s in squads] == ["Ops", "core", "payments"]
    assert [a.application_id for a in applications] == [
        "9",
        "Pay",
        "cards",
        "pay",
        "pay-v2",
        "pay.v2",
    ]
    assert (boards, none) == ([], [])


# --- users ----------------------------------------------------------------------------------


async def test_users_are_unique_by_username_ignoring_case_email_and_slack_identity(
    repos: Repositories,
) -> None:
    await repos.users.add(user("rhea", slack=RHEA))
    clashes = {
        "same username": user("rhea", "other@example.com"),
        "username in other case": user("RHEA", "other@example.com"),
        "email": user("maya", "RHEA@example.com"),
        "slack identity": user("maya", slack=RHEA),
    }
    told_of = {}
    for what, clash in clashes.items():
        with pytest.raises(Duplicate) as caught:
            await repos.users.add(clash)
        told_of[what] = told(caught)[1:]

    assert told_of == {
        "same username": (
            "A user with username 'rhea' already exists; choose another.",
            {"username": "Already taken"},
        ),
        "username in other case": (
            "A user with username 'rhea' already exists (ignoring case); choose another.",
            {"username": "Already taken"},
        ),
        "email": (
            "A user with email 'rhea@example.com' already exists; choose another.",
            {"email": "Already taken"},
        ),
        "slack identity": (
            "A user with slack.team_id 'T1', slack.user_id 'U1' already exists; choose another.",
            {"user_id": "Already taken"},
        ),
    }
    await repos.users.add(user("maya", slack=SlackIdentity(team_id="T2", user_id="U1")))
    await repos.users.add(user("omar"))  # users without Slack do not clash
    assert await repos.users.usernames(limit=0) == ["maya", "omar", "rhea"]


async def test_users_are_found_by_username_email_and_slack(repos: Repositories) -> None:
    rhea = await repos.users.add(user("Rhea", slack=RHEA))
    await repos.users.add(user("maya"))

    assert (await repos.users.get_by_username(" rhea ")).id == rhea.id
    assert (await repos.users.get(rhea.id.upper())).id == rhea.id
    assert await repos.users.find_by_email("RHEA@Example.com") == rhea
    assert await repos.users.find_by_slack(RHEA) == rhea
    assert await repos.users.find_by_slack(SlackIdentity(team_id="T9", user_id="U1")) is None
    assert await repos.users.get_many(["not-an-id", rhea.id, new_id()]) == [rhea]
    assert [u.username for u in await repos.users.all()] == ["Rhea", "maya"]  # binary order
    assert await repos.users.usernames(limit=1) == ["Rhea"]


async def test_an_unknown_user_is_not_found(repos: Repositories) -> None:
    with pytest.raises(NotFound) as by_name:
        await repos.users.get_by_username("nobody")
    with pytest.raises(NotFound) as by_id:
        await repos.users.get(new_id())
    with pytest.raises(NotFound) as bad_id:
        await repos.users.get("nobody")
    with pytest.raises(NotFound) as update_bad_id:
        await repos.users.add_role("nobody", "r")

    assert told(by_name) == ("NotFound", "No user 'nobody'.", {"username": "Unknown"})
    assert by_name.value.kind is by_id.value.kind is bad_id.value.kind is Kind.USER
    assert told(bad_id) == ("NotFound", "No user with id 'nobody'.", {})
    assert update_bad_id.value.kind is None  # the adapter's update path names no kind


async def test_user_fields_change_one_at_a_time(repos: Repositories) -> None:
    rhea = await repos.users.add(user("rhea"))
    checked = T0 + timedelta(microseconds=1500)

    await repos.users.add_role(rhea.id, "r1")
    await repos.users.add_role(rhea.id, "r2")
    await repos.users.add_role(rhea.id, "r1")
    assert (await repos.users.remove_role(rhea.id, "r1")).role_ids == ["r2"]
    assert [u.id for u in await repos.users.list_with_roles(["r2", "r3"])] == [rhea.id]
    assert (
        await repos.users.set_status(rhea.id, UserStatus.DISABLED)
    ).status is UserStatus.DISABLED
    zoned = await repos.users.set_time_zone(rhea.id, "Europe/Paris", checked_at=checked)
    kept = await repos.users.set_time_zone(rhea.id, None)

    assert (zoned.time_zone, zoned.time_zone_checked_at) == (
        "Europe/Paris",
        T0 + timedelta(milliseconds=1),  # stored to the millisecond
    )
    assert kept == zoned


async def test_an_access_change_carries_what_it_caused_in_the_same_write(
    repos: Repositories,
) -> None:
    rhea = await repos.users.add(user("rhea"))
    maya = await repos.users.add(user("maya"))
    granted = PendingEvents(at=T0, events=[AccessChanged(user_id=rhea.id, change="granted r1")])
    linked = PendingEvents(at=T0, events=[AccessChanged(user_id=rhea.id, change="linked")])

    after_grant = await repos.users.add_role(rhea.id, "r1", caused=granted)
    await repos.users.set_slack(rhea.id, RHEA, caused=linked)
    await repos.users.set_status(maya.id, UserStatus.DISABLED)  # nothing caused
    waiting = await repos.users.with_outbox(limit=10)
    await repos.users.clear_outbox(rhea.id, [granted.id])
    left = await repos.users.get(rhea.id)

    assert after_grant.role_ids == ["r1"] and after_grant.outbox == [granted]
    assert [(u.username, [e.id for e in u.outbox]) for u in waiting] == [
        ("rhea", [granted.id, linked.id])
    ]
    assert left.outbox == [linked] and left.slack == RHEA
    await repos.users.clear_outbox(rhea.id, [linked.id])
    assert await repos.users.with_outbox(limit=10) == []


async def test_a_slack_identity_links_one_user_and_unlinking_stops_auto_linking(
    repos: Repositories,
) -> None:
    rhea = await repos.users.add(user("rhea", slack=RHEA))
    maya = await repos.users.add(user("maya"))

    with pytest.raises(Duplicate) as caught:
        await repos.users.set_slack(maya.id, RHEA)
    relinked = await repos.users.set_slack(rhea.id, RHEA)  # the same user again is fine
    unlinked = await repos.users.set_slack(rhea.id, None)
    linked = await repos.users.set_slack(maya.id, RHEA)

    assert told(caught) == (
        "Duplicate",
        "Slack user U1 (team T1) is already linked to another portal user; unlink it there first.",
        {"slack_user_id": "Already linked"},
    )
    assert relinked.slack == RHEA
    assert (unlinked.slack, unlinked.auto_link) == (None, False)
    assert (linked.slack, linked.auto_link) == (RHEA, True)


# --- releases -------------------------------------------------------------------------------


async def test_a_release_is_found_by_id_ignoring_case_or_by_its_database_id(
    repos: Repositories,
) -> None:
    stored = await repos.releases.add(release("REL-2026.12"))

    for ref in ("REL-2026.12", " rel-2026.12 ", stored.id, stored.id.upper()):
        assert (await repos.releases.get(ref)).id == stored.id
    with pytest.raises(NotFound) as caught:
        await repos.releases.get(" REL-9 ")
    assert told(caught) == ("NotFound", "No release 'REL-9'.", {"release_id": "Unknown release"})
    assert caught.value.kind is Kind.RELEASE


async def test_a_release_is_read_with_the_catalog_as_get_and_all_with_read_them(
    repos: Repositories,
) -> None:
    stored = await repos.releases.add(release("REL-2026.12"))
    await repos.releases.add(release("REL-2026.11"))

    async def read(ref: str) -> ReleaseWithCatalog:
        return await repos.releases.get_with_catalog(
            ref, squads=repos.squads, applications=repos.applications
        )

    empty = await read("REL-2026.12")
    for application_id in ("pay", "Pay", "cards"):
        await repos.applications.add(
            Application(application_id=application_id, application_name="A")
        )
    for squad_id in ("payments", "Ops"):
        await repos.squads.add(Squad(squad_id=squad_id, squad_name="S"))

    reads = [
        await read(ref) for ref in ("REL-2026.12", " rel-2026.12 ", stored.id, stored.id.upper())
    ]
    with pytest.raises(NotFound) as caught:
        await read(" REL-9 ")

    assert (empty.release, empty.squads, empty.applications) == (stored, [], [])
    squads, applications = await repos.squads.all_with(repos.applications)
    assert [s.squad_id for s in squads] == ["Ops", "payments"]
    assert [a.application_id for a in applications] == ["Pay", "cards", "pay"]
    assert reads == [ReleaseWithCatalog(stored, squads, applications)] * 4
    assert told(caught) == ("NotFound", "No release 'REL-9'.", {"release_id": "Unknown release"})
    assert caught.value.kind is Kind.RELEASE


async def test_a_release_id_is_unique_ignoring_case(repos: Repositories) -> None:
    await repos.releases.add(release("REL-1"))

    with pytest.raises(Duplicate) as caught:
        await repos.releases.add(release("rel-1"))

    assert told(caught) == (
        "Duplicate",
        "A release with release_id 'rel-1' already exists (ignoring case); choose another.",
        {"release_id": "Already taken"},
    )


async def test_a_save_checks_the_version_it_read(repos: Repositories) -> None:
    first = await repos.releases.add(release("REL-1"))
    read = await repos.releases.get("REL-1")

    saved = await repos.releases.save(read.model_copy(update={"description": "mine"}))
    with pytest.raises(StaleVersion):
        await repos.releases.save(read.model_copy(update={"description": "lost"}))
    with pytest.raises(StaleVersion):
        await repos.releases.save(release("REL-2"))  # never stored

    assert (first.version, saved.version) == (0, 1)
    assert await repos.releases.get("REL-1") == saved


async def test_a_save_adds_its_outbox_entries_and_keeps_cleared_ones_cleared(
    repos: Repositories,
) -> None:
    """A writer read the release while an entry waited; a reaction delivered and cleared it;
    the writer's save must not bring it back (it was delivered: it would be again)."""
    actor = EventActor(user_id="u", username="rhea")

    def entry(action: str) -> TimelineEvent:
        return TimelineEvent(release_oid="r", release_id="REL-1", actor=actor, action=action, at=T0)

    waiting, mine = entry("delivered meanwhile"), entry("this write's")
    added = await repos.releases.add(release("REL-1").model_copy(update={"outbox": [waiting]}))
    read = await repos.releases.get("REL-1")
    await repos.releases.clear_outbox(added.id, [waiting.id])

    read.description = "changed"
    read.outbox.append(mine)
    saved = await repos.releases.save(read, added=[mine])

    again = await repos.releases.get("REL-1")
    assert [e.id for e in again.outbox] == [mine.id]
    assert (again.description, again.version) == ("changed", saved.version)


async def test_what_a_repository_hands_out_or_takes_in_is_a_copy(repos: Repositories) -> None:
    added = await repos.releases.add(release("REL-1"))
    added.description = "changed after add"
    read = await repos.releases.get("REL-1")
    read.squad_ids.append("ops")
    listed = await repos.releases.page(squads=None, query=None, after=None, limit=0)
    listed[0].release_name = "changed after page"

    again = await repos.releases.get("REL-1")

    assert (again.description, again.squad_ids, again.release_name) == (
        "",
        ["payments"],
        "Release REL-1",
    )


async def test_releases_are_listed_newest_first_by_squad_query_and_cursor(
    repos: Repositories,
) -> None:
    day = date(2026, 12, 10)
    for release_id, on, squads in [
        ("REL-A", day, ["payments"]),
        ("REL-B", day, ["ops"]),
        ("REL-C", day + timedelta(days=1), ["payments", "ops"]),
        ("HOTFIX-1", day - timedelta(days=1), ["payments"]),
    ]:
        await repos.releases.add(release(release_id, on, squads))

    async def found(query: str | None) -> list[str]:
        page = await repos.releases.page(squads=None, query=query, after=None, limit=0)
        return [r.release_id for r in page]

    first = await repos.releases.page(squads=["payments"], query=None, after=None, limit=2)
    cursor = ReleaseCursor(first[-1].release_date, first[-1].id)
    rest = await repos.releases.page(squads=["payments"], query=None, after=cursor, limit=2)

    assert await found(None) == ["REL-C", "REL-B", "REL-A", "HOTFIX-1"]  # ties: newest id
    assert [r.release_id for r in first + rest] == ["REL-C", "REL-A", "HOTFIX-1"]
    assert await found("rel-.") == []  # matched literally
    assert await found("release hot") == ["HOTFIX-1"]  # id or name, ignoring case
    assert await repos.releases.recent_ids(squads=["ops"], limit=0) == ["REL-C", "REL-B"]
    assert await repos.releases.recent_ids(squads=None, limit=1) == ["REL-C"]
    assert await repos.releases.recent_ids(squads=[], limit=0) == []


async def test_releases_by_date_and_pending_approval(repos: Repositories) -> None:
    await repos.releases.add(release("REL-DEC-1", date(2026, 12, 1)))
    await repos.releases.add(release("REL-DEC-31", date(2026, 12, 31), ["ops"]))
    await repos.releases.add(release("REL-JAN", date(2027, 1, 1)))
    await repos.releases.add(pending_release("REL-WAIT", ["ops"]))

    december = await repos.releases.dated_between(
        start=date(2026, 12, 1), end=date(2026, 12, 31), squads=None
    )
    mine = await repos.releases.dated_between(
        start=date(2026, 12, 1), end=date(2026, 12, 31), squads=["payments"]
    )

    assert [r.release_id for r in december] == ["REL-DEC-31", "REL-WAIT", "REL-DEC-1"]
    assert [r.release_id for r in mine] == ["REL-DEC-1"]
    assert [r.release_id for r in await repos.releases.with_pending_approvals(squads=None)] == [
        "REL-WAIT"
    ]
    assert await repos.releases.with_pending_approvals(squads=["payments"]) == []


async def test_releases_whose_pending_approvals_may_have_run_out(repos: Repositories) -> None:
    await repos.releases.add(pending_release("REL-NO-EXPIRY", ["ops"]))
    await repos.releases.add(
        pending_release("REL-LATER", ["ops"], expires_at=T0 + timedelta(hours=5))
    )
    await repos.releases.add(pending_release("REL-DUE", ["ops"], expires_at=T0))

    due = await repos.releases.with_expired_approvals(now=T0 + timedelta(hours=1))

    assert [r.release_id for r in due] == ["REL-DUE"]


async def test_home_reads_the_pending_releases_whole_and_a_first_page_of_cards(
    repos: Repositories,
) -> None:
    day = date(2026, 12, 10)
    waiting = await repos.releases.add(pending_release("REL-WAIT", ["payments"]))
    await repos.releases.add(pending_release("REL-OPS", ["ops"]))
    for n, squads in enumerate([["payments"], ["ops"], ["payments", "ops"], ["payments"]]):
        await repos.releases.add(release(f"REL-{n}", day + timedelta(days=n), squads))

    mine = await repos.releases.home(squads=["payments"], limit=2)
    everything = await repos.releases.home(squads=None, limit=0)
    nothing = await repos.releases.home(squads=[], limit=3)

    assert mine.pending == [waiting]
    assert [c.release_id for c in mine.page] == ["REL-3", "REL-2"]
    assert [c.release_id for c in mine.page] == [
        c.release_id
        for c in await repos.releases.page(squads=["payments"], query=None, after=None, limit=2)
    ]
    assert [r.release_id for r in everything.pending] == [
        r.release_id for r in await repos.releases.with_pending_approvals(squads=None)
    ]
    assert [c.release_id for c in everything.page] == [
        "REL-3", "REL-2", "REL-1", "REL-0", "REL-OPS", "REL-WAIT"
    ]  # fmt: skip
    assert everything.page[5] == card_of(waiting)  # pending, and on the page
    assert (nothing.pending, nothing.page) == ([], [])


# --- timeline, attachments, approval messages -----------------------------------------------


async def test_the_timeline_is_newest_first_per_release(repos: Repositories) -> None:
    actor = EventActor(user_id="u", username="rhea")

    def event(release_oid: str, minutes: int, action: str) -> TimelineEvent:
        at = T0 + timedelta(minutes=minutes)
        after = {"on": date(2026, 12, 10), "at": at}
        return TimelineEvent(
            release_oid=release_oid, release_id="R", actor=actor, action=action, at=at, after=after
        )

    await repos.timeline.append([event("r1", 0, "first"), event("r2", 5, "other")])
    await repos.timeline.append([event("r1", 2, "second")])
    await repos.timeline.append([event("r1", 2, "same minute"), event("r1", 1, "between")])
    await repos.timeline.append([])

    newest = await repos.timeline.for_release("r1", limit=3)

    assert [e.action for e in newest] == ["same minute", "second", "between"]
    assert len(await repos.timeline.for_release("r1", limit=0)) == 4
    # Values inside before / after come back as the database keeps them: a date as midnight.
    assert newest[0].after == {
        "on": datetime(2026, 12, 10, tzinfo=T0.tzinfo),
        "at": T0 + timedelta(minutes=2),
    }


async def test_an_attachment_is_unique_by_sha256_and_linked_once_per_target(
    repos: Repositories,
) -> None:
    plan = await repos.attachments.add(attachment(SHA))
    target = AttachmentTarget(release_id="REL-1", gate_name="Scan")

    with pytest.raises(Duplicate) as caught:
        await repos.attachments.add(attachment(SHA.upper()))
    await repos.attachments.add_link(plan.id, target)
    linked = await repos.attachments.add_link(plan.id, target)

    assert told(caught) == (
        "Duplicate",
        "A file with sha256 abababababab… is already registered; "
        "link the existing attachment instead.",
        {"sha256": "Already registered"},
    )
    assert linked.links == [target]
    assert await repos.attachments.find_by_sha256(SHA.upper()) == linked
    assert await repos.attachments.find_by_sha256("cd" * 32) is None


@pytest.mark.parametrize("ref", ["not-an-id", new_id()])
async def test_an_unknown_attachment_is_not_found(repos: Repositories, ref: str) -> None:
    with pytest.raises(NotFound) as on_get:
        await repos.attachments.get(ref)
    with pytest.raises(NotFound) as on_link:
        await repos.attachments.add_link(ref, AttachmentTarget(release_id="REL-1"))

    assert told(on_get) == told(on_link) == ("NotFound", f"No attachment with id '{ref}'.", {})
    assert on_get.value.kind is on_link.value.kind is Kind.ATTACHMENT


async def test_approval_messages_are_found_by_their_approval(repos: Repositories) -> None:
    def sent(key: str, user_id: str) -> ApprovalMessage:
        return ApprovalMessage(
            approval_key=key, user_id=user_id, channel=f"D{user_id}", ts="1", sent_at=T0
        )

    await repos.approval_messages.record(sent("a", "u1"))
    await repos.approval_messages.record(sent("b", "u1"))
    await repos.approval_messages.record(sent("a", "u2"))

    found = await repos.approval_messages.for_approval("a")

    assert sorted(m.user_id for m in found) == ["u1", "u2"]  # in no promised order
    assert await repos.approval_messages.for_approval("c") == []


async def test_a_dm_copy_recorded_twice_is_kept_once(repos: Repositories) -> None:
    """The attempt that posted a DM and the one that adopted it from history both record it."""
    copy = ApprovalMessage(approval_key="a", user_id="u1", channel="DU1", ts="7.1", sent_at=T0)
    later = copy.model_copy(update={"sent_at": T0 + timedelta(minutes=6)})

    await repos.approval_messages.record(copy)
    await repos.approval_messages.record(later)

    [kept] = await repos.approval_messages.for_approval("a")
    assert kept.sent_at == T0  # the first record stands


# --- claims, subscriptions, snoozes ---------------------------------------------------------


async def test_a_claim_is_held_by_its_owner_until_done_released_or_expired(
    repos: Repositories,
) -> None:
    claims, lease = repos.claims, timedelta(minutes=5)

    assert await claims.claim("k", now=T0, ttl=lease, owner="a")
    assert not await claims.claim("k", now=T0 + lease / 2, ttl=lease, owner="b")
    await claims.release("k", owner="b")  # not b's to release
    assert not await claims.complete("k", now=T0, owner="b")
    assert await claims.claim("k", now=T0 + lease, ttl=lease, owner="b")  # a's lease ran out
    assert not await claims.complete("k", now=T0 + lease, owner="a")
    assert not await claims.finished("k") and not await claims.finished("never")
    assert await claims.complete("k", now=T0 + lease, owner="b")
    assert await claims.finished("k")
    assert not await claims.complete("k", now=T0 + lease, owner="b")
    assert not await claims.claim("k", now=T0 + timedelta(days=9), ttl=lease, owner="c")

    assert await claims.claim("j", now=T0, ttl=lease, owner="a")
    await claims.release("j", owner="a")
    assert await claims.claim("j", now=T0, ttl=lease, owner="c")


async def test_purge_forgets_expired_and_old_finished_claims(repos: Repositories) -> None:
    claims, lease = repos.claims, timedelta(hours=1)
    now = T0 + timedelta(days=10)
    await claims.claim("expired", now=now - timedelta(days=3), ttl=lease)
    await claims.claim("running", now=now - timedelta(hours=2), ttl=lease)
    await claims.claim("old-done", now=now - timedelta(days=9), ttl=lease)
    await claims.complete("old-done", now=now - timedelta(days=9))
    await claims.claim("done", now=now - timedelta(days=1), ttl=lease)
    await claims.complete("done", now=now - timedelta(days=1))

    deleted = await claims.purge(
        before=now - timedelta(days=1), done_before=now - timedelta(days=7)
    )

    assert deleted == 2  # "expired" and "old-done"
    assert await claims.claim("old-done", now=now, ttl=lease)  # forgotten: claimable again
    assert not await claims.claim("done", now=now, ttl=lease)  # still guards its day
    assert not await claims.claim("running", now=now - timedelta(hours=1, seconds=1), ttl=lease)


async def test_a_subscription_is_one_per_target_and_paused_only_if_older(
    repos: Repositories,
) -> None:
    target = DigestSubscription.channel_target("T1", "C1")

    def subscription(**extra: Any) -> DigestSubscription:
        return DigestSubscription(
            kind=DigestKind.CHANNEL, target=target, created_by="u", created_at=T0, **extra
        )

    first = await repos.subscriptions.upsert(subscription())
    again = await repos.subscriptions.upsert(subscription(time_zone="Asia/Tokyo"))
    not_yet = await repos.subscriptions.pause(target, reason="gone", at=T0 - timedelta(1))
    paused = await repos.subscriptions.pause(target, reason="not_in_channel", at=T0)
    twice = await repos.subscriptions.pause(target, reason="again", at=T0)

    assert again.id == first.id and again.time_zone == "Asia/Tokyo"
    assert not_yet is None and twice is None
    assert paused is not None
    assert (paused.enabled, paused.paused_reason, paused.paused_at) == (False, "not_in_channel", T0)
    assert await repos.subscriptions.find(target) == paused
    assert await repos.subscriptions.all() == [paused]
    assert await repos.subscriptions.remove(target)
    assert not await repos.subscriptions.remove(target)
    assert await repos.subscriptions.find(target) is None


async def test_a_snooze_is_one_per_person_and_approval_and_active_until_it_ends(
    repos: Repositories,
) -> None:
    await repos.snoozes.snooze(Snooze(user_id="u1", approval_key="a", until=T0))
    await repos.snoozes.snooze(Snooze(user_id="u1", approval_key="a", until=T0 + timedelta(1)))
    await repos.snoozes.snooze(Snooze(user_id="u2", approval_key="a", until=T0))

    assert await repos.snoozes.active(now=T0) == [
        Snooze(user_id="u1", approval_key="a", until=T0 + timedelta(1))
    ]
    assert await repos.snoozes.active(now=T0 + timedelta(1)) == []


# --- Idempotency-Keys -----------------------------------------------------------------------

ANSWER = StoredAnswer(status=200, body='{"ok": true}')
LEASE = timedelta(seconds=60)


def key_use(after: timedelta = timedelta(0), fingerprint: str = "f1") -> IdempotentRequest:
    return IdempotentRequest(key="u1:k1", fingerprint=fingerprint, claimed_at=T0 + after)


async def test_an_idempotency_key_is_claimed_once_and_keeps_its_claims_answer(
    repos: Repositories,
) -> None:
    keys, later = repos.idempotency_keys, LEASE + timedelta(seconds=1)
    assert await keys.claim(key_use(), stale_before=T0 - LEASE) is None

    held = await keys.claim(key_use(timedelta(seconds=1), "f2"), stale_before=T0 - LEASE)
    assert held == key_use()  # in flight: no answer yet

    # Unfinished past its lease: taken over; the first claim's late answer is not kept.
    assert await keys.claim(key_use(later), stale_before=T0 + timedelta(seconds=1)) is None
    await keys.finish("u1:k1", claimed_at=T0, answer=StoredAnswer(status=500, body="{}"))
    await keys.release("u1:k1", claimed_at=T0)
    await keys.finish("u1:k1", claimed_at=T0 + later, answer=ANSWER)
    await keys.finish("u1:k1", claimed_at=T0 + later, answer=StoredAnswer(status=201, body=""))

    # Finished: never taken over, never let go of.
    await keys.release("u1:k1", claimed_at=T0 + later)
    found = await keys.claim(key_use(LEASE * 9, "f3"), stale_before=T0 + LEASE * 8)
    assert found is not None
    assert (found.fingerprint, found.claimed_at, found.answer) == ("f1", T0 + later, ANSWER)


async def test_a_released_claim_frees_its_key_for_the_same_request(repos: Repositories) -> None:
    keys = repos.idempotency_keys
    await keys.claim(key_use(), stale_before=T0 - LEASE)

    await keys.release("u1:k1", claimed_at=T0 + timedelta(seconds=1))  # not this claim
    assert await keys.claim(key_use(timedelta(seconds=2)), stale_before=T0 - LEASE) == key_use()
    await keys.release("u1:k1", claimed_at=T0)

    assert await keys.claim(key_use(timedelta(seconds=2)), stale_before=T0 - LEASE) is None
    theirs = IdempotentRequest(key="u2:k1", fingerprint="f1", claimed_at=T0)
    assert await keys.claim(theirs, stale_before=T0 - LEASE) is None  # another user's key


# --- outbound webhooks ----------------------------------------------------------------------


def hook(user_id: str, *events: WebhookEvent) -> StoredWebhook:
    return StoredWebhook(
        user_id=user_id,
        url=f"https://ci.example.com/{user_id}",
        events=list(events),
        created_at=T0,
        secret_encrypted="encrypted",
    )


def delivery(hook_id: str, event_id: str, due_in: timedelta) -> WebhookDelivery:
    return WebhookDelivery(
        key=f"{event_id}:{hook_id}",
        hook_id=hook_id,
        event_id=event_id,
        event=WebhookEvent.GATE_CHANGED,
        created_at=T0,
        data={"release_id": "REL-1", "gate": {"status": "PASSED"}},
        next_attempt_at=T0 + due_in,
    )


def attempt(number: int, status_code: int | None, after: timedelta) -> DeliveryAttempt:
    error = None if status_code == 200 else "The receiver answered 500"
    return DeliveryAttempt(
        number=number, at=T0 + after, status_code=status_code, duration_ms=12, error=error
    )


async def test_webhooks_are_listed_newest_first_per_owner_without_secrets_and_by_event(
    repos: Repositories,
) -> None:
    gates, created = WebhookEvent.GATE_CHANGED, WebhookEvent.RELEASE_CREATED
    first = await repos.webhooks.add(hook("u1", gates))
    second = await repos.webhooks.add(hook("u1", created, gates))
    other = await repos.webhooks.add(hook("u2", WebhookEvent.APPROVAL_DECIDED))

    mine = await repos.webhooks.for_user("u1")
    assert mine == [second.public(), first.public()]
    assert all("secret_encrypted" not in h.model_dump() for h in mine)
    assert await repos.webhooks.get(first.id.upper()) == first  # with its secret
    assert {h.id for h in await repos.webhooks.subscribed([gates])} == {first.id, second.id}
    assert await repos.webhooks.subscribed([created, WebhookEvent.APPROVAL_DECIDED]) in (
        [second, other],
        [other, second],
    )
    assert await repos.webhooks.subscribed([WebhookEvent.RELEASE_READY]) == []
    assert await repos.webhooks.for_user("nobody") == []


async def test_an_unknown_webhook_is_not_found(repos: Repositories) -> None:
    with pytest.raises(NotFound) as garbled:
        await repos.webhooks.get("not-an-id")
    unknown_id = new_id()
    with pytest.raises(NotFound) as unknown:
        await repos.webhooks.get(unknown_id)

    assert told(garbled) == ("NotFound", "No webhook with id 'not-an-id'.", {})
    assert told(unknown) == (
        "NotFound",
        f"No webhook with id '{unknown_id}'.",
        {"id": "Unknown webhook"},
    )
    assert not await repos.webhooks.remove("not-an-id")
    assert not await repos.webhooks.remove(unknown_id)
    assert await repos.webhooks.delivery("not-an-id") is None
    assert await repos.webhooks.delivery(new_id()) is None


async def test_a_delivery_is_stored_once_per_event_and_hook_and_due_soonest_first(
    repos: Repositories,
) -> None:
    webhooks, minute = repos.webhooks, timedelta(minutes=1)
    a, b = [await webhooks.add(hook("u1", WebhookEvent.GATE_CHANGED)) for _ in range(2)]
    later = delivery(a.id, "e1", 2 * minute)
    assert await webhooks.add_delivery(later)
    assert not await webhooks.add_delivery(delivery(a.id, "e1", timedelta(0)))  # same key
    soon = delivery(a.id, "e2", timedelta(0))
    other = delivery(b.id, "e1", minute)
    assert await webhooks.add_delivery(soon) and await webhooks.add_delivery(other)

    assert await webhooks.delivery(later.id) == later
    assert await webhooks.due(now=T0 - minute, limit=10) == []
    assert await webhooks.due(now=T0 + minute / 2, limit=10) == [soon]
    assert await webhooks.due(now=T0 + minute * 5, limit=10) == [soon, other, later]
    assert await webhooks.due(now=T0 + minute * 5, limit=2) == [soon, other]
    assert await webhooks.deliveries(a.id, limit=10) == [soon, later]  # newest first
    assert await webhooks.deliveries(a.id, limit=1) == [soon]


async def test_an_attempt_is_logged_with_what_follows_it(repos: Repositories) -> None:
    webhooks, second = repos.webhooks, timedelta(seconds=1)
    made = await webhooks.add(hook("u1", WebhookEvent.GATE_CHANGED))
    retried, given_up = delivery(made.id, "e1", 0 * second), delivery(made.id, "e2", 0 * second)
    await webhooks.add_delivery(retried)
    await webhooks.add_delivery(given_up)

    refused = attempt(1, 500, second)
    await webhooks.record_attempt(
        retried.id, refused, status=DeliveryStatus.PENDING, next_attempt_at=T0 + 10 * second
    )
    assert await webhooks.due(now=T0 + 5 * second, limit=10) == [given_up]
    took = attempt(2, 200, 11 * second)
    await webhooks.record_attempt(
        retried.id, took, status=DeliveryStatus.DELIVERED, next_attempt_at=None
    )
    unanswered = attempt(1, None, second)
    await webhooks.record_attempt(
        given_up.id, unanswered, status=DeliveryStatus.FAILED, next_attempt_at=None
    )

    done = await webhooks.delivery(retried.id)
    assert done is not None
    assert (done.status, done.attempts, done.next_attempt_at, done.delivered_at) == (
        DeliveryStatus.DELIVERED,
        [refused, took],
        None,
        T0 + 11 * second,
    )
    failed = await webhooks.delivery(given_up.id)
    assert failed is not None
    assert (failed.status, failed.attempts, failed.delivered_at) == (
        DeliveryStatus.FAILED,
        [unanswered],
        None,
    )
    assert await webhooks.due(now=T0 + timedelta(days=1), limit=10) == []


async def test_removing_a_webhook_removes_its_deliveries(repos: Repositories) -> None:
    webhooks = repos.webhooks
    gone, kept = [await webhooks.add(hook("u1", WebhookEvent.GATE_CHANGED)) for _ in range(2)]
    pending = delivery(gone.id, "e1", timedelta(0))
    other = delivery(kept.id, "e1", timedelta(0))
    await webhooks.add_delivery(pending)
    await webhooks.add_delivery(other)

    assert await webhooks.remove(gone.id)

    assert not await webhooks.remove(gone.id)
    assert await webhooks.delivery(pending.id) is None
    assert await webhooks.deliveries(gone.id, limit=10) == []
    assert await webhooks.due(now=T0, limit=10) == [other]
    assert [h.id for h in await webhooks.for_user("u1")] == [kept.id]
