"""Approval policies through the API over real HTTP: a milestone created with a policy, the
approvals list showing the policy, progress and votes, an expired approval asked for again
(the bot's clock moved on), and the refusals, storage left as it was."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from bot.devtools.harness import local_bot
from storage.engine import Database
from tests.api.conftest import ApiClient
from tests.api.test_api_editing import actions, document, user_id
from tests.api.test_api_webhooks import MovableClock

REL = "REL-2026.12"
GATE = f"/api/v1/releases/{REL}/products/payments-api/gates/{quote('Security scan')}"
MILESTONE = f"{GATE}/milestones/prod-go"
QA, PAY = "QA Lead", "Payments Owner"
NEW_MILESTONE = {
    "milestone_key": "prod-go",
    "milestone_name": "Prod go",
    "environment": "prod",
    "start_date": "2031-01-01T09:00:00Z",
    "end_date": "2031-01-01T10:00:00Z",
    "approval_required": True,
}
POLICY = {
    "rules": [{"role": "qa lead"}, {"role": PAY, "count": 2}],
    "expires_after_hours": 24,
}


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def api(db: Database, clock: MovableClock) -> AsyncIterator[ApiClient]:
    """As ``tests/api/conftest.py``'s, on a bot whose clock the test moves."""
    async with local_bot(db=db, clock=clock) as bot, aiohttp.ClientSession() as session:
        yield ApiClient(bot, session)


async def roles_granted(api: ApiClient) -> None:
    """As an admin would: QA Lead for arjun, Payments Owner for dana and admin."""
    admin = await api.login("admin")
    for name in (QA, PAY):
        made = await api.call("POST", "/api/v1/roles", token=admin, json={"role_name": name})
        assert made.status == 201, made.body
    for username, role in (("arjun", QA), ("dana", PAY), ("admin", PAY)):
        granted = await api.call(
            "PATCH", f"/api/v1/users/{username}", token=admin, json={"grant_roles": [role]}
        )
        assert granted.status == 200, granted.body


async def approvals(api: ApiClient, token: str) -> dict[str, Any]:
    listed = await api.call("GET", f"/api/v1/releases/{REL}/approvals", token=token)
    assert listed.status == 200, listed.body
    found: dict[str, Any] = next(
        a for a in listed.body["approvals"] if a["milestone_key"] == "prod-go"
    )
    return found


def stored_approval(release: dict[str, Any]) -> dict[str, Any]:
    product = next(p for p in release["products"] if p["product_id"] == "payments-api")
    gate = next(g for g in product["quality_gates"] if g["gate_name"] == "Security scan")
    approval: dict[str, Any] = next(
        m for m in gate["milestones"] if m["milestone_key"] == "prod-go"
    )["approval"]
    return approval


async def test_a_policy_is_stored_shown_with_votes_and_asked_for_again_once_expired(
    api: ApiClient, clock: MovableClock
) -> None:
    await roles_granted(api)
    rhea = await api.login("rhea")

    made = await api.call(
        "POST", f"{GATE}/milestones", token=rhea, json={**NEW_MILESTONE, "approval_policy": POLICY}
    )

    assert made.status == 201, made.body
    stored = stored_approval(await document(api))
    assert stored["policy"]["rules"] == [  # the role spelled as stored
        {"count": 1, "role": QA, "flags": []},
        {"count": 2, "role": PAY, "flags": []},
    ]
    assert (stored["status"], stored["policy"]["expires_after_hours"]) == ("PENDING", 24)

    for voter in ("arjun", "dana"):
        voted = await api.call(
            "POST", f"{MILESTONE}/approval/approve", token=await api.login(voter), json={}
        )
        assert voted.status == 200, voted.body
    shown = await approvals(api, rhea)

    assert shown["status"] == "PENDING"
    assert shown["policy"] == {
        "rules": [{"count": 1, "role": QA, "flags": []}, {"count": 2, "role": PAY, "flags": []}],
        "describe": "1 × QA Lead + 2 × Payments Owner",
        "expires_after_hours": 24,
        "withdraw_when_evidence_changes": None,
        "withdraws": True,  # a prod milestone
        "is_default": False,
    }
    assert shown["progress"] == [
        {"label": QA, "have": 1, "need": 1},
        {"label": PAY, "have": 1, "need": 2},
    ]
    assert [(v["username"], v["decision"], v["cast_by"]) for v in shown["votes"]] == [
        ("arjun", "APPROVE", None),
        ("dana", "APPROVE", None),
    ]
    assert QA in shown["votes"][0]["roles"] and PAY in shown["votes"][1]["roles"]
    rhea_id = await user_id(api, "rhea")
    assert (shown["requested_by"], shown["requested_by_user_id"]) == ("rhea", rhea_id)
    assert shown["expires_at"] is not None and shown["withdrawal"] is None
    summary = await api.call("GET", f"/api/v1/releases/{REL}/summary", token=rhea)
    [pending] = [m for m in summary.body["pending_approvals"] if m["milestone_key"] == "prod-go"]
    assert pending["approval_progress"] == f"{QA} 1/1 · {PAY} 1/2"
    assert pending["approval_policy"] == f"1 × {QA} + 2 × {PAY}"

    # Not expired: asking again is refused, nothing changes.
    before = await document(api)
    early = await api.call("POST", f"{MILESTONE}/approval/request", token=rhea)
    assert early.status == 409 and early.error["code"] == "RULE_VIOLATION"
    assert "only an expired approval can be asked for again" in early.error["message"]
    assert await document(api) == before

    clock.offset = timedelta(hours=25)
    assert await api.bot.runtime.deps.services.approvals.expire_due(clock()) == [REL]
    rhea = await api.login("rhea")  # signed in again: the clock moved a day on
    assert (await approvals(api, rhea))["status"] == "EXPIRED"

    again = await api.call("POST", f"{MILESTONE}/approval/request", token=rhea)

    assert again.status == 200, again.body
    shown = await approvals(api, rhea)
    assert (shown["status"], shown["votes"]) == ("PENDING", [])
    assert [p["have"] for p in shown["progress"]] == [0, 0]
    assert shown["requested_by"] == "rhea"
    assert (await actions(api))[0] == "approval.requested_again"


