"""The bot end to end: signed HTTP requests in, Web API calls out to a recording fake."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.devtools.harness import LocalBot, local_bot
from storage.engine import Database


@pytest.fixture
async def bot(db: Database, request: pytest.FixtureRequest) -> AsyncIterator[LocalBot]:
    async with local_bot(db=db) as running:
        yield running
    # A handler that used a trigger_id late or twice would leave the person with nothing:
    # fail the test unless it provoked that on purpose.
    refused = [c.method for c in running.slack.calls if c.method.endswith("!expired_trigger_id")]
    if refused and request.node.get_closest_marker("expired_trigger") is None:
        pytest.fail(f"a trigger_id was used late or twice: {refused}")
