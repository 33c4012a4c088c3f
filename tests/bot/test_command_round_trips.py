"""Database round trips of whole requests as Slack sends them (issue 10): reads ≤ 2, writes ≤ 3.

A request counts everything it does: the signature check, the dedupe of Slack's retries, the
identity, the service, the answer (``RoundTrips`` around the bot's database: one per
``collection.method`` call, a cursor once when fetched). What reacts to a stored change (every
DM of an approval updated, the outbox emptied) runs after it, on its own worker: it is held
back while the request is measured, and counted on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from blocks.ids import ActionId, Origin
from bot.devtools.harness import LocalBot, local_bot
from bot.settings import SeedData
from core.models.rbac import Role, User
from core.services import identity as identity_service
from storage.engine import Database
from storage.instrumented import RoundTrips, writes_in
from tests.bot.modal_support import introduce, open_form, select, submit, text
from tests.bot.test_answers_reach import LIST
from tests.bot.test_approvals import SIGN_OFFS, ask, dms, in_dm, target
from tests.bot.test_home import ON_HOME, opened
from tests.bot.test_modals_gates import existing_gate
from tests.bot.test_modals_release import NEW_RELEASE
from tests.support import T0

READS = 2
WRITES = 3
PEOPLE = ("UADMIN", "UARJUN", "URHEA", "UDANA")


@dataclass(frozen=True)
class Trips:
    """The round trips of one request (or of what followed it), by ``collection.method``."""

    calls: dict[str, int]

    @property
    def writes(self) -> int:
        return writes_in(self.calls)

    @property
    def reads(self) -> int:
        return sum(self.calls.values()) - self.writes

    def __str__(self) -> str:
        return f"{self.reads} reads, {self.writes} writes: {dict(sorted(self.calls.items()))}"


@dataclass(frozen=True)
class Measured:
    request: Trips
    after: Trips  # what the reactions to the request's changes did, once let run


@dataclass
class Counted:
    bot: LocalBot
    trips: RoundTrips

    async def measure(self, request: Callable[[], Awaitable[Any]]) -> Measured:
        """Round trips of ``request`` (which sends it and waits for its answer in Slack),
        up to the end of everything it runs; then those of the reactions to its changes."""
        deps = self.bot.runtime.deps
        async with reactions_held(self.bot):
            self.trips.reset()
            await request()
            await listeners_done()
            await deps.after_ack.drain()  # answers run there: wait for the last of them
            await listeners_done()
            done = Trips(dict(self.trips.calls))
            self.trips.reset()
        await deps.settle()
        return Measured(done, Trips(dict(self.trips.calls)))

    async def command(self, user: str, line: str) -> Measured:
        bot = self.bot

        async def request() -> None:
            answered = len(bot.slack.of("response_url"))
            reply = await bot.driver.command(user, line)
            assert reply.status == 200
            await bot.slack.wait_for("response_url", answered + 1)

        return await self.measure(request)


@asynccontextmanager
async def reactions_held(bot: LocalBot) -> AsyncIterator[None]:
    """Reactions queue behind a job that waits (their worker is one): none runs until the
    block is left."""
    go = asyncio.Event()

    async def hold() -> None:
        await go.wait()

    bot.runtime.deps.reacting.submit(hold)
    try:
        yield
    finally:
        go.set()


async def listeners_done() -> None:
    """Wait for Bolt's listeners still running after their ack (each runs as its own task)."""
    while running := [
        task
        for task in asyncio.all_tasks()
        if "run_ack_function_asynchronously" in getattr(task.get_coro(), "__qualname__", "")
    ]:
        await asyncio.wait(running, timeout=5)


def within_budget(trips: Trips) -> None:
    assert trips.reads <= READS, f"over the budget of {READS} reads: {trips}"
    assert trips.writes <= WRITES, f"over the budget of {WRITES} writes: {trips}"


