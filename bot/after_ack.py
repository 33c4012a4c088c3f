"""Work done after Slack got its ack, on a few workers, so acks never queue behind it.

One event loop serves both. Under a burst, acks stay fast (Slack wants one within 3 s)
while rendering and posting answers waits its turn on ``workers`` workers. Work that must
use a trigger_id (opening a modal) is not queued: a trigger_id expires after 3 s.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)
Job = Callable[[], Awaitable[None]]
JOB_SECONDS = 30.0  # a response_url lives 30 minutes; a stuck answer must not hold a worker


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
        """Finish queued work (on shutdown), then stop the workers."""
        if self._queue is not None:
            try:
                await asyncio.wait_for(self._queue.join(), timeout)
            except TimeoutError:
                log.warning("stopped with %d answers still queued", self._queue.qsize())
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._queue, self._workers = None, []

    async def _work(self, queue: asyncio.Queue[tuple[Job, contextvars.Context]]) -> None:
        while True:
            job, context = await queue.get()
            try:
                task = asyncio.create_task(_call(job), context=context)
                await asyncio.wait_for(task, self._job_seconds)
            except Exception:  # a job answers its own errors; this is the last resort
                log.exception("after-ack work failed")
            finally:
                queue.task_done()
