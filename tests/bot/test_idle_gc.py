"""Full garbage collections wait for a moment no ack is pending, then freeze what survived."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from bot.after_ack import pending_acks
from bot.idle_gc import NEVER, IdleCollector


class Node:
    """An object in a reference cycle: only the collector frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    yield
    gc.unfreeze()


def long_lived(n: int) -> list[Node]:
    kept = [Node() for _ in range(n)]
    gc.collect()  # survivors of a full collection are generation 2
    return kept


def walked(node: Node) -> bool:
    """Whether a full collection would walk ``node`` (it is long-lived and not frozen)."""
    return any(o is node for o in gc.get_objects(generation=2))


async def test_it_collects_only_when_enough_long_lived_objects_piled_up() -> None:
    collector = IdleCollector(unfrozen_limit=10**9, sweep_seconds=3600)
    kept = long_lived(1_000)

    assert await collector.collect_if_due() is False
    assert walked(kept[0])

    collector.unfrozen_limit = 500
    assert await collector.collect_if_due() is True
    assert not walked(kept[0])  # frozen: later collections skip it
    assert collector.unfrozen() < 500


async def test_it_waits_while_an_ack_is_pending() -> None:
    collector = IdleCollector(unfrozen_limit=100, patience=30)
    kept = long_lived(1_000)

    with pending_acks().pending():
        collecting = asyncio.create_task(collector.collect_if_due())
        await asyncio.sleep(0.05)
        assert not collecting.done() and walked(kept[0])
    assert await asyncio.wait_for(collecting, 1) is True
    assert not walked(kept[0])


async def test_under_endless_acks_it_collects_after_its_patience() -> None:
    collector = IdleCollector(unfrozen_limit=100, patience=0.05)
    long_lived(1_000)

    with pending_acks().pending():
        assert await asyncio.wait_for(collector.collect_if_due(), 1) is True


async def test_the_sweep_frees_cyclic_garbage_that_was_frozen() -> None:
    collector = IdleCollector(unfrozen_limit=10**9, sweep_seconds=3600)
    [node] = long_lived(1)
    gone = weakref.ref(node)
    gc.freeze()  # as a collection would have, while the node was still in use
    del node
    gc.collect()
    assert gone() is not None  # frozen: ordinary collections skip it

    collector.sweep_seconds = 0
    assert await collector.collect_if_due() is True
    assert gone() is None


async def test_while_it_runs_cpython_makes_no_full_collection_of_its_own() -> None:
    before = gc.get_threshold()
    task = asyncio.create_task(IdleCollector(check_seconds=3600).run())
    await asyncio.sleep(0)
    during = gc.get_threshold()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert during == (before[0], before[1], NEVER)
    assert gc.get_threshold() == before
