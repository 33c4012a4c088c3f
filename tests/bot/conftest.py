"""The bot end to end: signed HTTP requests in, Web API calls out to a recording fake."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.devtools.harness import LocalBot, local_bot
from storage.engine import Database


@pytest.fixture
async def bot(db: Database) -> AsyncIterator[LocalBot]:
    async with local_bot(db=db) as running:
        yield running
