"""Connect to MongoDB (Motor) or to the embedded in-process engine (mongomock-motor)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from motor.motor_asyncio import AsyncIOMotorClient, AsyncIOMotorCollection, AsyncIOMotorDatabase
from pymongo.errors import ConnectionFailure, PyMongoError
from pymongo.uri_parser import split_hosts

Document = dict[str, Any]
Database = AsyncIOMotorDatabase[Document]
Collection = AsyncIOMotorCollection[Document]

EMBEDDED_SCHEME = "mongomock://"
# Errors that mean "the database is not reachable right now", as opposed to a bad query.
UNAVAILABLE: tuple[type[BaseException], ...] = (ConnectionFailure, TimeoutError)


def is_embedded(uri: str) -> bool:
    return uri.startswith(EMBEDDED_SCHEME)


def is_unavailable(error: BaseException) -> bool:
    return isinstance(error, UNAVAILABLE)


def engine_name(uri: str) -> str:
    return "embedded" if is_embedded(uri) else "mongodb"


def hosts_of(uri: str) -> str:
    """The hosts of a MongoDB URI, without credentials or options: safe to log."""
    if is_embedded(uri):
        return "the embedded in-memory engine"
    rest = uri.split("://", 1)[-1].split("/", 1)[0].split("?", 1)[0]
    rest = rest.rsplit("@", 1)[-1]
    try:
        hosts = [f"{host}:{port}" for host, port in split_hosts(rest)]
    except (ValueError, PyMongoError):
        return rest or "?"
    return ", ".join(hosts)


def connect(
    uri: str, db_name: str, *, timeout: float = 5.0
) -> tuple[AsyncIOMotorClient[Document], Database]:
    """A client and database; ``mongomock://`` gives a fresh in-memory engine. ``timeout``
    bounds how long an operation waits for a reachable server."""
    client: AsyncIOMotorClient[Document]
    if is_embedded(uri):
        from mongomock_motor import AsyncMongoMockClient

        from storage import embedded_index, embedded_thread

        embedded_index.enable()  # it uses the declared indexes, as MongoDB does
        embedded_thread.enable()  # and works off the event loop, as MongoDB does

        client = cast(AsyncIOMotorClient[Document], AsyncMongoMockClient(tz_aware=True))
    else:
        millis = int(timeout * 1000)
        client = AsyncIOMotorClient(
            uri,
            tz_aware=True,
            serverSelectionTimeoutMS=millis,
            connectTimeoutMS=millis,
        )
    return client, client[db_name]


async def ping(db: Database, *, timeout: float = 2.0) -> bool:
    try:
        await asyncio.wait_for(db.command("ping"), timeout)
    except Exception:  # any failure means "not reachable" to a health check
        return False
    return True


_PART = "_union_part"  # which side of ``union_of`` a document came from


async def union_of(
    collection: Collection, first: list[Document], other: str, then: list[Document]
) -> tuple[list[Document], list[Document]]:
    """One round trip (``$unionWith``): the documents of ``first`` run on ``collection`` and
    of ``then`` run on collection ``other``, apart, each in no promised order (MongoDB does
    not promise the order of a union's output: callers sort)."""
    union = {"coll": other, "pipeline": [*then, {"$set": {_PART: 1}}]}
    pipeline = [*first, {"$set": {_PART: 0}}, {"$unionWith": union}]
    parts: tuple[list[Document], list[Document]] = ([], [])
    for doc in await collection.aggregate(pipeline).to_list(length=None):
        parts[doc.pop(_PART)].append(doc)
    return parts