@pytest.fixture
async def counted(db: Database) -> AsyncIterator[Counted]:
    """The bot over a counted database, everyone linked (first contact is not measured)."""
    trips = RoundTrips()
    async with local_bot(db=trips.wrap(db)) as bot:
        for person in PEOPLE:
            await introduce(bot, person)
        yield Counted(bot, trips)


@pytest.fixture
async def restarted(db: Database) -> AsyncIterator[Counted]:
    """A bot process started over a database where everyone is linked already: whatever it
    keeps in memory is as cold as after a restart."""
    async with local_bot(db=db) as before:
        for person in PEOPLE:
            await introduce(before, person)
    trips = RoundTrips()
    async with local_bot(db=trips.wrap(db), seed_data=SeedData.NONE) as bot:
        yield Counted(bot, trips)


# --- slash commands -------------------------------------------------------------------------


async def test_status_in_a_process_just_started(restarted: Counted) -> None:
    measured = await restarted.command("UARJUN", f"status {SIGN_OFFS}")

    within_budget(measured.request)


async def test_status(counted: Counted) -> None:
    measured = await counted.command("UARJUN", f"status {SIGN_OFFS}")

    within_budget(measured.request)


async def test_list(counted: Counted) -> None:
    measured = await counted.command("UARJUN", "list")

    within_budget(measured.request)


async def test_approvals(counted: Counted) -> None:
    measured = await counted.command("UARJUN", "approvals")

    within_budget(measured.request)


async def test_whoami(counted: Counted) -> None:
    measured = await counted.command("UDANA", "whoami")

    within_budget(measured.request)


async def test_whoami_in_a_process_just_started(restarted: Counted) -> None:
    measured = await restarted.command("UDANA", "whoami")

    within_budget(measured.request)


# --- App Home -------------------------------------------------------------------------------


async def open_home(counted: Counted, user: str, event_id: str | None = None) -> Measured:
    bot = counted.bot

    async def request() -> None:
        published = len(bot.slack.of("views.publish"))
        reply = await bot.driver.event(opened(user), event_id=event_id)
        assert reply.status == 200
        await bot.slack.wait_for("views.publish", published + 1)

    return await counted.measure(request)


async def test_app_home_opened(counted: Counted) -> None:
    """The pending approvals and the first page of releases: one query (a union)."""
    await ask(counted.bot, SIGN_OFFS)

    measured = await open_home(counted, "UARJUN")

    within_budget(measured.request)
    assert measured.request.calls.get("releases.aggregate") == 1
    assert not any(c.startswith("releases.find") for c in measured.request.calls)


async def test_a_retried_app_home_event_is_claimed_once_and_answered_once(
    counted: Counted,
) -> None:
    """Slack's retry of an event costs the identity and the lost claim, and draws nothing."""
    bot = counted.bot
    await open_home(counted, "UARJUN", event_id="Ev-retried")
    published = len(bot.slack.of("views.publish"))

    async def retry() -> None:
        reply = await bot.driver.event(opened("UARJUN"), event_id="Ev-retried", retry_num=1)
        assert reply.status == 200 and reply.text == ""

    measured = await counted.measure(retry)

    assert measured.request.calls.get("claims.insert_one") == 1  # the claim, lost
    assert not any(c.startswith("releases.") for c in measured.request.calls)
    within_budget(measured.request)
    assert len(bot.slack.of("views.publish")) == published


# --- an Approve click in a DM ---------------------------------------------------------------


async def test_approve_click_in_a_dm(counted: Counted) -> None:
    bot = counted.bot
    await ask(bot, SIGN_OFFS)
    copies = await dms(bot, SIGN_OFFS, "uat-signoff")
    value = await target(bot, "uat-signoff")

    async def click() -> None:
        answered = len(bot.slack.of("response_url"))
        reply = await bot.driver.click(
            "UARJUN", ActionId.APPROVE, value, block_id="approval",
            container=in_dm(copies["DUARJUN"]),
        )  # fmt: skip
        assert reply.status == 200
        await bot.slack.wait_for("response_url", answered + 1)

    updated = len(bot.slack.of("chat.update"))
    measured = await counted.measure(click)

    within_budget(measured.request)
    assert measured.request.writes >= 1  # the decision itself is stored within the request
    # Every DM copy was updated by the reaction, whose round trips are its own.
    assert len(bot.slack.of("chat.update")) == updated + len(copies)
    assert "approval_messages.find" in measured.after.calls
    assert "approval_messages.find" not in measured.request.calls


