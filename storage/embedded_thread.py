"""The embedded engine works on a thread of its own, never on the event loop.

mongomock-motor gives mongomock an async face but runs every query on the calling thread: a
query over thousands of documents held the event loop (and every other request's ack) for
tens of milliseconds. Here each operation runs on one engine thread, in the order issued (one
thread: mongomock is not thread-safe, and it never runs two operations at once), while the
event loop serves other requests. Python's GIL still shares one CPU between them; it switches
every few milliseconds, so an ack waits for a slice of a query, not the whole query.

``aggregate`` and ``find`` are lazy here as with Motor: their work is done on the engine
thread when the cursor is first read. ``enable()`` patches mongomock-motor's classes; it is
idempotent and only called for ``mongomock://``.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import mongomock_motor
from mongomock.command_cursor import CommandCursor

_ENGINE = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedded-engine")
_ENABLED: list[bool] = []
SWITCH_SECONDS = 0.0005

# Set for work that can wait (what follows an ack): its operations first wait for ``_gate``
# (the bot's: until no ack is pending), so they do not take the CPU from requests' acks.
deferrable: contextvars.ContextVar[bool] = contextvars.ContextVar("deferrable", default=False)
_gate: list[Callable[[], Awaitable[None]]] = []


def defer_to(gate: Callable[[], Awaitable[None]]) -> None:
    """What deferrable operations wait for before they start (the last one given)."""
    _gate[:] = [gate]


async def on_engine(call: Callable[[], Any]) -> Any:
    """``call()`` on the engine thread; its answer (or exception) here."""
    if _gate and deferrable.get():
        await _gate[0]()
    return await asyncio.get_running_loop().run_in_executor(_ENGINE, call)


def _finished(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """The result of one of mongomock-motor's coroutines, which never suspend: their work is
    synchronous behind an ``async def``."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("an embedded-engine operation waited for something")


def _threaded(method: Callable[..., Coroutine[Any, Any, Any]]) -> Callable[..., Any]:
    @functools.wraps(method)
    async def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        return await on_engine(lambda: _finished(method(self, *args, **kwargs)))

    return run


class _Pending:
    """A cursor whose results are computed on the engine thread when first read."""

    def __init__(self, compute: Callable[[], Iterator[Any]]) -> None:
        self._compute = compute
        self._results: Iterator[Any] | None = None

    async def _ready(self) -> Iterator[Any]:
        if self._results is None:
            compute = self._compute
            self._results = iter(await on_engine(lambda: list(compute())))
            self._compute = _nothing  # let go of the query and its cursor
        return self._results

    def __aiter__(self) -> _Pending:
        return self

    async def next(self) -> Any:
        try:
            return next(await self._ready())
        except StopIteration:
            raise StopAsyncIteration() from None

    __anext__ = next

    async def to_list(self, *args: Any, **kwargs: Any) -> list[Any]:
        return list(await self._ready())


class _LazyAggregate(_Pending):
    """``aggregate``'s cursor: the pipeline runs on the engine thread when first read."""

    def __init__(self, owner: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        super().__init__(lambda: owner.delegate_aggregate(*args, **kwargs))

    async def close(self) -> None:
        self._results = iter(())


def _aggregate(self: Any, *args: Any, **kwargs: Any) -> _LazyAggregate:
    return _LazyAggregate(self, args, kwargs)


def _nothing() -> Iterator[Any]:
    return iter(())


def _pending_of(cursor: Any) -> _Pending:
    """The results of mongomock-motor's ``cursor``. What computes them holds mongomock's own
    cursor, not ``cursor``: no reference cycle, so a request's results are freed as soon as
    it is done with them, not by a garbage collection."""
    found = cursor.__dict__.get("_pending")
    if found is None:
        found = cursor.__dict__["_pending"] = _Pending(
            functools.partial(iter, cursor._AsyncCursor__cursor)
        )
    assert isinstance(found, _Pending)
    return found


async def _cursor_next(self: Any) -> Any:
    return await _pending_of(self).next()


async def _cursor_to_list(self: Any, *args: Any, **kwargs: Any) -> list[Any]:
    return await _pending_of(self).to_list()


def _delegate_aggregate(self: Any, *args: Any, **kwargs: Any) -> CommandCursor:
    own = self._AsyncMongoMockCollection__collection
    return own.aggregate(*args, **kwargs)  # type: ignore[no-any-return]


def _database_delegate_aggregate(self: Any, *args: Any, **kwargs: Any) -> CommandCursor:
    return self.delegate.aggregate(*args, **kwargs)  # type: ignore[no-any-return]


def enable() -> None:
    """Route mongomock-motor's operations to the engine thread. Idempotent."""
    if _ENABLED:
        return
    _ENABLED.append(True)
    # The GIL goes to a thread that asks for it after this long at most (CPython's default
    # is 5 ms): an ack waits for a sliver of a query, not for slices of it.
    sys.setswitchinterval(SWITCH_SECONDS)
    motor_like: tuple[type, ...] = (
        mongomock_motor.AsyncMongoMockCollection,
        mongomock_motor.AsyncMongoMockDatabase,
    )
    for owner in motor_like:
        for base in owner.__mro__:
            for name, method in list(vars(base).items()):
                if asyncio.iscoroutinefunction(method) and not name.startswith("__"):
                    setattr(base, name, _threaded(method))
    patches: dict[type, dict[str, Callable[..., Any]]] = {
        mongomock_motor.AsyncMongoMockCollection: {
            "delegate_aggregate": _delegate_aggregate,
            "aggregate": _aggregate,
        },
        mongomock_motor.AsyncMongoMockDatabase: {
            "delegate_aggregate": _database_delegate_aggregate,
            "aggregate": _aggregate,
        },
    }
    for target, methods in patches.items():
        for name, method in methods.items():
            setattr(target, name, method)
    for base in mongomock_motor.AsyncCursor.__mro__:
        if "to_list" in vars(base):
            for name, method in (
                ("to_list", _cursor_to_list),
                ("next", _cursor_next),
                ("__anext__", _cursor_next),
            ):
                setattr(base, name, method)
