"""A pipeline waits for approval over real HTTP: every milestone's approval in a release with
its state, who decided, when and why; the same visibility as Slack."""

from __future__ import annotations

from core.models.release import Decision
from core.seeds.demo import IN_PROGRESS_RELEASE, PENDING_APPROVALS_RELEASE, READY_RELEASE
from tests.api.conftest import ApiClient
from tests.bot.test_reading import actor

READ = "approvals:read"


def path(release_id: str, query: str = "") -> str:
    return f"/api/v1/releases/{release_id}/approvals{query}"


async def test_every_milestones_approval_is_listed_with_its_state(api: ApiClient) -> None:
    token = await api.api_token("rhea", READ)

    listed = await api.call("GET", path(PENDING_APPROVALS_RELEASE), token=token)

    assert listed.status == 200, listed.body
    assert listed.body["release_id"] == PENDING_APPROVALS_RELEASE
    release = await api.bot.runtime.repos.releases.get(PENDING_APPROVALS_RELEASE)
    expected = [
        (p.product_id, g.gate_name, m.milestone_key, m.approval.status.value)
        for p, g in release.gates()
        for m in g.milestones
    ]
    approvals = listed.body["approvals"]
    assert [
        (a["product_id"], a["gate_name"], a["milestone_key"], a["status"]) for a in approvals
    ] == expected
    uat = next(a for a in approvals if a["milestone_key"] == "uat-signoff")
    assert uat == {
        **uat,
        "product_name": "Payments API",
        "gate_name": "UAT sign-off",
        "milestone_name": "UAT sign-off",
        "environment": "uat",
        "status": "PENDING",
        "required": True,
        "requires_approval_manager": True,
        "decided_by": None,
        "decided_at": None,
        "comment": None,
    }
    assert uat["requested_at"] is not None
    assert any(a["status"] == "NOT_REQUIRED" and not a["required"] for a in approvals)


async def test_a_pipeline_sees_the_decision_once_it_is_made(api: ApiClient) -> None:
    token = await api.api_token("rhea", READ)
    pending = path(PENDING_APPROVALS_RELEASE, "?status=PENDING")
    before = await api.call("GET", pending, token=token)
    assert {a["milestone_key"] for a in before.body["approvals"]} == {
        "uat-signoff",
        "stage-signoff",
    }

    arjun = await actor(api.bot, "arjun")
    await api.bot.runtime.deps.services.approvals.decide(
        arjun, PENDING_APPROVALS_RELEASE, "payments-api", "UAT sign-off", "uat-signoff",
        Decision.APPROVE, "Evidence checked",
    )  # fmt: skip

    after = await api.call("GET", pending, token=token)
    approved = await api.call(
        "GET", path(PENDING_APPROVALS_RELEASE, "?status=APPROVED"), token=token
    )
    assert [a["milestone_key"] for a in after.body["approvals"]] == ["stage-signoff"]
    [decided] = approved.body["approvals"]
    assert decided["milestone_key"] == "uat-signoff"
    assert (decided["decided_by"], decided["decided_by_user_id"]) == ("arjun", arjun.user_id)
    assert decided["decided_at"] is not None and decided["comment"] == "Evidence checked"


async def test_a_decided_approval_of_the_seed_shows_who_decided(api: ApiClient) -> None:
    token = await api.login("dana")  # a person: every scope
    listed = await api.call("GET", path(READY_RELEASE), token=token)
    # dana is not in the checkout squad: 404, as for an unknown release.
    assert listed.status == 404
    admin = await api.login("admin")
    listed = await api.call("GET", path(READY_RELEASE, "?status=APPROVED"), token=admin)
    [approved] = listed.body["approvals"]
    assert approved["decided_by"] == "arjun" and approved["comment"] == "UAT evidence reviewed."


async def test_refusals_no_token_wrong_scope_hidden_release_bad_filter(api: ApiClient) -> None:
    unsigned = await api.call("GET", path(PENDING_APPROVALS_RELEASE))
    narrow = await api.call(
        "GET", path(PENDING_APPROVALS_RELEASE), token=await api.api_token("rhea", "gates:write")
    )
    dana = await api.api_token("dana", READ)
    hidden = await api.call("GET", path(IN_PROGRESS_RELEASE), token=dana)
    unknown = await api.call("GET", path("REL-NOPE"), token=dana)
    bad = await api.call("GET", path(PENDING_APPROVALS_RELEASE, "?status=MAYBE"), token=dana)

    assert unsigned.status == 401
    assert narrow.status == 403 and "'approvals:read' scope" in narrow.error["message"]
    assert hidden.status == unknown.status == 404
    assert hidden.error["message"] == unknown.error["message"].replace(
        "REL-NOPE", IN_PROGRESS_RELEASE
    )
    assert IN_PROGRESS_RELEASE not in hidden.error["details"]["suggestions"]
    assert bad.status == 422 and list(bad.error["details"]["fields"]) == ["query.status"]
