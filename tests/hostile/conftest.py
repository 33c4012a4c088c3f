"""The running bot for the hostile corpus: the real aiohttp app on a free port, Slack faked,
its database wrapped to count calls (so a case that wrote nothing needs no snapshot)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.devtools.harness import LocalBot, local_bot
from storage.engine import Database
from storage.instrumented import RoundTrips


@pytest.fixture
def trips() -> RoundTrips:
    return RoundTrips()


@pytest.fixture
async def bot(db: Database, trips: RoundTrips) -> AsyncIterator[LocalBot]:
    async with local_bot(db=trips.wrap(db)) as running:
        yield running


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The corpus's size, on every run that collected it."""
    from tests.hostile.corpus import sizes

    counts = sizes()
    terminalreporter.write_sep("-", "bad-input corpus")
    terminalreporter.write_line(", ".join(f"{name}: {n}" for name, n in counts.items()))
