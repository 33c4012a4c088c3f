"""Acks go first: the HTTP answer leaves when a listener acks, and work after an ack waits
while other requests still wait for theirs (bot/acks.py, bot/after_ack.py, bot/server.py)."""

from __future__ import annotations

import asyncio
import time
import urllib.request
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import aiohttp
import pytest
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from blocks.ids import ActionId, Origin
from bot.acks import TRIGGER_HEADROOM
from bot.after_ack import ACK_PRIORITY_SECONDS, AfterAck, PendingAcks, pending_acks
from bot.devtools.fake_slack import Call, FakeSlack
from bot.devtools.harness import LocalBot, listen
from bot.devtools.payloads import CHANNEL_ID, command_payload
from bot.devtools.signing import form_body, signed_headers
from bot.server import EVENTS_PATH, build_web_app
from core.models.release import ApprovalStatus
from storage.engine import Database
from tests.bot.test_answers_reach import LIST, url_fails, words
from tests.bot.test_approvals import approval, target

SECRET = "ack-priority-secret"
BLOCKED_S = 1.0  # what the listener does after its ack holds the event loop this long


@asynccontextmanager
async def served(db: Database, register: Callable[[AsyncApp], None]) -> AsyncIterator[str]:
    """The bot's HTTP handler in front of a Bolt app with the listeners ``register`` adds;
    its events URL."""
    slack = FakeSlack()  # answers the auth.test Bolt makes first
    await slack.start()
    bolt = AsyncApp(
        client=AsyncWebClient(token="xoxb-local", base_url=slack.api_url), signing_secret=SECRET
    )
    register(bolt)
    runner, url = await listen(build_web_app(bolt, db, signing_secret=SECRET))
    try:
        yield f"{url}{EVENTS_PATH}"
    finally:
        await runner.cleanup()
        await slack.stop()


@pytest.fixture
async def blocking_app(db: Database) -> AsyncIterator[str]:
    """A `/release` listener that acks, then holds the event loop (as a query on the
    embedded engine does)."""

    def register(bolt: AsyncApp) -> None:
        @bolt.command("/release")
        async def slow_after_ack(ack: AsyncAck) -> None:
            await ack(text="on it")
            time.sleep(BLOCKED_S)

    async with served(db, register) as url:
        yield url


def _body(text: str) -> tuple[str, dict[str, str]]:
    """A signed `/release <text>` as Slack sends it."""
    body = form_body(
        command_payload(
            team_id="T0DEMO",
            user_id="UDANA",
            text=text,
            channel_id="C0RELEASE",
            response_url="http://127.0.0.1:9/respond/x",
            trigger_id="trigger.1",
        )
    )
    return body, signed_headers(SECRET, body, content_type="application/x-www-form-urlencoded")


def _post_from_another_thread(url: str) -> tuple[float, bytes]:
    """Send a signed `/release status`; seconds until the answer, and the answer."""
    body, headers = _body("status")
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    began = time.perf_counter()
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = response.read()
    return time.perf_counter() - began, answer


async def test_the_answer_leaves_when_the_listener_acks_not_after_its_later_work(
    blocking_app: str,
) -> None:
    # The client runs in a thread: it gets the answer while the event loop is held.
    seconds, answer = await asyncio.to_thread(_post_from_another_thread, blocking_app)

    assert b"on it" in answer
    assert seconds < BLOCKED_S / 2  # Bolt alone answers only once the listener lets go


async def _quick_behind_slow(db: Database, slow_seconds: float) -> tuple[float, float, float]:
    """`/release slow` acks after ``slow_seconds``; `/release quick`, sent just after it,
    acks at once. Seconds until quick's answer; when quick's work after its ack went on,
    and when slow acked."""
    happened: dict[str, float] = {}

    def register(bolt: AsyncApp) -> None:
        @bolt.command("/release")
        async def listener(ack: AsyncAck, body: dict[str, str]) -> None:
            if body["text"] == "slow":
                await asyncio.sleep(slow_seconds)  # e.g. asking Slack who this is
                happened["slow acks"] = time.perf_counter()
                await ack()
            else:
                await ack()
                happened["quick goes on"] = time.perf_counter()

    async with served(db, register) as url, aiohttp.ClientSession() as session:

        async def send(text: str) -> float:
            body, headers = _body(text)
            began = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as reply:
                assert reply.status == 200
            return time.perf_counter() - began

        slow = asyncio.create_task(send("slow"))
        await asyncio.sleep(0.05)
        quick_seconds = await send("quick")
        await slow
        for _ in range(100):
            if "quick goes on" in happened:
                break
            await asyncio.sleep(0.01)
    return quick_seconds, happened["quick goes on"], happened["slow acks"]


async def test_what_a_listener_does_after_its_ack_waits_for_another_requests_ack(
    db: Database,
) -> None:
    quick_seconds, quick_goes_on, slow_acks = await _quick_behind_slow(db, 0.3)

    assert quick_seconds < 0.2  # its own ack did not wait
    assert quick_goes_on >= slow_acks  # its later work did


