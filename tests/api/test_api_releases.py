"""Reading releases through the API: the same visibility as Slack's `list`, `status` and
`history`, the readiness summary from the core, and refusals in words."""

from __future__ import annotations

from core.rules.readiness import summarize
from tests.api.conftest import ApiClient


async def test_a_squad_member_lists_only_the_releases_of_their_squads(api: ApiClient) -> None:
    admin = await api.call("GET", "/api/v1/releases", token=await api.login("admin"))
    dana = await api.call("GET", "/api/v1/releases", token=await api.login("dana"))
    assert admin.status == dana.status == 200
    everything = {item["release_id"] for item in admin.body["items"]}
    hers = {item["release_id"] for item in dana.body["items"]}
    assert hers and hers < everything
    assert all("payments" in item["squad_ids"] for item in dana.body["items"])
    dates = [item["release_date"] for item in admin.body["items"]]
    assert dates == sorted(dates, reverse=True)
    first = admin.body["items"][0]
    assert set(first["counts"]) == {
        "NOT_STARTED",
        "IN_PROGRESS",
        "BLOCKED",
        "PASSED",
        "FAILED",
        "WAIVED",
    }
    assert first["readiness"] in {"READY", "BLOCKED", "NOT_READY"}


async def test_pages_follow_the_cursor_to_the_end(api: ApiClient) -> None:
    token = await api.login("admin")
    everything = (await api.call("GET", "/api/v1/releases", token=token)).body["items"]
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(len(everything) + 1):
        path = "/api/v1/releases?limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = await api.call("GET", path, token=token)
        assert page.status == 200 and len(page.body["items"]) == 1
        seen.append(page.body["items"][0]["release_id"])
        cursor = page.body["next_cursor"]
        if cursor is None:
            break
    assert seen == [item["release_id"] for item in everything]


async def test_q_searches_as_the_slack_list_does(api: ApiClient) -> None:
    token = await api.login("admin")
    everything = (await api.call("GET", "/api/v1/releases", token=token)).body["items"]
    wanted = everything[0]["release_id"]
    found = await api.call("GET", f"/api/v1/releases?q={wanted.lower()}", token=token)
    assert [item["release_id"] for item in found.body["items"]] == [wanted]
    none = await api.call("GET", "/api/v1/releases?q=zzz-nothing", token=token)
    assert none.status == 200 and none.body == {"items": [], "next_cursor": None}


async def test_a_bad_limit_or_cursor_is_422_naming_the_query_field(api: ApiClient) -> None:
    token = await api.login("admin")
    for limit in ("0", "101", "many"):
        answer = await api.call("GET", f"/api/v1/releases?limit={limit}", token=token)
        assert answer.status == 422, limit
        assert set(answer.error["details"]["fields"]) == {"query.limit"}
        assert "query.limit" in answer.error["message"]
    cursor = await api.call("GET", "/api/v1/releases?cursor=not-a-cursor", token=token)
    assert cursor.status == 422
    assert cursor.error["details"]["fields"] == {"cursor": "invalid"}
    assert "list the releases again" in cursor.error["message"]


async def test_one_release_by_its_id_in_any_case_or_by_its_object_id(api: ApiClient) -> None:
    token = await api.login("dana")
    item = (await api.call("GET", "/api/v1/releases", token=token)).body["items"][0]
    by_id = await api.call("GET", f"/api/v1/releases/{item['release_id'].lower()}", token=token)
    by_oid = await api.call("GET", f"/api/v1/releases/{item['id']}", token=token)
    assert by_id.status == by_oid.status == 200
    assert by_id.body == by_oid.body
    assert by_id.body["release_id"] == item["release_id"]
    assert by_id.body["products"] and "outbox" not in by_id.body


async def test_another_squads_release_is_404_exactly_like_an_unknown_one(api: ApiClient) -> None:
    admin = await api.call("GET", "/api/v1/releases", token=await api.login("admin"))
    hidden = next(i for i in admin.body["items"] if "payments" not in i["squad_ids"])
    dana = await api.login("dana")
    for suffix in ("", "/summary", "/timeline"):
        unknown = await api.call("GET", f"/api/v1/releases/X-HIDDEN{suffix}", token=dana)
        seen = await api.call("GET", f"/api/v1/releases/{hidden['release_id']}{suffix}", token=dana)
        assert unknown.status == seen.status == 404
        error = seen.error
        assert error["code"] == "RESOURCE_NOT_FOUND"
        assert error["details"]["kind"] == "release"
        assert hidden["release_id"] not in error["details"]["suggestions"]
        assert error["message"] == unknown.error["message"].replace(
            "X-HIDDEN", hidden["release_id"]
        )
        # Suggestions are the visible ids closest to what was typed: never the hidden one.
        assert {**error["details"], "suggestions": []} == {
            **unknown.error["details"],
            "suggestions": [],
        }
    by_oid = await api.call("GET", f"/api/v1/releases/{hidden['id']}", token=dana)
    assert by_oid.status == 404


async def test_the_summary_is_the_cores_readiness_summary(api: ApiClient) -> None:
    token = await api.login("rhea")
    items = (await api.call("GET", "/api/v1/releases", token=token)).body["items"]
    for item in items:
        answer = await api.call(
            "GET", f"/api/v1/releases/{item['release_id']}/summary", token=token
        )
        assert answer.status == 200
        release = await api.bot.runtime.repos.releases.get(item["release_id"])
        expected = summarize(release)
        body = answer.body
        assert body["readiness"] == expected.readiness.value
        assert body["is_ready_for_approval"] is expected.is_ready_for_approval
        assert body["all_required_gates_passed"] is expected.all_required_gates_passed
        assert body["has_blockers"] is expected.has_blockers
        assert body["counts"] == {s.value: n for s, n in expected.counts.items()}
        assert [m["milestone_key"] for m in body["next_milestones"]] == [
            r.milestone.milestone_key for r in expected.next_milestones
        ]
        assert [m["milestone_key"] for m in body["pending_approvals"]] == [
            r.milestone.milestone_key for r in expected.pending_approvals
        ]
        assert len(body["blockers"]) == len(expected.blockers)
        # The list line says the same as the summary.
        assert item["readiness"] == body["readiness"] and item["counts"] == body["counts"]
    assert any(i["has_blockers"] for i in items) and any(not i["has_blockers"] for i in items)


async def test_the_timeline_is_newest_first_and_limited(api: ApiClient) -> None:
    token = await api.login("admin")
    item = (await api.call("GET", "/api/v1/releases", token=token)).body["items"][0]
    path = f"/api/v1/releases/{item['release_id']}/timeline"
    answer = await api.call("GET", path, token=token)
    assert answer.status == 200
    events = answer.body["events"]
    assert events and answer.body["release_id"] == item["release_id"]
    stamps = [e["at"] for e in events]
    assert stamps == sorted(stamps, reverse=True)
    assert {"action", "actor", "target", "at"} <= set(events[0])
    assert "events" not in events[0] and "release_oid" not in events[0]
    one = await api.call("GET", f"{path}?limit=1", token=token)
    assert one.body["events"] == events[:1]
    too_many = await api.call("GET", f"{path}?limit=201", token=token)
    assert too_many.status == 422 and "query.limit" in too_many.error["details"]["fields"]
