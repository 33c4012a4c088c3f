"""Editing releases through the API: the Slack forms' core calls behind REST routes, so a
change made here is the same change (timeline, approval DMs) and every refusal leaves
storage as it was."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from core.models.release import ApprovalStatus, GateStatus
from core.services.approvals import pending_in
from tests.api.conftest import ApiClient

SIGN_OFFS = "REL-2026.12"  # payments and checkout: dana's squad sees it
HIDDEN = "REL-2027.01"  # identity, platform squad only
GATE_PATH = f"/api/v1/releases/{SIGN_OFFS}/products/payments-api/gates"
UAT = f"{GATE_PATH}/{quote('UAT sign-off')}/milestones/uat-signoff/approval"
REL = "/api/v1/releases"


async def document(api: ApiClient, release_id: str = SIGN_OFFS) -> dict[str, Any]:
    """The stored release, once what earlier changes caused has run."""
    await api.bot.runtime.deps.settle()
    found = await api.bot.runtime.db["releases"].find_one({"release_id": release_id})
    assert found is not None
    return dict(found)


async def actions(api: ApiClient, release_id: str = SIGN_OFFS) -> list[str]:
    """The release's timeline actions, newest first."""
    await api.bot.runtime.deps.settle()
    release = await api.bot.runtime.repos.releases.get(release_id)
    return [
        e.action for e in await api.bot.runtime.repos.timeline.for_release(release.id, limit=50)
    ]


async def user_id(api: ApiClient, username: str) -> str:
    return (await api.bot.runtime.repos.users.get_by_username(username)).id


def in_a_week() -> str:
    return (date.today() + timedelta(days=7)).isoformat()


# --- the routes, one by one --------------------------------------------------------------------


async def test_a_release_is_created_as_the_slack_form_creates_it(api: ApiClient) -> None:
    token = await api.api_token("rhea", "releases:write")
    body = {"release_id": "REL-2027.02", "release_name": "February", "release_date": in_a_week()}
    made = await api.call("POST", REL, token=token, json={**body, "squad_ids": ["payments"]})
    assert made.status == 201, made.body
    assert made.body["release_id"] == "REL-2027.02" and made.body["created_by"]
    assert await actions(api, "REL-2027.02") == ["release.created"]

    again = await api.call("POST", REL, token=token, json=body)
    assert again.status == 409 and again.error["code"] == "DUPLICATE"
    assert await actions(api, "REL-2027.02") == ["release.created"]


async def test_a_past_release_date_needs_confirming(api: ApiClient) -> None:
    token = await api.login("rhea")
    past = (date.today() - timedelta(days=3)).isoformat()
    body = {"release_id": "REL-OLD", "release_name": "Old", "release_date": past}
    refused = await api.call("POST", REL, token=token, json=body)
    assert refused.status == 409
    assert refused.error["details"]["fields"] == {"body.release_date": "In the past"}
    assert "confirm_past_date" in refused.error["message"]
    assert await api.bot.runtime.db["releases"].find_one({"release_id": "REL-OLD"}) is None
    made = await api.call("POST", REL, token=token, json={**body, "confirm_past_date": True})
    assert made.status == 201 and made.body["release_date"] == past


async def test_products_and_fixed_versions(api: ApiClient) -> None:
    token = await api.login("rhea")
    added = await api.call(
        "POST",
        f"{REL}/{SIGN_OFFS}/products",
        token=token,
        json={"application_id": "payments", "product_id": "payments-fraud"},
    )
    assert added.status == 201, added.body
    product = next(p for p in added.body["products"] if p["product_id"] == "payments-fraud")
    assert product["product_name"] == "Fraud Scoring"
    assert product["participating_squad_ids"] == ["payments"]
    twice = await api.call(
        "POST",
        f"{REL}/{SIGN_OFFS}/products",
        token=token,
        json={"application_id": "payments", "product_id": "payments-fraud"},
    )
    assert twice.status == 409 and twice.error["details"]["fields"] == {
        "product_id": "Already in this release"
    }
    version = {"version_key": "FRD-1.0", "version_name": "Fraud 1.0"}
    patched = await api.call(
        "PATCH",
        f"{REL}/{SIGN_OFFS}/products/payments-fraud",
        token=token,
        json={"fixed_version": version},
    )
    assert patched.status == 200
    product = next(p for p in patched.body["products"] if p["product_id"] == "payments-fraud")
    assert product["fixed_version"] == {**version, "status": "UNRELEASED"}
    assert (await actions(api))[:2] == ["product.fixed_version", "product.added"]