async def test_an_invalid_policy_is_refused_naming_the_field_and_nothing_is_stored(
    api: ApiClient,
) -> None:
    await roles_granted(api)
    rhea = await api.login("rhea")
    before = await document(api)

    too_many = await api.call(
        "POST",
        f"{GATE}/milestones",
        token=rhea,
        json={**NEW_MILESTONE, "approval_policy": {"rules": [{"role": QA, "count": 10}]}},
    )
    unknown = await api.call(
        "POST",
        f"{GATE}/milestones",
        token=rhea,
        json={**NEW_MILESTONE, "approval_policy": {"rules": [{"role": PAY}, {"role": "QA Leed"}]}},
    )
    twice = await api.call(
        "POST",
        f"{GATE}/milestones",
        token=rhea,
        json={
            **NEW_MILESTONE,
            "approval_policy": {"rules": [{"role": PAY}, {"role": "payments owner"}]},
        },
    )
    changed = await api.call(
        "PATCH",
        f"{GATE}/milestones/sast-dev",
        token=rhea,
        json={"approval_policy": {"rules": [{"role": "Auditor"}]}},
    )

    assert too_many.status == 422
    assert list(too_many.error["details"]["fields"]) == ["body.approval_policy.rules.0.count"]
    assert unknown.status == 422
    said = unknown.error["details"]["fields"]
    assert list(said) == ["body.approval_policy.rules.1.role"]
    assert said["body.approval_policy.rules.1.role"].startswith("No role 'QA Leed' — roles: ")
    assert QA in said["body.approval_policy.rules.1.role"]
    assert twice.status == 422
    assert twice.error["details"]["fields"] == {
        "body.approval_policy.rules.1": "'payments owner' appears twice; give it once"
    }
    assert changed.status == 422
    assert list(changed.error["details"]["fields"]) == ["body.approval_policy.rules.0.role"]
    assert await document(api) == before


async def test_the_openapi_document_shows_the_policy_and_the_request_route(
    api: ApiClient,
) -> None:
    doc = (await api.call("GET", "/api/v1/openapi.json")).body

    request = doc["paths"][
        "/api/v1/releases/{release}/products/{product}/gates/{gate}/milestones/{milestone}"
        "/approval/request"
    ]
    assert request["post"]["operationId"] == "request_approval_again"
    schemas = doc["components"]["schemas"]
    assert "approval_policy" in schemas["MilestoneDraft"]["properties"]
    assert "approval_policy" in schemas["MilestoneChange"]["properties"]
    assert {"count", "role", "flags"} <= set(schemas["QuorumRule"]["properties"])
    view = schemas["ApprovalView"]["properties"]
    assert {"policy", "progress", "votes", "requested_by", "expires_at", "withdrawal"} <= set(view)
