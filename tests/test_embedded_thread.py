"""The embedded engine works on its own thread: a long query does not stop the event loop."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref

from bot.after_ack import ack_turn
from storage.embedded_thread import defer_to, deferrable
from storage.engine import connect


async def test_the_event_loop_keeps_turning_while_a_long_query_runs() -> None:
    _, db = connect("mongomock://", "engine_thread")
    items = db["items"]
    await items.insert_many([{"n": n, "text": f"item number {n}"} for n in range(20_000)])
    scan = {"text": {"$regex": "number 1999[0-9]$"}}  # unindexed, unanchored: every document

    gaps: list[float] = []

    async def ticker(stop: asyncio.Event) -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    stop = asyncio.Event()
    ticking = asyncio.create_task(ticker(stop))
    began = time.perf_counter()
    found = await items.find(scan).to_list(length=None)
    took = time.perf_counter() - began
    stop.set()
    await ticking

    assert [d["n"] for d in found] == list(range(19_990, 20_000))
    # The loop turned many times during the query, never stopped for most of it.
    assert len(gaps) > 10
    assert max(gaps) < took / 3, (max(gaps), took)


async def test_operations_run_in_the_order_issued_with_their_errors() -> None:
    _, db = connect("mongomock://", "engine_order")
    items = db["items"]
    await items.create_index("key", unique=True)
    writes = [items.insert_one({"key": k}) for k in ("a", "b", "a", "c")]

    outcomes = await asyncio.gather(*writes, return_exceptions=True)

    assert [type(o).__name__ for o in outcomes] == [
        "InsertOneResult",
        "InsertOneResult",
        "DuplicateKeyError",
        "InsertOneResult",
    ]
    assert [d["key"] async for d in items.find({}, {"_id": 0}).sort("key", 1)] == ["a", "b", "c"]
    assert [d["key"] for d in await items.aggregate([{"$sort": {"key": -1}}]).to_list(None)] == [
        "c",
        "b",
        "a",
    ]


async def test_deferrable_operations_wait_for_the_gate_and_others_do_not() -> None:
    """Work after an ack (``deferrable``) reads and writes only once the bot's gate opens
    (no ack pending); a request's own operations before its ack never wait."""
    _, db = connect("mongomock://", "engine_gate")
    items = db["items"]
    opened = asyncio.Event()

    async def gate() -> None:
        await opened.wait()

    defer_to(gate)
    try:
        token = deferrable.set(True)
        try:
            later = asyncio.create_task(items.insert_one({"k": 1}))
        finally:
            deferrable.reset(token)
        await asyncio.sleep(0.05)

        assert await items.count_documents({}) == 0  # not deferrable: answered at once
        assert not later.done()
        opened.set()
        await asyncio.wait_for(later, 1)
        assert await items.count_documents({}) == 1
    finally:
        defer_to(ack_turn)


async def test_a_read_cursor_is_freed_at_once_not_by_a_garbage_collection() -> None:
    """No reference cycle holds a query's results until the next (full) collection."""
    _, db = connect("mongomock://", "engine_cycles")
    items = db["items"]
    await items.insert_one({"k": 1})
    gc.disable()
    try:
        cursor = items.find({})
        inner = weakref.ref(cursor._AsyncCursor__cursor)  # type: ignore[attr-defined]
        assert [d["k"] for d in await cursor.to_list(None)] == [1]
        del cursor
        # The engine thread may still be returning from the read that answered: let it end.
        for _ in range(100):
            if inner() is None:
                break
            await asyncio.sleep(0.01)
        assert inner() is None
    finally:
        gc.enable()