# --- an Approve click on App Home or in the approvals list --------------------------------


async def test_approve_click_on_app_home(counted: Counted) -> None:
    """The user, then what Home shows (one query): the decision starts from the release read
    there, and Home is drawn again from that read with the saved release in its place."""
    bot = counted.bot
    await ask(bot, SIGN_OFFS)
    await open_home(counted, "UARJUN")
    value = await target(bot, "uat-signoff", origin=Origin.HOME)

    async def click() -> None:
        published = len(bot.slack.of("views.publish"))
        reply = await bot.driver.click("UARJUN", ActionId.APPROVE, value, **ON_HOME)
        assert reply.status == 200
        await bot.slack.wait_for("views.publish", published + 1)

    measured = await counted.measure(click)

    within_budget(measured.request)
    assert measured.request.calls.get("releases.update_one") == 1  # the decision, stored
    assert measured.request.calls.get("releases.aggregate") == 1  # what Home shows, once
    assert "releases.find_one" not in measured.request.calls


async def test_approve_click_in_the_approvals_list(counted: Counted) -> None:
    """As on Home: the pending releases read once, the decision starting from its own."""
    bot = counted.bot
    await ask(bot, SIGN_OFFS)
    value = await target(bot, "uat-signoff", origin=Origin.LIST)

    async def click() -> None:
        answered = len(bot.slack.of("response_url"))
        reply = await bot.driver.click("UARJUN", ActionId.APPROVE, value, container=LIST)
        assert reply.status == 200
        await bot.slack.wait_for("response_url", answered + 1)

    measured = await counted.measure(click)

    within_budget(measured.request)
    assert measured.request.calls.get("releases.update_one") == 1
    assert measured.request.calls.get("releases.find") == 1  # what the list shows, once
    assert "releases.find_one" not in measured.request.calls


# --- modals ---------------------------------------------------------------------------------


async def test_new_release_modal_opening(counted: Counted) -> None:
    """Squads and applications: one query (a union)."""

    async def request() -> None:
        await open_form(counted.bot, "URHEA", "new")

    measured = await counted.measure(request)

    within_budget(measured.request)
    assert measured.request.calls.get("squads.aggregate") == 1
    assert "applications.find" not in measured.request.calls


async def test_product_modal_opening(counted: Counted) -> None:
    async def request() -> None:
        await open_form(counted.bot, "URHEA", f"product {SIGN_OFFS}")

    measured = await counted.measure(request)

    within_budget(measured.request)


async def test_new_release_modal_submission(counted: Counted) -> None:
    bot = counted.bot
    view = await open_form(bot, "URHEA", "new")

    async def request() -> None:
        posted = len(bot.slack.of("chat.postEphemeral"))
        assert await submit(bot, "URHEA", view, **NEW_RELEASE) is None
        await bot.slack.wait_for("chat.postEphemeral", posted + 1)

    measured = await counted.measure(request)

    within_budget(measured.request)
    assert measured.request.calls.get("releases.insert_one") == 1


async def test_gate_status_form_submission(counted: Counted) -> None:
    bot = counted.bot
    view = await open_form(bot, "URHEA", f"gate {SIGN_OFFS}")
    gate = existing_gate(view, "payments-ledger", "Regression suite")

    async def request() -> None:
        posted = len(bot.slack.of("chat.postEphemeral"))
        values = {"gate": select(gate), "gate_status": select("PASSED"), "comment": text("ok")}
        assert await submit(bot, "URHEA", view, **values) is None
        await bot.slack.wait_for("chat.postEphemeral", posted + 1)

    measured = await counted.measure(request)

    within_budget(measured.request)
    assert measured.request.calls.get("releases.update_one") == 1


