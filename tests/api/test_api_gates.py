"""CI reports a gate result over real HTTP: the gate changes through the core as the Slack
gate form changes it (timeline, events, `status`, history), refusals change nothing, and an
Idempotency-Key makes a retried report count once."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import pytest

from core.models.rbac import RoleDraft, UserDraft
from core.models.release import GateStatus, Release
from core.seeds.demo import BLOCKED_RELEASE, IN_PROGRESS_RELEASE, PENDING_APPROVALS_RELEASE
from core.services.gates import GateChange
from tests.api.conftest import ApiClient
from tests.bot.test_reading import ESCAPED, INJECTION, actor, answer, shown

PRODUCT, GATE = "identity-auth", "Security scan"
RESULTS = f"/api/v1/releases/{IN_PROGRESS_RELEASE}/products/{PRODUCT}/gates/{quote(GATE)}/results"
RESULTS_ROUTE = "/api/v1/releases/{release}/products/{product}/gates/{gate}/results"
RUN = "https://ci.example.com/identity/runs/4242?attempt=1&x=2"
REPORT = {"status": "PASSED", "url": RUN, "commit": "3f2a9c1e77d0b5", "summary": "212 tests passed"}
GATES_WRITE = "gates:write"
GATEKEEPER_PASSWORD = "gatekeeper-pass"


async def stored(api: ApiClient, release_id: str = IN_PROGRESS_RELEASE) -> Release:
    return await api.bot.runtime.repos.releases.get(release_id)


async def timeline(api: ApiClient, release_id: str = IN_PROGRESS_RELEASE) -> list[Any]:
    release = await stored(api, release_id)
    return await api.bot.runtime.repos.timeline.for_release(release.id, limit=100)


async def gatekeeper(api: ApiClient) -> str:
    """An API token of a user who may change gates but sees only the payments squad's
    releases (no view-all)."""
    services, admin = api.bot.runtime.deps.services, await actor(api.bot, "admin")
    role = await services.roles.create(
        admin, RoleDraft(role_name="Gate keeper", can_manage_quality_gates=True)
    )
    await services.users.create(
        admin,
        UserDraft(
            username="gatekeeper",
            full_name="Gail Keeper",
            email="gail@example.com",
            password=GATEKEEPER_PASSWORD,
            role_ids=[role.id],
            assigned_squad_ids=["payments"],
        ),
    )
    await services.identity.load()
    token = await api.login("gatekeeper", GATEKEEPER_PASSWORD)
    made = await api.call(
        "POST", "/api/v1/tokens", token=token, json={"name": "CI", "scopes": [GATES_WRITE]}
    )
    assert made.status == 201, made.body
    secret: str = made.body["token"]
    return secret


# --- the report and what follows it ---------------------------------------------------------


async def test_a_ci_result_changes_the_gate_as_the_form_does_and_slack_shows_the_run(
    api: ApiClient,
) -> None:
    token = await api.api_token("rhea", GATES_WRITE)
    before = await timeline(api)

    reported = await api.call("POST", RESULTS, token=token, json=REPORT)

    assert reported.status == 200, reported.body
    body = reported.body
    assert (body["release_id"], body["product_id"], body["gate_name"]) == (
        IN_PROGRESS_RELEASE,
        PRODUCT,
        GATE,
    )
    assert body["gate_status"] == "PASSED" and body["comment"] == "212 tests passed"
    assert body["ci_result"]["url"] == RUN and body["ci_result"]["reported_by"] == "rhea"
    gate = (await stored(api)).product(PRODUCT).gate(GATE)
    assert gate.gate_status is GateStatus.PASSED and gate.comment == "212 tests passed"
    assert gate.ci_result is not None and gate.ci_result.commit == "3f2a9c1e77d0b5"
    # One timeline entry, by rhea, with the link, and the domain event of a gate change.
    [event] = (await timeline(api))[: len(await timeline(api)) - len(before)]
    assert (event.action, event.actor.username) == ("gate.reported", "rhea")
    assert event.before == {"gate_status": "IN_PROGRESS", "comment": None}
    assert event.after["gate_status"] == "PASSED" and event.after["ci_url"] == RUN
    assert [e.kind for e in event.events] == ["gate_changed"]

    status = shown(await answer(api.bot, "URHEA", f"status {IN_PROGRESS_RELEASE}"))
    link = f"<{RUN.replace('&', '&amp;')}|CI run>"
    assert f":white_check_mark: {GATE} · required · Rhea Kapoor · {link} `3f2a9c1e77d0`" in status
    assert "1 of 3 gates passed" in status
    history = shown(await answer(api.bot, "URHEA", f"history {IN_PROGRESS_RELEASE}"))
    assert f"*Rhea Kapoor* reported a CI result · Auth Service / {GATE}" in history
    assert f"CI run: <{RUN.replace('&', '&amp;')}|" in history
    assert "status: `IN_PROGRESS` → `PASSED`" in history


async def test_the_summary_is_escaped_where_people_read_it(api: ApiClient) -> None:
    token = await api.api_token("rhea", GATES_WRITE)

    failed = await api.call(
        "POST", RESULTS, token=token, json={"status": "FAILED", "summary": INJECTION}
    )

    assert failed.status == 200, failed.body
    status = shown(await answer(api.bot, "URHEA", f"status {IN_PROGRESS_RELEASE}"))
    history = shown(await answer(api.bot, "URHEA", f"history {IN_PROGRESS_RELEASE}"))
    for text in (status, history):
        assert ESCAPED in text and INJECTION not in text
    assert "*Blocked*" in status


async def test_the_same_report_again_changes_nothing(api: ApiClient) -> None:
    token = await api.api_token("rhea", GATES_WRITE)
    first = await api.call("POST", RESULTS, token=token, json=REPORT)
    events = await timeline(api)

    again = await api.call("POST", RESULTS, token=token, json=REPORT)
    new_run = await api.call("POST", RESULTS, token=token, json={**REPORT, "commit": "9a9a9a9"})

    assert first.status == again.status == new_run.status == 200
    assert again.body["release_version"] == first.body["release_version"]
    after = await timeline(api)
    assert len(after) == len(events) + 1  # only the new run was recorded
    assert after[0].before == {"ci_commit": "3f2a9c1e77d0b5"}
    assert after[0].after["ci_commit"] == "9a9a9a9"


# --- refusals -------------------------------------------------------------------------------


async def test_no_token_is_401_and_a_token_without_gates_write_is_403(api: ApiClient) -> None:
    unsigned = await api.call("POST", RESULTS, json=REPORT)
    reader = await api.api_token("rhea", "releases:read")
    narrow = await api.call("POST", RESULTS, token=reader, json=REPORT)

    assert unsigned.status == 401 and unsigned.error["code"] == "NOT_AUTHENTICATED"
    assert narrow.status == 403 and "'gates:write' scope" in narrow.error["message"]
    gate = (await stored(api)).product(PRODUCT).gate(GATE)
    assert gate.gate_status is GateStatus.IN_PROGRESS and gate.ci_result is None


async def test_a_user_who_may_not_change_gates_is_403_and_nothing_is_stored(
    api: ApiClient,
) -> None:
    path = RESULTS.replace(IN_PROGRESS_RELEASE, PENDING_APPROVALS_RELEASE).replace(
        PRODUCT, "payments-api"
    )
    release = await stored(api, PENDING_APPROVALS_RELEASE)
    events = await timeline(api, PENDING_APPROVALS_RELEASE)
    token = await api.api_token("dana", GATES_WRITE)  # sees the release, may not change gates

    # The gate is PASSED already: a new run is still a change, refused like any other.
    same = {"status": "PASSED", "url": RUN}
    refused = await api.call("POST", path, token=token, json=same, headers={"Idempotency-Key": "k"})

    assert refused.status == 403
    assert refused.error["code"] == "PERMISSION_DENIED"
    assert "can_manage_quality_gates" in refused.error["message"]
    assert await stored(api, PENDING_APPROVALS_RELEASE) == release
    assert len(await timeline(api, PENDING_APPROVALS_RELEASE)) == len(events)
    assert await api.bot.runtime.db["idempotency_keys"].count_documents({}) == 0


async def test_another_squads_release_is_404_exactly_like_an_unknown_one(api: ApiClient) -> None:
    token = await gatekeeper(api)
    hidden = await api.call("POST", RESULTS, token=token, json=REPORT)
    unknown = await api.call(
        "POST", RESULTS.replace(IN_PROGRESS_RELEASE, "REL-NOPE"), token=token, json=REPORT
    )

    assert hidden.status == unknown.status == 404
    assert hidden.error["details"]["kind"] == "release"
    assert hidden.error["message"] == unknown.error["message"].replace(
        "REL-NOPE", IN_PROGRESS_RELEASE
    )
    assert (await stored(api)).product(PRODUCT).gate(GATE).ci_result is None
    # Their own squad's release they may report on.
    own = RESULTS.replace(IN_PROGRESS_RELEASE, BLOCKED_RELEASE).replace(PRODUCT, "payments-ledger")
    assert (await api.call("POST", own, token=token, json=REPORT)).status == 200


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        ({**REPORT, "status": "WAIVED"}, "body.status"),
        ({**REPORT, "status": "passed-ish"}, "body.status"),
        ({**REPORT, "url": "javascript:alert(1)"}, "body.url"),
        ({**REPORT, "url": "ftp://ci.example.com/run"}, "body.url"),
        ({**REPORT, "url": "https://ci.example.com/a b"}, "body.url"),
        ({**REPORT, "url": "https://ci.example.com/" + "a" * 2000}, "body.url"),
        ({**REPORT, "commit": "abc def"}, "body.commit"),
        ({**REPORT, "summary": "x" * 2001}, "body.summary"),
        ({**REPORT, "extra": 1}, "body.extra"),
    ],
)
async def test_a_bad_report_is_422_naming_the_field(
    api: ApiClient, sent: dict[str, Any], field: str
) -> None:
    token = await api.api_token("rhea", GATES_WRITE)

    refused = await api.call("POST", RESULTS, token=token, json=sent)

    assert refused.status == 422, refused.body
    assert list(refused.error["details"]["fields"]) == [field]
    assert field in refused.error["message"]
    assert (await stored(api)).product(PRODUCT).gate(GATE).ci_result is None


async def test_an_unknown_gate_is_404_naming_the_gates_there_are(api: ApiClient) -> None:
    token = await api.api_token("rhea", GATES_WRITE)
    missing = await api.call(
        "POST", RESULTS.replace(quote(GATE), "Fuzzing"), token=token, json=REPORT
    )
    assert missing.status == 404 and missing.error["details"]["kind"] == "gate"
    assert "Security scan" in missing.error["message"]


# --- Idempotency-Key ------------------------------------------------------------------------


async def test_the_same_key_and_body_twice_is_one_change_and_the_same_answer(
    api: ApiClient,
) -> None:
    token = await api.api_token("rhea", GATES_WRITE)
    events = await timeline(api)
    key = {"Idempotency-Key": "ci-run-4242-attempt-1"}

    first = await api.call("POST", RESULTS, token=token, json=REPORT, headers=key)
    # Meanwhile a person sets the gate back: a replay must not set it again.
    rhea = await actor(api.bot, "rhea")
    await api.bot.runtime.deps.services.gates.update_gate(
        rhea, IN_PROGRESS_RELEASE, PRODUCT, GATE, GateChange(gate_status=GateStatus.IN_PROGRESS)
    )
    replayed = await api.call("POST", RESULTS, token=token, json=REPORT, headers=key)

    assert first.status == replayed.status == 200
    assert replayed.body == first.body
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    reported = [e for e in await timeline(api) if e.action == "gate.reported"]
    assert len(reported) == 1 and len(await timeline(api)) == len(events) + 2
    assert (await stored(api)).product(PRODUCT).gate(GATE).gate_status is GateStatus.IN_PROGRESS


async def test_the_same_key_with_another_body_is_409(api: ApiClient) -> None:
    token = await api.api_token("rhea", GATES_WRITE)
    key = {"Idempotency-Key": "ci-run-4242"}
    first = await api.call("POST", RESULTS, token=token, json=REPORT, headers=key)

    other = await api.call(
        "POST", RESULTS, token=token, json={**REPORT, "status": "FAILED"}, headers=key
    )

    assert first.status == 200
    assert other.status == 409 and other.error["code"] == "CONFLICT"
    assert "already used for another request" in other.error["message"]
    assert (await stored(api)).product(PRODUCT).gate(GATE).gate_status is GateStatus.PASSED
    # Keys are per user: another user's same key is theirs.
    admin = await api.api_token("admin", GATES_WRITE)
    theirs = await api.call(
        "POST", RESULTS, token=admin, json={**REPORT, "status": "FAILED"}, headers=key
    )
    assert theirs.status == 200 and theirs.body["gate_status"] == "FAILED"


async def test_a_refused_request_lets_go_of_its_key(api: ApiClient) -> None:
    token = await api.api_token("rhea", GATES_WRITE)
    key = {"Idempotency-Key": "retry-me"}
    wrong = RESULTS.replace(quote(GATE), "Fuzzing")
    missing = await api.call("POST", wrong, token=token, json=REPORT, headers=key)
    fixed = await api.call("POST", RESULTS, token=token, json=REPORT, headers=key)
    assert missing.status == 404 and fixed.status == 200


@pytest.mark.parametrize("key", ["", "a" * 201, "has space", "naïve"])
async def test_a_malformed_key_is_422_naming_the_header(api: ApiClient, key: str) -> None:
    token = await api.api_token("rhea", GATES_WRITE)
    refused = await api.call(
        "POST", RESULTS, token=token, json=REPORT, headers={"Idempotency-Key": key}
    )
    assert refused.status == 422
    assert list(refused.error["details"]["fields"]) == ["header.Idempotency-Key"]
    assert (await stored(api)).product(PRODUCT).gate(GATE).ci_result is None


async def test_two_identical_requests_at_once_make_one_change(api: ApiClient) -> None:
    token = await api.api_token("rhea", GATES_WRITE)
    events = await timeline(api)
    key = {"Idempotency-Key": "concurrent-1"}
    bodies = [{**REPORT, "commit": "c0ffee"}] * 6

    answers = await asyncio.gather(
        *(api.call("POST", RESULTS, token=token, json=b, headers=key) for b in bodies)
    )

    assert {a.status for a in answers} == {200}
    assert len({str(a.body) for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 5
    assert len(await timeline(api)) == len(events) + 1


async def test_the_report_and_approval_routes_are_in_the_served_openapi_document(
    api: ApiClient,
) -> None:
    document = (await api.call("GET", "/api/v1/openapi.json")).body

    report = document["paths"][RESULTS_ROUTE]["post"]
    assert report["x-scopes"] == [GATES_WRITE] and "Idempotency-Key" in report["description"]
    body = report["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][body.rsplit("/", 1)[-1]]
    assert set(schema["properties"]) == {"status", "url", "commit", "summary"}
    assert schema["required"] == ["status"]
    [header] = [p for p in report["parameters"] if p["in"] == "header"]
    assert (header["name"], header["required"]) == ("Idempotency-Key", False)
    approvals = document["paths"]["/api/v1/releases/{release}/approvals"]["get"]
    assert approvals["x-scopes"] == ["approvals:read"]
    assert [p["name"] for p in approvals["parameters"]] == ["release", "status"]
