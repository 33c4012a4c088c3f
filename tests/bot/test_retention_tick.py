"""The retention job through the bot's tick: two replicas ticking at once purge once."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from bot.devtools.harness import local_bot
from core.services.retention import run_key
from storage.engine import Database
from tests.bot.test_scheduler import MONDAY_0900_UTC
from tests.support import FrozenClock


async def test_two_replicas_ticking_at_once_run_the_days_retention_once(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FrozenClock(MONDAY_0900_UTC)
    caplog.set_level(logging.INFO, logger="core.services.retention")
    async with local_bot(db=db, clock=clock) as one, local_bot(db=db, clock=clock) as two:
        long_done = clock.now - timedelta(days=8)
        await db["claims"].insert_one(
            {"key": "old", "owner": "", "expires_at": long_done, "done": True, "done_at": long_done}
        )
        releases = await db["releases"].count_documents({})

        await asyncio.gather(one.runtime.deliveries.run_once(), two.runtime.deliveries.run_once())
        await one.runtime.deliveries.run_once()  # a later tick the same day

        purged = [r.getMessage() for r in caplog.records if "finished_claims" in r.getMessage()]
        assert purged == [purged[0]] and purged[0].startswith("retention: purged 1 ")
        assert await db["claims"].find_one({"key": "old"}) is None
        day = await db["claims"].find_one({"key": run_key(clock.now)})
        assert day is not None and day["done"] is True
        assert releases > 0 and await db["releases"].count_documents({}) == releases