async def test_gates_are_added_and_changed_with_the_forms_rules(api: ApiClient) -> None:
    token = await api.api_token("rhea", "gates:write")
    rhea = await user_id(api, "rhea")
    added = await api.call(
        "POST",
        GATE_PATH,
        token=token,
        json={"gate_name": "DAST scan", "order": 30, "owner_id": rhea},
    )
    assert added.status == 201, added.body
    changed = await api.call(
        "PATCH",
        f"{GATE_PATH}/dast%20SCAN",  # any case, as in Slack
        token=token,
        json={"gate_status": "PASSED", "comment": "No findings"},
    )
    assert changed.status == 200, changed.body
    gate = next(
        g
        for p in changed.body["products"]
        for g in p["quality_gates"]
        if g["gate_name"] == "DAST scan"
    )
    assert (gate["gate_status"], gate["comment"], gate["owner_id"]) == (
        "PASSED",
        "No findings",
        rhea,
    )
    assert (await actions(api))[:2] == ["gate.updated", "gate.added"]

    # Waiving is an approval manager's call (rhea is not), as in the Slack form.
    before = await document(api)
    waived = await api.call(
        "PATCH", f"{GATE_PATH}/DAST%20scan", token=token, json={"gate_status": "WAIVED"}
    )
    assert waived.status == 403 and waived.error["code"] == "PERMISSION_DENIED"
    duplicate = await api.call("POST", GATE_PATH, token=token, json={"gate_name": "dast scan"})
    assert duplicate.status == 409
    assert duplicate.error["details"]["fields"] == {"gate_name": "A gate with this name exists"}
    assert await document(api) == before


async def test_an_owner_must_be_a_user(api: ApiClient) -> None:
    token = await api.login("rhea")
    before = await document(api)
    for owner in ("nobody", "64b000000000000000000000"):
        answer = await api.call(
            "POST", GATE_PATH, token=token, json={"gate_name": "Lint", "owner_id": owner}
        )
        assert answer.status == 422, owner
        assert answer.error["details"]["fields"] == {"body.owner_id": "No such user"}
        assert owner in answer.error["message"]
    assert await document(api) == before


async def test_a_milestone_needing_approval_asks_its_approvers_in_slack(api: ApiClient) -> None:
    token = await api.api_token("rhea", "releases:write")
    start = date.today() + timedelta(days=30)
    milestone = {
        "milestone_key": "prod-signoff",
        "milestone_name": "Prod sign-off",
        "environment": "prod",
        "start_date": f"{start}T09:00:00Z",
        "end_date": f"{start}T17:00:00Z",
        "owner_id": await user_id(api, "rhea"),
        "approval_required": True,
        "requires_approval_manager": True,
    }
    added = await api.call(
        "POST", f"{GATE_PATH}/Security%20scan/milestones", token=token, json=milestone
    )
    assert added.status == 201, added.body
    await api.bot.runtime.deps.settle()
    asked = [c for c in api.bot.slack.of("chat.postMessage") if "Prod sign-off" in str(c.params)]
    assert sorted(c.params["channel"] for c in asked) == ["UADMIN", "UARJUN"]

    moved = await api.call(
        "PATCH",
        f"{GATE_PATH}/Security%20scan/milestones/prod-signoff",
        token=token,
        json={"status": "IN_PROGRESS", "milestone_name": "Production sign-off"},
    )
    assert moved.status == 200, moved.body
    assert (await actions(api))[:2] == ["milestone.updated", "milestone.added"]

    before = await document(api)
    backwards = await api.call(
        "PATCH",
        f"{GATE_PATH}/Security%20scan/milestones/prod-signoff",
        token=token,
        json={"end_date": f"{start - timedelta(days=2)}T09:00:00Z"},
    )
    assert backwards.status == 422, backwards.body
    unknown = await api.call(
        "PATCH",
        f"{GATE_PATH}/Security%20scan/milestones/nope",
        token=token,
        json={"status": "DONE"},
    )
    assert unknown.status == 404 and unknown.error["details"]["kind"] == "milestone"
    assert await document(api) == before


