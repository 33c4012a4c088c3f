"""After-ack work: each job keeps its own request's context; shutdown finishes the queue."""

import asyncio

from bot import logs
from bot.after_ack import AfterAck


async def test_each_job_logs_under_the_request_that_submitted_it() -> None:
    seen: list[str] = []
    queue = AfterAck(workers=1)

    async def job() -> None:
        await asyncio.sleep(0)
        seen.append(logs.request_id.get())

    for ref in ("req-1", "req-2", "req-3"):
        logs.request_id.set(ref)
        queue.submit(job)
    await queue.drain()

    assert seen == ["req-1", "req-2", "req-3"]


async def test_drain_finishes_queued_work_and_survives_a_failing_job() -> None:
    done: list[int] = []
    queue = AfterAck(workers=2)

    async def failing() -> None:
        raise RuntimeError("boom")

    def finisher(n: int):  # type: ignore[no-untyped-def]
        async def job() -> None:
            await asyncio.sleep(0.01)
            done.append(n)

        return job

    queue.submit(failing)
    for n in range(5):
        queue.submit(finisher(n))
    await queue.drain()

    assert sorted(done) == [0, 1, 2, 3, 4]


async def test_a_drain_past_its_bound_returns_on_time_and_stops_its_workers() -> None:
    queue = AfterAck(workers=1, job_seconds=None)
    started = asyncio.Event()

    async def stuck() -> None:
        started.set()
        await asyncio.sleep(60)

    queue.submit(stuck)
    await started.wait()
    workers = list(queue._workers)
    loop = asyncio.get_running_loop()
    began = loop.time()

    await queue.drain(timeout=0.2)

    assert loop.time() - began < 1.0  # one budget, not one per phase
    assert all(w.done() for w in workers)  # nothing left running against a closed database


async def test_a_drain_cancelled_from_outside_still_stops_its_workers() -> None:
    queue = AfterAck(workers=1, job_seconds=None)
    started = asyncio.Event()

    async def stuck() -> None:
        started.set()
        await asyncio.sleep(60)

    queue.submit(stuck)
    await started.wait()
    workers = list(queue._workers)

    draining = asyncio.create_task(queue.drain(timeout=30))
    await asyncio.sleep(0.05)
    draining.cancel()
    await asyncio.gather(draining, return_exceptions=True)

    assert all(w.done() for w in workers)