# --- what identity keeps in memory ----------------------------------------------------------


async def test_after_loading_at_start_a_request_reads_only_its_user(restarted: Counted) -> None:
    """What identity keeps is read at start-up (``load``), not by the first request."""
    await restarted.bot.runtime.deps.services.identity.load()

    measured = await restarted.command("UARJUN", "whoami")

    assert measured.request.calls == {"users.find_one": 1}


async def test_a_role_created_since_start_is_read_with_every_role_once(counted: Counted) -> None:
    """Roles never change once created, so they are kept; a user holding one this process
    has not seen (created on another replica, say) has all roles read once, not per request."""
    bot = counted.bot
    repos = bot.runtime.repos
    role = await repos.roles.add(Role(role_name="Auditor", can_view_all=True, created_at=T0))
    dana = await repos.users.get_by_username("dana")
    await repos.users.add_role(dana.id, role.id)

    first = await counted.command("UDANA", "whoami")
    again = await counted.command("UDANA", "whoami")

    assert first.request.calls == {"users.find_one": 1, "roles.find": 1}
    assert again.request.calls == {"users.find_one": 1}
    assert "Auditor" in str((await bot.slack.wait_for("response_url"))[-1].params)


async def test_names_are_read_once_and_what_may_change_each_time(counted: Counted) -> None:
    """``shown`` keeps users for their names (which never change); ``people`` reads them as
    they are now (time zones)."""
    identity = counted.bot.runtime.deps.services.identity
    nia = await counted.bot.runtime.repos.users.add(newcomer("nia"))
    trips = counted.trips

    trips.reset()
    first = await identity.shown({nia.id})
    read_first = dict(trips.calls)
    trips.reset()
    again = await identity.shown({nia.id})
    read_again = dict(trips.calls)
    trips.reset()
    fresh = await identity.people({nia.id})

    assert read_first == {"users.find": 1} and read_again == {}
    assert trips.calls == {"users.find": 1}
    assert first[nia.id].full_name == again[nia.id].full_name == fresh[nia.id].full_name


async def test_names_kept_are_bounded_the_longest_kept_going_first(
    counted: Counted, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(identity_service, "SHOWN_KEPT", 2)
    identity = counted.bot.runtime.deps.services.identity
    ana, ben, cy = [
        (await counted.bot.runtime.repos.users.add(newcomer(name))).id
        for name in ("ana", "ben", "cy")
    ]
    await identity.shown({ana})
    await identity.shown({ben, cy})  # ana goes
    counted.trips.reset()

    await identity.shown({ben, cy})
    kept = dict(counted.trips.calls)
    shown = await identity.shown({ana})

    assert kept == {} and counted.trips.calls == {"users.find": 1}
    assert shown[ana].username == "ana"


def newcomer(username: str) -> User:
    """A user added after the process started (elsewhere, say): not known to it yet."""
    return User(
        username=username,
        full_name=username.title(),
        email=f"{username}@example.com",
        created_at=T0,
    )


async def test_the_counter_counts_an_aggregate_when_fetched_and_tells_reads_from_writes(
    db: Database,
) -> None:
    trips = RoundTrips()
    squads = trips.wrap(db)["squads"]
    await squads.insert_one({"squad_id": "a"})
    cursor = squads.aggregate([{"$match": {}}])
    assert trips.calls == {"squads.insert_one": 1}

    assert len(await cursor.to_list(None)) == 1
    await squads.find_one_and_delete({"squad_id": "a"})

    assert trips.calls == {
        "squads.insert_one": 1,
        "squads.aggregate": 1,
        "squads.find_one_and_delete": 1,
    }
    assert (trips.reads, trips.writes) == (1, 2)