async def test_approving_through_the_api_updates_every_approval_dm(api: ApiClient) -> None:
    release = await api.bot.runtime.repos.releases.get(SIGN_OFFS)
    # The seeded approvals are asked for as a new one is (seeds record no events).
    await api.bot.runtime.deps.notifier.request_decisions(
        api.bot.runtime.client, release, pending_in(release)
    )
    asked = [c.params["channel"] for c in api.bot.slack.of("chat.postMessage")]
    assert {"UADMIN", "UARJUN"} <= set(asked)
    token = await api.api_token("arjun", "approvals:write")

    approved = await api.call(
        "POST", f"{UAT}/approve", token=token, json={"comment": "Evidence ok"}
    )

    assert approved.status == 200, approved.body
    updates = await api.bot.slack.wait_for("chat.update", 2)
    for update in updates:
        assert "*Approved* by arjun" in str(update.params)
    stored = await api.bot.runtime.repos.releases.get(SIGN_OFFS)
    approval = stored.product("payments-api").gate("UAT sign-off").milestone("uat-signoff").approval
    assert approval.status is ApprovalStatus.APPROVED
    assert (approval.approver_username, approval.comment) == ("arjun", "Evidence ok")
    assert (await actions(api))[0] == "approval.approved"

    # Decided once: a second decision is 409 naming who decided and when; nothing changes.
    before = await document(api)
    again = await api.call(
        "POST", f"{UAT}/reject", token=await api.login("admin"), json={"comment": "no"}
    )
    assert again.status == 409
    error = again.error
    assert error["code"] == "RULE_VIOLATION"
    decided_at = approval.approved_at
    assert decided_at is not None
    assert f"already approved by arjun at {decided_at:%Y-%m-%d %H:%M} UTC" in error["message"]
    assert error["details"]["decided_by"] == "arjun"
    assert error["details"]["decided_at"] == decided_at.isoformat()
    assert await document(api) == before


async def test_rejecting_needs_a_reason_as_in_slack(api: ApiClient) -> None:
    token = await api.api_token("arjun", "approvals:write")
    stage = UAT.replace("uat-signoff", "stage-signoff")
    before = await document(api)
    for body in ({}, {"comment": "   "}):
        refused = await api.call("POST", f"{stage}/reject", token=token, json=body)
        assert refused.status == 422
        assert refused.error["details"]["fields"] == {"comment": "A rejection needs a reason"}
    assert await document(api) == before
    rejected = await api.call(
        "POST", f"{stage}/reject", token=token, json={"comment": "No evidence"}
    )
    assert rejected.status == 200
    assert (await actions(api))[0] == "approval.rejected"


async def test_a_managers_sign_off_is_decided_only_by_an_approval_manager(
    api: ApiClient,
) -> None:
    """rhea may manage gates, but the sign-offs need an approval manager (the core's rule)."""
    stage = UAT.replace("uat-signoff", "stage-signoff")
    before = await document(api)
    refused = await api.call("POST", f"{stage}/approve", token=await api.login("rhea"), json={})
    assert refused.status == 403 and refused.error["code"] == "PERMISSION_DENIED"
    assert "approval manager" in refused.error["message"]
    assert await document(api) == before
    answer = await api.call("POST", f"{stage}/approve", token=await api.login("admin"), json={})
    assert answer.status == 200
    assert (await actions(api))[0] == "approval.approved"


async def test_runbooks_and_their_tasks(api: ApiClient) -> None:
    token = await api.api_token("rhea", "releases:write")
    dana = await user_id(api, "dana")
    runbook = {
        "runbook_name": "Rollback",
        "tasks": [
            {"task_name": "Freeze deploys", "owner_id": dana, "duration_minutes": 5},
            {"task_name": "Roll back", "depends_on_task_names": ["Freeze deploys"]},
        ],
    }
    added = await api.call("POST", f"{REL}/{SIGN_OFFS}/runbooks", token=token, json=runbook)
    assert added.status == 201, added.body
    made = next(r for r in added.body["runbooks"] if r["runbook_name"] == "Rollback")
    assert [t["task_name"] for t in made["tasks"]] == ["Freeze deploys", "Roll back"]
    done = await api.call(
        "PATCH",
        f"{REL}/{SIGN_OFFS}/runbooks/{made['runbook_id']}/tasks/freeze%20deploys",
        token=token,
        json={"status": "DONE"},
    )
    assert done.status == 200, done.body
    task = next(r for r in done.body["runbooks"] if r["runbook_name"] == "Rollback")["tasks"][0]
    assert task["status"] == "DONE"
    assert (await actions(api))[:2] == ["task.updated", "runbook.added"]

    before = await document(api)
    twice = await api.call("POST", f"{REL}/{SIGN_OFFS}/runbooks", token=token, json=runbook)
    assert twice.status == 409
    forged = {
        "runbook_name": "With a file",
        "tasks": [
            {
                "task_name": "Step",
                "attachment_refs": [
                    {
                        "attachment_id": "x",
                        "label": "forged",
                        "added_by": dana,
                        "added_at": "2026-01-01T00:00:00Z",
                    }
                ],
            }
        ],
    }
    refused = await api.call("POST", f"{REL}/{SIGN_OFFS}/runbooks", token=token, json=forged)
    assert refused.status == 422
    assert list(refused.error["details"]["fields"]) == ["body.tasks.0.attachment_refs"]
    assert await document(api) == before


