"""A bot that stopped right after writing a change: the next start's scheduler tick
delivers the change's audit entry, once, and people see it in the history."""

from __future__ import annotations

from bot.devtools.harness import local_bot
from core.models.timeline import TimelineEvent
from core.services.release_changes import Recorded, ReleaseChanges
from storage.codec import to_document
from storage.engine import Database
from tests.bot.test_admin import answer, shown


async def test_an_entry_left_in_the_outbox_is_delivered_after_a_restart(db: Database) -> None:
    async with local_bot(db=db) as first:
        rhea = await first.runtime.deps.services.identity.actor_by_id(
            (await first.runtime.repos.users.get_by_username("rhea")).id
        )
        release = await first.runtime.repos.releases.get("REL-2026.12")
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


def entry_document(entry: TimelineEvent) -> dict[str, object]:
    """An outbox entry as stored inside the release document (its id kept as ``id``)."""
    document = to_document(entry)
    document["id"] = str(document.pop("_id"))
    return document
