"""More editing over real HTTP: a task added to an existing runbook, a user's access changed
as one judged change, and a file whose link is refused — each refusal leaving storage as it
was."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from tests.api.conftest import ApiClient

REL = "/api/v1/releases/REL-2026.12"  # the demo's December release, with "Payments cutover"
RUNBOOK = f"{REL}/runbooks/{quote('Payments cutover')}"
USERS = "/api/v1/users"


async def stored(api: ApiClient, collection: str) -> list[dict[str, Any]]:
    """A collection's documents, once what earlier changes caused has run."""
    await api.bot.runtime.deps.settle()
    return await api.bot.runtime.db[collection].find({}).sort("_id", 1).to_list(length=None)


async def cutover(api: ApiClient) -> dict[str, Any]:
    await api.bot.runtime.deps.settle()
    release = await api.bot.runtime.db["releases"].find_one({"release_id": "REL-2026.12"})
    assert release is not None
    runbook: dict[str, Any] = next(
        r for r in release["runbooks"] if r["runbook_name"] == "Payments cutover"
    )
    return runbook


async def newest_action(api: ApiClient) -> str:
    await api.bot.runtime.deps.settle()
    release = await api.bot.runtime.repos.releases.get("REL-2026.12")
    [event] = await api.bot.runtime.repos.timeline.for_release(release.id, limit=1)
    return event.action


# --- a task added to a runbook ------------------------------------------------------------------


async def test_a_task_is_added_to_a_runbook_by_name_or_id(api: ApiClient) -> None:
    token = await api.api_token("rhea", "releases:write")
    dana = (await api.bot.runtime.repos.users.get_by_username("dana")).id
    task = {
        "task_name": "Smoke test payments",
        "owner_id": dana,
        "duration_minutes": 15,
        "depends_on_task_names": ["Unfreeze ledger writes"],
    }

    added = await api.call("POST", f"{RUNBOOK}/tasks", token=token, json=task)

    assert added.status == 201, added.body
    [runbook] = [r for r in added.body["runbooks"] if r["runbook_name"] == "Payments cutover"]
    assert runbook["tasks"][-1]["task_name"] == "Smoke test payments"
    assert runbook["tasks"][-1]["owner_id"] == dana
    assert runbook["tasks"][-1]["status"] == "TODO"
    assert (await cutover(api))["tasks"][-1]["task_name"] == "Smoke test payments"
    assert await newest_action(api) == "task.added"

    by_id = await api.call(
        "POST",
        f"{REL}/runbooks/{runbook['runbook_id']}/tasks",
        token=token,
        json={"task_name": "Close the bridge call"},
    )
    assert by_id.status == 201, by_id.body
    names = [t["task_name"] for t in (await cutover(api))["tasks"]]
    assert names[-2:] == ["Smoke test payments", "Close the bridge call"]


async def test_a_refused_task_changes_nothing_and_says_why(api: ApiClient) -> None:
    token = await api.login("rhea")
    before = await stored(api, "releases")
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        (RUNBOOK, {"task_name": "freeze LEDGER writes"}, 409, "task_name"),
        (RUNBOOK, {"task_name": "T", "depends_on_task_names": ["Reboot"]}, 422, ""),
        (RUNBOOK, {"task_name": "T", "owner_id": "64b000000000000000000000"}, 422, ""),
        (
            RUNBOOK,
            {
                "task_name": "T",
                "scheduled_start": "2031-01-01T10:00:00Z",
                "scheduled_end": "2031-01-01T09:00:00Z",
            },
            422,
            "scheduled_end",
        ),
        (
            RUNBOOK,
            {
                "task_name": "T",
                "attachment_refs": [
                    {
                        "attachment_id": "x",
                        "label": "forged",
                        "added_by": "u",
                        "added_at": "2026-01-01T00:00:00Z",
                    }
                ],
            },
            422,
            "body.attachment_refs",
        ),
        (f"{REL}/runbooks/Rollback", {"task_name": "T"}, 404, "runbook_id"),
        ("/api/v1/releases/REL-NOPE/runbooks/x", {"task_name": "T"}, 404, ""),
    ]
    for path, body, status, field in cases:
        answer = await api.call("POST", f"{path}/tasks", token=token, json=body)
        assert answer.status == status, (body, answer.body)
        if field:
            assert field in answer.error["details"]["fields"], answer.body
    owner = await api.call(
        "POST", f"{RUNBOOK}/tasks", token=token, json={"task_name": "T", "owner_id": "nobody"}
    )
    assert owner.error["details"]["fields"] == {"body.owner_id": "No such user"}
    assert await stored(api, "releases") == before