async def test_the_change_ticket_and_its_ctasks(api: ApiClient) -> None:
    token = await api.api_token("rhea", "releases:write")
    path = f"{REL}/{HIDDEN}/change"
    made = await api.call(
        "PUT",
        path,
        token=token,
        json={"change_id": "CHG0040001", "ctasks": [{"ctask_id": "CTASK1", "description": "DB"}]},
    )
    assert made.status == 200, made.body
    version = made.body["version"]
    added = await api.call(
        "POST", f"{path}/tasks", token=token, json={"ctask_id": "CTASK2", "status": "DOING"}
    )
    assert added.status == 201, added.body
    assert [c["ctask_id"] for c in added.body["chg"]["ctasks"]] == ["CTASK1", "CTASK2"]
    assert (await actions(api, HIDDEN))[:2] == ["change.updated", "change.created"]

    before = await document(api, HIDDEN)
    other = await api.call("PUT", path, token=token, json={"change_id": "CHG0049999"})
    assert other.status == 409 and "CHG0040001" in other.error["message"]
    stale = await api.call(
        "PUT", path, token=token, json={"change_id": "CHG0040001", "expected_version": version}
    )
    assert stale.status == 409 and stale.error["code"] == "CONFLICT"
    assert "expected_version" in stale.error["message"] and "form" not in stale.error["message"]
    duplicate = await api.call("POST", f"{path}/tasks", token=token, json={"ctask_id": "CTASK1"})
    assert duplicate.status == 422
    assert await document(api, HIDDEN) == before
    # Updating the CHG keeps what a CTASK leaves out (the Slack form's merge).
    kept = await api.call(
        "PUT",
        path,
        token=token,
        json={"change_id": "CHG0040001", "status": "SCHEDULED", "ctasks": [{"ctask_id": "CTASK2"}]},
    )
    assert kept.status == 200
    assert kept.body["chg"]["ctasks"] == [{**added.body["chg"]["ctasks"][1], "status": "DOING"}]


async def test_a_ctask_needs_a_change_ticket_first(api: ApiClient) -> None:
    token = await api.login("rhea")
    answer = await api.call(
        "POST", f"{REL}/{HIDDEN}/change/tasks", token=token, json={"ctask_id": "C1"}
    )
    assert answer.status == 409 and "PUT" in answer.error["message"]


async def test_a_file_is_linked_to_a_gate(api: ApiClient) -> None:
    token = await api.api_token("rhea", "releases:write")
    file = {
        "file_name": "zap-report.html",
        "file_type": "text/html",
        "file_size": 2048,
        "file_url": "https://ci.example.com/zap/42/report.html",
        "sha256": "ab" * 32,
    }
    body = {"file": file, "target": {"product_id": "payments-api", "gate_name": "security scan"}}
    linked = await api.call("POST", f"{REL}/{SIGN_OFFS}/attachments", token=token, json=body)
    assert linked.status == 201, linked.body
    assert linked.body["attachment"]["sha256"] == "ab" * 32
    assert "links" not in linked.body["attachment"]
    gate = linked.body["release"]["products"][0]["quality_gates"][0]
    assert gate["gate_name"] == "Security scan"
    assert [r["label"] for r in gate["attachment_refs"]] == ["zap-report.html"]
    assert (await actions(api))[0] == "attachment.linked"

    before = await document(api)
    nowhere = await api.call(
        "POST",
        f"{REL}/{SIGN_OFFS}/attachments",
        token=token,
        json={"file": file, "target": {"gate_name": "Security scan"}},
    )
    assert nowhere.status == 422 and nowhere.error["details"]["fields"] == {
        "product_id": "Required"
    }
    bad = await api.call(
        "POST",
        f"{REL}/{SIGN_OFFS}/attachments",
        token=token,
        json={"file": {**file, "sha256": "nope"}},
    )
    assert bad.status == 422 and list(bad.error["details"]["fields"]) == ["body.file.sha256"]
    assert await document(api) == before