async def test_it_waits_no_longer_than_a_modal_could_still_open(db: Database) -> None:
    _, quick_goes_on, slow_acks = await _quick_behind_slow(db, 2.0)

    # Its trigger_id lives 3 s: it went on within the headroom, before slow's ack.
    assert slow_acks - quick_goes_on > 2.0 - TRIGGER_HEADROOM - 0.05


async def test_work_after_an_ack_waits_until_no_other_ack_is_pending() -> None:
    acks = PendingAcks()
    order: list[str] = []

    async def answer() -> None:
        await acks.turn(patience=10)
        order.append("answer")

    with acks.pending():
        waiting = asyncio.create_task(answer())
        for _ in range(20):
            await asyncio.sleep(0)
        assert order == []
        order.append("ack sent")
    await asyncio.wait_for(waiting, 5)

    assert order == ["ack sent", "answer"]


async def test_work_waits_no_longer_than_its_patience() -> None:
    acks = PendingAcks()
    with acks.pending():  # an ack that never goes out
        began = time.perf_counter()
        await acks.turn(patience=0.05)

    assert time.perf_counter() - began < 2


async def test_turns_are_taken_in_order_one_at_a_time() -> None:
    acks = PendingAcks()
    order: list[str] = []

    async def work(name: str) -> None:
        await acks.turn(patience=10)
        order.append(f"{name} runs")
        await asyncio.sleep(0)  # waits for something: the next may have its turn
        order.append(f"{name} waited")

    with acks.pending():
        first = asyncio.create_task(work("first"))
        second = asyncio.create_task(work("second"))
        await asyncio.sleep(0)
    await asyncio.wait_for(asyncio.gather(first, second), 5)

    assert order == ["first runs", "first waited", "second runs", "second waited"]


async def test_an_answer_queued_while_an_ack_is_pending_starts_after_it() -> None:
    queue = AfterAck(workers=1)
    started: list[bool] = []

    async def job() -> None:
        started.append(True)

    with pending_acks().pending():
        queue.submit(job)
        for _ in range(20):
            await asyncio.sleep(0)
        assert started == []
    await queue.drain()

    assert started == [True]


async def test_shutdown_finishes_work_still_waiting_for_its_turn() -> None:
    queue = AfterAck(workers=1)
    answered: list[bool] = []

    async def answer() -> None:
        answered.append(True)

    async def after_its_ack() -> None:  # a listener that acked and queues its answer later
        await pending_acks().turn(patience=5)
        queue.submit(answer)

    with pending_acks().pending():
        listener = asyncio.create_task(after_its_ack())
        draining = asyncio.create_task(queue.drain())
        for _ in range(20):
            await asyncio.sleep(0)
        assert not draining.done()
    await asyncio.wait_for(asyncio.gather(listener, draining), 5)

    assert answered == [True]


async def test_a_request_whose_body_is_still_arriving_holds_no_answer_back(db: Database) -> None:
    """Only a request known to be Slack's (read, signature checked) waits for its ack: one
    that sends its body slowly (or is not signed at all) does not hold answers back."""
    async with served(db, lambda _bolt: None) as url:
        host, port = url.removeprefix("http://").split("/", 1)[0].split(":")
        _, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            f"POST {EVENTS_PATH} HTTP/1.1\r\nHost: {host}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
            "token=still-coming".encode()
        )
        await writer.drain()
        await asyncio.sleep(0.1)  # the server is reading its body
        queue = AfterAck(workers=1)
        answered = asyncio.Event()

        async def answer() -> None:
            answered.set()

        began = time.perf_counter()
        queue.submit(answer)
        await asyncio.wait_for(answered.wait(), 5)
        waited = time.perf_counter() - began
        writer.close()
        await queue.drain()

    assert waited < ACK_PRIORITY_SECONDS / 2


async def test_shutdown_waits_for_what_a_click_does_after_its_ack(bot: LocalBot) -> None:
    """An Approve click acks at once, then decides and answers; Slack takes its time to
    refuse the answer's response_url, so it is answered in the channel instead. A shutdown
    meanwhile lets all that finish before the database is closed."""
    url_fails(bot)

    async def slow_refusal(call: Call) -> None:
        if call.method == "response_url!404":
            await asyncio.sleep(1.0)

    bot.slack.on_call = slow_refusal
    value = await target(bot, "uat-signoff", origin=Origin.LIST)

    reply = await bot.driver.click("UARJUN", ActionId.APPROVE, value, container=LIST)
    assert reply.status == 200  # acked; the decision and its answer go on after the ack
    await bot.runtime.drain()  # SIGTERM

    assert (await approval(bot, "uat-signoff")).status is ApprovalStatus.APPROVED
    [redrawn] = bot.slack.of("chat.postEphemeral")
    assert redrawn.params["channel"] == CHANNEL_ID
    assert "You approved *UAT sign-off*" in words(redrawn)