async def test_adding_a_task_needs_the_scope_and_the_permission(api: ApiClient) -> None:
    """No token 401; admin's token without releases:write 403; dana (who sees the release
    but may not manage runbooks) 403."""
    narrow = await api.api_token("admin", "releases:read", "gates:write", "approvals:write")
    dana = await api.login("dana")
    body = {"task_name": "Sneaky"}
    before = await stored(api, "releases")

    assert (await api.call("POST", f"{RUNBOOK}/tasks", json=body)).status == 401
    scoped = await api.call("POST", f"{RUNBOOK}/tasks", token=narrow, json=body)
    assert scoped.status == 403 and "'releases:write' scope" in scoped.error["message"]
    refused = await api.call("POST", f"{RUNBOOK}/tasks", token=dana, json=body)
    assert refused.status == 403 and refused.error["code"] == "PERMISSION_DENIED"
    assert await stored(api, "releases") == before


async def test_the_task_route_is_in_the_openapi_document(api: ApiClient) -> None:
    doc = await api.call("GET", "/api/v1/openapi.json")
    assert doc.status == 200
    post = doc.body["paths"]["/api/v1/releases/{release}/runbooks/{runbook}/tasks"]["post"]
    assert "201" in post["responses"] and post["x-scopes"] == ["releases:write"]
    assert {p["name"] for p in post["parameters"]} == {"release", "runbook"}


# --- a user's access, changed as one -------------------------------------------------------------


async def test_a_refused_part_of_a_user_change_undoes_nothing_because_nothing_was_done(
    api: ApiClient,
) -> None:
    """Grants used to be written before a later revoke or status was refused."""
    await api.bot.driver.command("UADMIN", "whoami")  # admin linked: the last who can act
    await api.bot.slack.wait_for("response_url")
    token = await api.api_token("admin", "admin")
    before = await stored(api, "users")
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("dana", {"grant_roles": ["Release Manager"], "revoke_roles": ["Admin"]}, 409, "revoke"),
        ("admin", {"grant_roles": ["Squad Member"], "revoke_roles": ["Admin"]}, 409, "last"),
        ("admin", {"grant_roles": ["Squad Member"], "status": "DISABLED"}, 409, "last"),
        ("dana", {"grant_roles": ["Admin"], "revoke_roles": ["Nope"]}, 404, "revoke_roles"),
        ("dana", {"grant_roles": ["Admin"], "revoke_roles": ["admin"]}, 422, "revoke_roles"),
    ]
    for user, body, status, said in cases:
        answer = await api.call("PATCH", f"{USERS}/{user}", token=token, json=body)
        assert answer.status == status, (body, answer.body)
        error = answer.error
        assert said in error["message"] or said in error["details"].get("fields", {}), error
    assert await stored(api, "users") == before


async def test_a_user_change_is_made_as_a_whole(api: ApiClient) -> None:
    token = await api.login("admin")

    changed = await api.call(
        "PATCH",
        f"{USERS}/dana",
        token=token,
        json={
            "grant_roles": ["release manager", "Release Manager"],
            "revoke_roles": ["Squad Member"],
            "status": "DISABLED",
        },
    )

    assert changed.status == 200, changed.body
    assert changed.body["roles"] == ["Release Manager"] and changed.body["status"] == "DISABLED"
    dana = await api.bot.runtime.repos.users.get_by_username("dana")
    assert dana.status.value == "DISABLED" and len(dana.role_ids) == 1


# --- a file whose link is refused ----------------------------------------------------------------


async def test_a_file_for_a_target_that_does_not_exist_is_not_stored(api: ApiClient) -> None:
    token = await api.api_token("rhea", "releases:write")
    file = {
        "file_name": "plan.pdf",
        "file_size": 10,
        "file_url": "https://files.example.com/plan.pdf",
        "sha256": "ef" * 32,
    }
    before = {c: await stored(api, c) for c in ("attachments", "releases")}
    for target in (
        {"product_id": "payments-api", "gate_name": "No such gate"},
        {"runbook_id": "Rollback"},
        {"runbook_id": "Payments cutover", "runbook_task_name": "Reboot"},
        {"ctask_id": "CTASK-NOPE"},
    ):
        answer = await api.call(
            "POST", f"{REL}/attachments", token=token, json={"file": file, "target": target}
        )
        assert answer.status in (404, 422), (target, answer.body)
    assert {c: await stored(api, c) for c in before} == before

    linked = await api.call(
        "POST",
        f"{REL}/attachments",
        token=token,
        json={"file": file, "target": {"runbook_id": "Payments cutover"}},
    )
    assert linked.status == 201, linked.body
    assert len(await stored(api, "attachments")) == 1
