"""Work done after Slack got its ack, on a few workers, so acks never queue behind it.

One event loop serves both. Under a burst, acks stay fast (Slack wants one within 3 s)
while rendering and posting answers waits its turn on ``workers`` workers, each job starting
only once no request is waiting for its ack (``PendingAcks``). Work that must use a
trigger_id (opening a modal) is not queued: a trigger_id expires after 3 s.

On shutdown (``AfterAck.drain``) what listeners still do after their ack (Bolt runs them in
tasks nobody awaits: an Approve click storing its decision, then redrawing) is waited for,
then the queued work, each within the drain's bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from weakref import WeakKeyDictionary

from storage.embedded_thread import deferrable

log = logging.getLogger(__name__)
Job = Callable[[], Awaitable[None]]
JOB_SECONDS = 30.0  # a response_url lives 30 minutes; a stuck answer must not hold a worker
# The longest work after an ack waits for other requests' acks: under a burst shorter than
# this every ack goes first; under longer overload answers are this much later, not starved.
ACK_PRIORITY_SECONDS = 1.0


class PendingAcks:
    """The requests an event loop is still to ack. Work after an ack (answers, reactions,
    what a listener does after ``ack()``) waits for its ``turn``: the event loop is one CPU,
    an ack is due within 3 s, an answer only soon.

    Turns are handed out one at a time, first come first served, and only when no ack has
    been pending for two loop iterations (time for requests that just arrived to be
    counted); the next turn only after the previous work ran until it waited for something.
    Work waits at most ``patience`` seconds, so under overload answers are late, not lost.
    """

    def __init__(self) -> None:
        self._count = 0
        self._none = asyncio.Event()
        self._none.set()
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._none_waiting = asyncio.Event()
        self._none_waiting.set()
        self._turns: asyncio.Task[None] | None = None
        self._going_on: set[asyncio.Task[Any]] = set()

    @contextlib.contextmanager
    def pending(self) -> Iterator[None]:
        """One request, from its arrival until its ack is sent."""
        self._count += 1
        self._none.clear()
        try:
            yield
        finally:
            self._count -= 1
            if self._count == 0:
                self._none.set()

    async def turn(self, patience: float = ACK_PRIORITY_SECONDS) -> None:
        """Return when it is this work's turn, or after ``patience`` seconds."""
        if not self._count and not self._waiting:
            return
        ticket = asyncio.get_running_loop().create_future()
        self._waiting.append(ticket)
        self._none_waiting.clear()
        if self._turns is None or self._turns.done():
            self._turns = asyncio.create_task(self._hand_out())
        try:
            await asyncio.wait_for(ticket, patience)
        except TimeoutError:
            pass
        finally:
            if ticket in self._waiting:
                self._waiting.remove(ticket)
            if not self._waiting:
                self._none_waiting.set()

    def going_on(self, task: asyncio.Task[Any]) -> None:
        """``task`` (a listener's, Bolt's background task) goes on after its ack:
        ``gone_on`` waits for it."""
        if task not in self._going_on:
            self._going_on.add(task)
            task.add_done_callback(self._going_on.discard)

    async def gone_on(self) -> None:
        """Return once every listener that went on after its ack has finished (but the
        caller's own task)."""
        while others := self._going_on - {asyncio.current_task()}:
            await asyncio.wait(others)

    async def no_turn_waiting(self) -> None:
        """Return once no work is waiting for its turn (it has gone on, e.g. queued an
        answer)."""
        await self._none_waiting.wait()

    async def _hand_out(self) -> None:
        while self._waiting:
            await self._none.wait()
            await asyncio.sleep(0)  # requests that just arrived start, and are counted
            await asyncio.sleep(0)
            if self._count or not self._waiting:
                continue
            ticket = self._waiting.popleft()
            if not ticket.done():
                ticket.set_result(None)
                await asyncio.sleep(0)  # that work runs until it waits for something


_BY_LOOP: WeakKeyDictionary[asyncio.AbstractEventLoop, PendingAcks] = WeakKeyDictionary()


def pending_acks() -> PendingAcks:
    """The running event loop's: acks and after-ack work compete for that loop, whichever
    app, listener or queue they belong to."""
    loop = asyncio.get_running_loop()
    found = _BY_LOOP.get(loop)
    if found is None:
        found = _BY_LOOP[loop] = PendingAcks()
    return found


async def ack_turn() -> None:
    """Return once no ack is pending (a turn), or after ``ACK_PRIORITY_SECONDS``."""
    await pending_acks().turn()


async def _listeners_done(acks: PendingAcks) -> None:
    await acks.no_turn_waiting()
    await acks.gone_on()


async def _call(job: Job) -> None:
    await job()


class AfterAck:
    """``job_seconds``: how long one job may run before it is cancelled (None: no limit)."""

    def __init__(self, *, workers: int = 2, job_seconds: float | None = JOB_SECONDS) -> None:
        self._size = workers
        self._job_seconds = job_seconds
        self._queue: asyncio.Queue[tuple[Job, contextvars.Context]] | None = None
        self._workers: list[asyncio.Task[None]] = []

    def submit(self, job: Job) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._workers = [
                asyncio.create_task(self._work(self._queue)) for _ in range(self._size)
            ]
        # Logs of the job must name its own request: carry the submitter's context along.
        self._queue.put_nowait((job, contextvars.copy_context()))

    async def drain(self, timeout: float = 10.0) -> None:
        """Finish queued work (on shutdown), then stop the workers, all within ``timeout``.
        Listeners still at work after their ack (waiting for their turn, deciding,
        answering) finish first: they may queue work, and what they do must not meet a
        closed database."""
        deadline = asyncio.get_running_loop().time() + timeout
        queue, workers = self._queue, self._workers
        try:
            try:
                await asyncio.wait_for(_listeners_done(pending_acks()), time_left(deadline))
            except TimeoutError:
                log.warning("stopped with listeners still at work after their ack")
            if queue is not None:
                try:
                    await asyncio.wait_for(queue.join(), time_left(deadline))
                except TimeoutError:
                    log.warning("stopped with %d answers still queued", queue.qsize())
        finally:
            if self._workers is workers:  # work submitted from now on starts new ones
                self._queue, self._workers = None, []
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def _work(self, queue: asyncio.Queue[tuple[Job, contextvars.Context]]) -> None:
        while True:
            job, context = await queue.get()
            try:
                await pending_acks().turn()
                context.run(deferrable.set, True)  # its reads and writes wait for acks too
                task = asyncio.create_task(_call(job), context=context)
                await asyncio.wait_for(task, self._job_seconds)
            except Exception:  # a job answers its own errors; this is the last resort
                log.exception("after-ack work failed")
            finally:
                queue.task_done()


def time_left(deadline: float) -> float:
    """Seconds until ``deadline`` (on the running loop's clock), never negative."""
    return max(0.0, deadline - asyncio.get_running_loop().time())