# --- refusals, route by route ------------------------------------------------------------------

# (method, path, body, the scope it needs); each would change REL-2026.12 if allowed.
EDITS: list[tuple[str, str, dict[str, Any], str]] = [
    (
        "POST",
        f"{REL}/{SIGN_OFFS}/products",
        {"application_id": "payments", "product_id": "payments-fraud"},
        "releases:write",
    ),
    (
        "PATCH",
        f"{REL}/{SIGN_OFFS}/products/payments-api",
        {"fixed_version": {"version_key": "X-1", "version_name": "X"}},
        "releases:write",
    ),
    ("POST", GATE_PATH, {"gate_name": "Lint"}, "gates:write"),
    ("PATCH", f"{GATE_PATH}/Security%20scan", {"gate_status": "FAILED"}, "gates:write"),
    (
        "POST",
        f"{GATE_PATH}/Security%20scan/milestones",
        {
            "milestone_key": "m",
            "milestone_name": "M",
            "environment": "dev",
            "start_date": "2031-01-01T09:00:00Z",
            "end_date": "2031-01-01T10:00:00Z",
        },
        "releases:write",
    ),
    (
        "PATCH",
        f"{GATE_PATH}/Security%20scan/milestones/sast-dev",
        {"milestone_name": "Renamed"},
        "releases:write",
    ),
    ("POST", f"{UAT}/approve", {}, "approvals:write"),
    ("POST", f"{UAT}/reject", {"comment": "no"}, "approvals:write"),
    ("POST", f"{REL}/{SIGN_OFFS}/runbooks", {"runbook_name": "R"}, "releases:write"),
    (
        "PUT",
        f"{REL}/{SIGN_OFFS}/change",
        {"change_id": "CHG0031245", "status": "CLOSED"},
        "releases:write",
    ),
    ("POST", f"{REL}/{SIGN_OFFS}/change/tasks", {"ctask_id": "CTASK-NEW"}, "releases:write"),
    (
        "POST",
        f"{REL}/{SIGN_OFFS}/attachments",
        {
            "file": {
                "file_name": "f",
                "file_size": 1,
                "file_url": "https://x.example/f",
                "sha256": "cd" * 32,
            }
        },
        "releases:write",
    ),
]


async def test_every_edit_is_refused_without_a_token_scope_or_permission(api: ApiClient) -> None:
    """No token 401; a token without the route's scope 403 (even admin's); a person without
    the permission (dana, who sees the release) 403 — storage unchanged every time."""
    everything = ("releases:read", "releases:write", "gates:write", "approvals:write")
    narrow = {
        scope: await api.api_token("admin", *(s for s in everything if s != scope))
        for scope in {e[3] for e in EDITS}
    }
    dana = await api.login("dana")
    before = await document(api)
    for method, path, body, scope in EDITS:
        anonymous = await api.call(method, path, json=body)
        assert anonymous.status == 401, path
        scoped = await api.call(method, path, token=narrow[scope], json=body)
        assert scoped.status == 403, path
        assert f"'{scope}' scope" in scoped.error["message"]
        unpermitted = await api.call(method, path, token=dana, json=body)
        assert unpermitted.status == 403, (path, unpermitted.body)
        assert unpermitted.error["code"] == "PERMISSION_DENIED"
    assert await document(api) == before
    assert await api.bot.runtime.db["attachments"].count_documents({}) == 0


