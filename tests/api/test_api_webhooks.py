"""Outbound webhooks over real HTTP: hooks made, listed and deleted through the API; a gate
changed in Slack or by CI through the API reaches a local receiver once, signed with the
secret shown when the hook was made; a receiver's 500 is retried and logged; refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest

from bot.devtools.harness import local_bot
from core.clock import utc_now
from core.services.webhooks import BACKOFF
from storage.engine import Database
from tests.api.conftest import ApiClient
from tests.api.test_api_contract import _refs
from tests.bot.modal_support import open_form, option_value_in, select, submit
from tests.test_webhooks_receiver import receiving

REL = "REL-2026.12"
PRODUCT, GATE = "checkout-web", "Performance test"  # NOT_STARTED in the demo data
RESULTS = f"/api/v1/releases/{REL}/products/{PRODUCT}/gates/Performance%20test/results"


@dataclass
class MovableClock:
    """The real time, moved on by the test (past a retry's backoff)."""

    offset: timedelta = timedelta()

    def __call__(self) -> datetime:
        return utc_now() + self.offset


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def api(db: Database, clock: MovableClock) -> AsyncIterator[ApiClient]:
    """As ``tests/api/conftest.py``'s, on a bot whose clock the test moves, its webhooks
    allowed to reach the receivers on 127.0.0.1 (WEBHOOK_ALLOW_PRIVATE=true)."""
    async with (
        local_bot(db=db, clock=clock, webhook_allow_private=True) as bot,
        aiohttp.ClientSession() as session,
    ):
        yield ApiClient(bot, session)


async def make_hook(api: ApiClient, token: str, url: str, *events: str) -> dict[str, Any]:
    answer = await api.call(
        "POST", "/api/v1/webhooks", token=token, json={"url": url, "events": list(events)}
    )
    assert answer.status == 201, answer.body
    hook: dict[str, Any] = answer.body
    return hook


async def deliveries(api: ApiClient, token: str, hook_id: str) -> list[dict[str, Any]]:
    answer = await api.call("GET", f"/api/v1/webhooks/{hook_id}/deliveries", token=token)
    assert answer.status == 200, answer.body
    items: list[dict[str, Any]] = answer.body["items"]
    return items


def attempts(delivery: dict[str, Any]) -> list[tuple[int, int | None, str | None]]:
    return [(a["number"], a["status_code"], a["error"]) for a in delivery["attempts"]]


async def stored(api: ApiClient, collection: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.bot.runtime.db[collection].find().to_list(length=None)
    return found


async def test_a_gate_changed_in_slack_is_delivered_once_signed_with_the_shown_secret(
    api: ApiClient,
) -> None:
    rhea = await api.login("rhea")
    async with receiving() as receiver:
        hook = await make_hook(api, rhea, receiver.url, "gate.changed", "approval.decided")
        view = await open_form(api.bot, "URHEA", f"gate {REL}")
        answer = await submit(
            api.bot,
            "URHEA",
            view,
            gate=select(option_value_in(view, "gate", PRODUCT, GATE)),
            gate_status=select("IN_PROGRESS"),
        )
        assert answer is None
        await api.bot.runtime.deps.settle()  # the reactions, then the sending they queued

    assert set(hook) == {"id", "user_id", "url", "events", "created_at", "secret"}
    assert hook["events"] == ["gate.changed", "approval.decided"]
    [received] = receiver.received
    assert received.signed_with(hook["secret"])
    assert received.headers["Content-Type"] == "application/json"
    payload = received.json
    assert payload["event"] == "gate.changed"
    data = payload["data"]
    assert (data["product_id"], data["gate_name"], data["after"]) == (PRODUCT, GATE, "IN_PROGRESS")
    assert (data["release"]["release_id"], data["changed_by"]["username"]) == (REL, "rhea")
    [logged] = await deliveries(api, rhea, hook["id"])
    assert (logged["status"], logged["event_id"]) == ("DELIVERED", payload["id"])
    assert attempts(logged) == [(1, 200, None)]


async def test_a_gate_result_from_ci_is_delivered_once_signed(api: ApiClient) -> None:
    ci = await api.api_token("rhea", "gates:write", "webhooks:write")
    async with receiving() as receiver:
        hook = await make_hook(api, ci, receiver.url, "gate.changed")
        reported = await api.call(
            "POST", RESULTS, token=ci, json={"status": "FAILED", "summary": "p99 too slow"}
        )
        assert reported.status == 200, reported.body
        await api.bot.runtime.deps.settle()

    [received] = receiver.received
    assert received.signed_with(hook["secret"])
    assert received.json["event"] == "gate.changed"
    assert (received.json["data"]["before"], received.json["data"]["after"]) == (
        "NOT_STARTED",
        "FAILED",
    )


async def test_a_receiver_500_is_retried_on_the_tick_logged_and_delivered_once(
    api: ApiClient, clock: MovableClock
) -> None:
    rhea = await api.login("rhea")
    webhooks = api.bot.runtime.deps.services.webhooks
    async with receiving([500]) as receiver:
        hook = await make_hook(api, rhea, receiver.url, "gate.changed")
        reported = await api.call("POST", RESULTS, token=rhea, json={"status": "IN_PROGRESS"})
        assert reported.status == 200, reported.body
        await api.bot.runtime.deps.settle()
        [refused] = await deliveries(api, rhea, hook["id"])
        early = await webhooks.deliver_due()  # the tick before the backoff is over
        clock.offset += BACKOFF[0]
        retried = await webhooks.deliver_due()  # the scheduler tick's call
        again = await webhooks.deliver_due()
        [logged] = await deliveries(api, rhea, hook["id"])

    assert (early, retried, again) == (0, 1, 0)
    assert refused["status"] == "PENDING"
    assert attempts(refused) == [(1, 500, "the receiver answered HTTP 500")]
    assert logged["status"] == "DELIVERED"
    assert attempts(logged) == [(1, 500, "the receiver answered HTTP 500"), (2, 200, None)]
    assert all(a["duration_ms"] >= 0 for a in logged["attempts"])
    first, second = receiver.received
    assert first.body == second.body and second.signed_with(hook["secret"])


async def test_hooks_are_listed_to_their_owner_without_secrets_and_deleted(api: ApiClient) -> None:
    rhea, admin = await api.login("rhea"), await api.login("admin")
    mine = await make_hook(api, rhea, "https://ci.example.com/releasebot", "release.ready")
    await make_hook(api, admin, "https://ops.example.com/hook", "release.created")

    listed = await api.call("GET", "/api/v1/webhooks", token=rhea)
    deleted = await api.call("DELETE", f"/api/v1/webhooks/{mine['id']}", token=rhea)
    gone = await api.call("GET", f"/api/v1/webhooks/{mine['id']}/deliveries", token=rhea)

    assert listed.status == 200
    [item] = listed.body["items"]
    assert item == {k: v for k, v in mine.items() if k != "secret"}
    assert deleted.status == 200 and deleted.body["id"] == mine["id"]
    assert gone.status == 404
    assert [h["url"] for h in await stored(api, "webhooks")] == ["https://ops.example.com/hook"]


async def test_an_admin_who_manages_roles_may_delete_anyones_hook(api: ApiClient) -> None:
    rhea, admin = await api.login("rhea"), await api.login("admin")
    hook = await make_hook(api, rhea, "https://ci.example.com/releasebot", "gate.changed")

    deleted = await api.call("DELETE", f"/api/v1/webhooks/{hook['id']}", token=admin)

    assert deleted.status == 200
    assert await stored(api, "webhooks") == []


async def test_refusals_say_why_and_store_nothing(api: ApiClient) -> None:
    rhea, admin, dana = await api.login("rhea"), await api.login("admin"), await api.login("dana")
    reader = await api.api_token("rhea", "releases:read")
    theirs = await make_hook(api, admin, "https://ops.example.com/hook", "gate.changed")
    before = await stored(api, "webhooks")
    good = {"url": "https://ci.example.com/hook", "events": ["gate.changed"]}

    no_token = await api.call("POST", "/api/v1/webhooks", json=good)
    wrong_scope = await api.call("POST", "/api/v1/webhooks", token=reader, json=good)
    no_permission = await api.call("POST", "/api/v1/webhooks", token=dana, json=good)
    not_http = await api.call(
        "POST", "/api/v1/webhooks", token=rhea, json={**good, "url": "ftp://ci.example.com/x"}
    )
    not_a_url = await api.call(
        "POST", "/api/v1/webhooks", token=rhea, json={**good, "url": "ci.example.com"}
    )
    unknown_event = await api.call(
        "POST", "/api/v1/webhooks", token=rhea, json={**good, "events": ["gate.exploded"]}
    )
    no_events = await api.call("POST", "/api/v1/webhooks", token=rhea, json={**good, "events": []})
    not_theirs = await api.call("DELETE", f"/api/v1/webhooks/{theirs['id']}", token=rhea)
    not_their_log = await api.call("GET", f"/api/v1/webhooks/{theirs['id']}/deliveries", token=rhea)
    no_such = await api.call("DELETE", "/api/v1/webhooks/not-an-id", token=rhea)

    assert no_token.status == 401 and no_token.error["code"] == "NOT_AUTHENTICATED"
    assert wrong_scope.status == 403 and "webhooks:write" in wrong_scope.error["message"]
    assert no_permission.status == 403 and "can_create_release" in no_permission.error["message"]
    for refused in (not_http, not_a_url):
        assert refused.status == 422 and "body.url" in refused.error["details"]["fields"]
    assert "http" in not_http.error["details"]["fields"]["body.url"]
    assert (
        unknown_event.status == 422 and "body.events.0" in unknown_event.error["details"]["fields"]
    )
    assert no_events.status == 422 and "body.events" in no_events.error["details"]["fields"]
    for unknown in (not_theirs, not_their_log, no_such):
        assert unknown.status == 404 and "GET /api/v1/webhooks" in unknown.error["message"]
    assert await stored(api, "webhooks") == before


async def test_the_webhook_routes_are_in_the_openapi_document_with_their_scope(
    api: ApiClient,
) -> None:
    document = (await api.call("GET", "/api/v1/openapi.json")).body
    paths = document["paths"]
    schemas = document["components"]["schemas"]

    assert set(paths["/api/v1/webhooks"]) == {"get", "post"}
    assert set(paths["/api/v1/webhooks/{id}"]) == {"delete"}
    assert set(paths["/api/v1/webhooks/{id}/deliveries"]) == {"get"}
    create = paths["/api/v1/webhooks"]["post"]
    assert create["x-scopes"] == ["webhooks:write"]
    assert "X-Releasebot-Signature" in create["description"]
    refs = _refs(document)
    assert all(ref.rsplit("/", 1)[-1] in schemas for ref in refs)
