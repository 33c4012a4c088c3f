"""What the seed commands share: repositories over MONGO_URI / MONGO_DB_NAME, a line saying
where that is, and running a seed (core/seeds/) from the command line with its report."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from core.seeds.seeding import SeedReport
from core.services.container import Repositories
from storage.engine import connect, is_embedded
from storage.wiring import open_repositories

DEFAULT_MONGO_URI = "mongomock://"
DEFAULT_DB_NAME = "releasebot"


@asynccontextmanager
async def repositories_from_environment() -> AsyncIterator[tuple[str, Repositories]]:
    """Repositories over MONGO_URI / MONGO_DB_NAME, and a line saying where that is."""
    uri = os.environ.get("MONGO_URI") or DEFAULT_MONGO_URI
    name = os.environ.get("MONGO_DB_NAME") or DEFAULT_DB_NAME
    client, db = connect(uri, name)
    try:
        yield describe_target(uri, name), await open_repositories(db)
    finally:
        client.close()


def describe_target(uri: str, db_name: str) -> str:
    if is_embedded(uri):
        return (
            f"Database '{db_name}' on the embedded engine ({uri}): "
            "the data lives only in this process and is gone when it exits."
        )
    return f"Database '{db_name}' on {redact(uri)}"


def redact(uri: str) -> str:
    """The URI without its user:password part."""
    return re.sub(r"//[^@/]*@", "//***@", uri)


def run_seed_cli(seed: Callable[[Repositories], Awaitable[SeedReport]]) -> None:
    """The command line of a seed script: seed MONGO_URI / MONGO_DB_NAME and print the report."""

    async def run() -> None:
        async with repositories_from_environment() as (target, repos):
            print(target)
            print(await seed(repos))

    asyncio.run(run())