async def test_another_squads_release_is_404_like_an_unknown_one(api: ApiClient) -> None:
    """A gatekeeper of the payments squad may manage gates, but not see the identity
    release: editing it answers as for an id that does not exist."""
    admin = await api.login("admin")
    role = await api.call(
        "POST",
        "/api/v1/roles",
        token=admin,
        json={
            "role_name": "Gatekeeper",
            "can_manage_quality_gates": True,
            "can_manage_runbooks": True,
            "is_approval_manager": True,
        },
    )
    assert role.status == 201, role.body
    made = await api.call(
        "POST",
        "/api/v1/users",
        token=admin,
        json={
            "username": "gina",
            "full_name": "Gina Gate",
            "email": "gina@example.com",
            "password": "gina-password",
            "role_ids": [role.body["id"]],
            "assigned_squad_ids": ["payments"],
        },
    )
    assert made.status == 201, made.body
    gina = await api.login("gina", "gina-password")
    before = await document(api, HIDDEN)
    for release in (HIDDEN, "REL-NOPE"):
        for method, path, body in (
            ("POST", f"{REL}/{release}/products/identity-auth/gates", {"gate_name": "Lint"}),
            ("PUT", f"{REL}/{release}/change", {"change_id": "CHG1"}),
            ("POST", f"{REL}/{release}/runbooks", {"runbook_name": "R"}),
            ("POST", f"{REL}/{release}/products/identity-auth/gates/UAT%20sign-off"
             "/milestones/uat-signoff/approval/approve", {}),
        ):  # fmt: skip
            answer = await api.call(method, path, token=gina, json=body)
            assert answer.status == 404, (path, answer.body)
            assert answer.error["details"]["kind"] == "release"
            assert HIDDEN not in answer.error["details"]["suggestions"]
    assert await document(api, HIDDEN) == before
    # Her own squad's release she may edit.
    mine = await api.call("POST", GATE_PATH, token=gina, json={"gate_name": "Lint"})
    assert mine.status == 201


async def test_bodies_are_validated_naming_the_field(api: ApiClient) -> None:
    token = await api.login("rhea")
    before = await document(api)
    cases: list[tuple[str, str, Any, str]] = [
        (
            "POST",
            REL,
            {"release_id": "has space", "release_name": "x", "release_date": in_a_week()},
            "body.release_id",
        ),
        (
            "POST",
            REL,
            {"release_id": "R-1", "release_name": "x", "release_date": "2027-02-31"},
            "body.release_date",
        ),
        ("POST", GATE_PATH, {"gate_name": "Lint", "colour": "red"}, "body.colour"),
        ("PATCH", f"{GATE_PATH}/Security%20scan", {"gate_status": "DONE"}, "body.gate_status"),
        (
            "POST",
            f"{GATE_PATH}/Security%20scan/milestones",
            {"milestone_key": "m"},
            "body.milestone_name",
        ),
        ("PATCH", f"{REL}/{SIGN_OFFS}/products/payments-api", {}, "body.fixed_version"),
        (
            "PUT",
            f"{REL}/{SIGN_OFFS}/change",
            {
                "change_id": "CHG0031245",
                "attachment_refs": [
                    {
                        "attachment_id": "a",
                        "label": "l",
                        "added_by": "u",
                        "added_at": "2026-01-01T00:00:00Z",
                    }
                ],
            },
            "body.attachment_refs",
        ),
    ]
    for method, path, body, field in cases:
        answer = await api.call(method, path, token=token, json=body)
        assert answer.status == 422, (path, answer.body)
        assert field in answer.error["details"]["fields"], (field, answer.body)
        assert field in answer.error["message"]
    assert await document(api) == before


async def test_every_editing_route_is_documented_with_the_cores_drafts(api: ApiClient) -> None:
    found = (await api.call("GET", "/api/v1/openapi.json")).body
    ids = [op["operationId"] for ops in found["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))

    def body_of(method: str, path: str) -> str:
        schema = found["paths"][path][method]["requestBody"]["content"]["application/json"]
        return str(schema["schema"]["$ref"]).rsplit("/", 1)[-1]

    gates = "/api/v1/releases/{release}/products/{product}/gates"
    assert body_of("post", gates) == "GateDraft"
    assert body_of("patch", gates + "/{gate}") == "GateChange"
    assert body_of("post", gates + "/{gate}/milestones") == "MilestoneDraft"
    assert body_of("post", "/api/v1/users") == "UserDraft"
    assert body_of("post", "/api/v1/roles") == "RoleDraft"
    scopes = {
        (method, path): op["x-scopes"]
        for path, ops in found["paths"].items()
        for method, op in ops.items()
    }
    assert scopes[("post", gates)] == ["gates:write"]
    assert scopes[("post", "/api/v1/releases")] == ["releases:write"]
    assert scopes[("post", gates + "/{gate}/milestones/{milestone}/approval/approve")] == [
        "approvals:write"
    ]
    assert scopes[("get", "/api/v1/users")] == ["admin"]
    statuses = found["components"]["schemas"]["GateStatus"]["enum"]
    assert GateStatus.WAIVED.value in statuses
