"""A bot that stopped right after writing a change: the next start's scheduler tick
delivers the change's audit entry and its reactions (approval DMs), once, and people see
it in the history."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bson import ObjectId

from bot.devtools.harness import LocalBot, local_bot
from core.models.release import Environment
from core.services.gates import MilestoneDraft
from core.services.release_changes import Recorded, ReleaseChanges
from storage.codec import entry_document, to_document
from storage.engine import Database
from storage.instrumented import RoundTrips
from tests.bot.test_admin import answer, shown

REL = "REL-2026.12"


async def test_an_entry_left_in_the_outbox_is_delivered_after_a_restart(db: Database) -> None:
    async with local_bot(db=db) as first:
        rhea = await first.runtime.deps.services.identity.actor_by_id(
            (await first.runtime.repos.users.get_by_username("rhea")).id
        )
        release = await first.runtime.repos.releases.get(REL)
        recorded = Recorded("release.described", after={"description": "Stopped mid-send"})
        entry = ReleaseChanges.event(rhea, release, recorded, first.runtime.deps.clock())
        # As the write leaves it when the process stops before delivering: in the outbox.
        await db["releases"].update_one(
            {"release_id": "REL-2026.12"}, {"$push": {"outbox": entry_document(entry)}}
        )
        before = await db["events"].count_documents({})

    async with local_bot(db=db, seed_data="none") as restarted:
        await restarted.runtime.deliveries.run_once()
        await restarted.runtime.deliveries.run_once()  # every replica ticks: still once
        history = shown(await answer(restarted, "URHEA", "history REL-2026.12"))
        stored = await restarted.runtime.repos.releases.get("REL-2026.12")

    assert await db["events"].count_documents({}) == before + 1
    assert await db["events"].count_documents({"_id": to_document(entry)["_id"]}) == 1
    assert "Stopped mid-send" in history and stored.outbox == []


async def test_a_bot_stopped_between_a_change_and_its_reactions_asks_each_decider_once(
    db: Database,
) -> None:
    """The milestone needing approval is written, then the process stops (every later
    database call fails: no timeline entry, no DMs). After a restart of two replicas,
    ticking at once, each approval manager gets one DM and the entry is written once; a
    later tick changes nothing."""
    trips = RoundTrips()
    async with local_bot(db=trips.wrap(db)) as first:
        rhea = await first.runtime.deps.services.identity.actor_by_id(
            (await first.runtime.repos.users.get_by_username("rhea")).id
        )
        release = await first.runtime.repos.releases.get(REL)
        product, gate = release.gates()[0]
        trips.stop_after("releases.update_one")
        await first.runtime.deps.services.gates.add_milestone(
            rhea, REL, product.product_id, gate.gate_name, prod_signoff()
        )
        asked_before_the_stop = requests(first)

    stored = await db["releases"].find_one({"release_id": REL})
    assert stored is not None and [e["action"] for e in stored["outbox"]] == ["milestone.added"]
    entry_id = stored["outbox"][0]["id"]

    # Two replicas start and tick at once; every database call yields, so they interleave.
    raced = RoundTrips(yield_each_call=True).wrap(db)
    async with (
        local_bot(db=raced, seed_data="none") as restarted,
        local_bot(db=raced, seed_data="none") as replica,
    ):
        await asyncio.gather(
            restarted.runtime.deliveries.run_once(), replica.runtime.deliveries.run_once()
        )
        await restarted.runtime.deliveries.run_once()  # a later tick changes nothing
        asked = requests(restarted) + requests(replica)

    assert asked_before_the_stop == []
    assert sorted(asked) == ["UADMIN", "UARJUN"]  # each approval manager, once, by one
    assert await db["events"].count_documents({"_id": ObjectId(entry_id)}) == 1
    after = await db["releases"].find_one({"release_id": REL})
    assert after is not None and after["outbox"] == []


def prod_signoff() -> MilestoneDraft:
    start = datetime(2031, 1, 5, 9, 0, tzinfo=UTC)
    return MilestoneDraft(
        milestone_key="prod-signoff", milestone_name="Prod sign-off",
        environment=Environment.PROD, start_date=start, end_date=start + timedelta(hours=8),
        approval_required=True, requires_approval_manager=True,
    )  # fmt: skip


def requests(bot: LocalBot) -> list[str]:
    """Whom this bot asked, by DM, to decide the prod sign-off."""
    return [
        str(call.params["channel"])
        for call in bot.slack.of("chat.postMessage")
        if "Prod sign-off" in str(call.params.get("blocks"))
        and "approval_approve" in str(call.params.get("blocks"))
    ]
