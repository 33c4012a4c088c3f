"""Connect to MongoDB (Motor) or to the embedded in-process engine (mongomock-motor)."""

from __future__ import annotations

from typing import Any, cast

from motor.motor_asyncio import AsyncIOMotorClient, AsyncIOMotorCollection, AsyncIOMotorDatabase

Document = dict[str, Any]
Database = AsyncIOMotorDatabase[Document]
Collection = AsyncIOMotorCollection[Document]

EMBEDDED_SCHEME = "mongomock://"


def is_embedded(uri: str) -> bool:
    return uri.startswith(EMBEDDED_SCHEME)


def connect(uri: str, db_name: str) -> tuple[AsyncIOMotorClient[Document], Database]:
    """A client and database; ``mongomock://`` gives a fresh in-memory engine."""
    client: AsyncIOMotorClient[Document]
    if is_embedded(uri):
        from mongomock_motor import AsyncMongoMockClient

        client = cast(AsyncIOMotorClient[Document], AsyncMongoMockClient(tz_aware=True))
    else:
        client = AsyncIOMotorClient(uri, tz_aware=True, serverSelectionTimeoutMS=5000)
    return client, client[db_name]


async def ping(db: Database) -> bool:
    try:
        await db.command("ping")
    except Exception:  # any failure means "not reachable" to a health check
        return False
    return True
