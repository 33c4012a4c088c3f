"""GET /api/v1/audit/export: the audit chain streamed as NDJSON or CSV, which the verifier
(`python -m scripts.audit verify`) checks — and in which it finds an edit made in the database."""

from __future__ import annotations

import csv
import io
import json
import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from bson import ObjectId

from core.audit_files import CSV_COLUMNS, csv_record
from core.rules.principal import Scope
from scripts.audit import BROKEN, OK, verify_file
from tests.api.conftest import Answer, ApiClient

EXPORT = "/api/v1/audit/export"
REL = "REL-2026.12"
RESULTS = f"/api/v1/releases/{REL}/products/payments-ledger/gates/Regression%20suite/results"
# What a CSV cell must carry through: quotes, commas, a line break, a formula, non-ASCII.
TRICKY = 'Suite "green", 2 flaky\n=SUM(A1) — ü'


async def export(api: ApiClient, query: str = "", *, user: str = "admin") -> Answer:
    return await api.call("GET", f"{EXPORT}{query}", token=await api.login(user))


async def report_results(api: ApiClient) -> None:
    """Two CI results on a gate: two more entries in REL-2026.12's chain."""
    token = await api.login("rhea")
    for status in ("FAILED", "PASSED"):
        answer = await api.call(
            "POST", RESULTS, token=token, json={"status": status, "summary": TRICKY}
        )
        assert answer.status in (200, 201), answer.body


def saved(tmp_path: Path, body: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8", newline="")
    return path


def ndjson(body: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.splitlines() if line.strip()]


async def test_the_ndjson_export_streams_every_release_and_verifies(
    api: ApiClient, tmp_path: Path
) -> None:
    await report_results(api)

    answer = await export(api)

    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("application/x-ndjson")
    assert answer.headers.get("Transfer-Encoding") == "chunked"
    assert ".ndjson" in answer.headers["Content-Disposition"]
    records = ndjson(answer.body)
    assert records[0]["kind"] == "header" and records[0]["exported_by"] == "admin"
    heads = {r["release_id"] for r in records if r["kind"] == "head"}
    assert {REL, "REL-2026.11", "REL-2027.01"} <= heads
    code, said = verify_file(saved(tmp_path, answer.body, "all.ndjson"))
    assert (code, said.split(":")[0]) == (OK, "OK"), said
    entries = sum(r["kind"] == "entry" for r in records)
    assert f"{len(heads)} releases, {entries} entries verified" in said


async def test_the_csv_export_round_trips_through_the_verifier(
    api: ApiClient, tmp_path: Path
) -> None:
    await report_results(api)

    as_csv = await export(api, f"?release={REL.lower()}&format=csv")
    as_ndjson = await export(api, f"?release={REL}")

    assert as_csv.status == 200 and as_csv.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.body, newline="")))
    assert list(rows[0]) == list(CSV_COLUMNS)
    # Every row gives back exactly the record the NDJSON export has (its header aside).
    assert csv_record(rows[0]) == {"kind": "header", "from": None}
    assert [csv_record(row) for row in rows[1:]] == ndjson(as_ndjson.body)[1:]
    assert [json.loads(row["comment"]) for row in rows if row["kind"] == "entry"][1:] == [
        TRICKY,
        TRICKY,
    ]
    code, said = verify_file(saved(tmp_path, as_csv.body, "rel.csv"))
    assert code == OK, said
    entries = sum(row["kind"] == "entry" for row in rows)  # besides: the head and the end
    assert said.startswith(f"OK: 1 release, {entries} entries verified")


async def test_an_entry_edited_in_the_database_is_found_through_the_export(
    api: ApiClient, tmp_path: Path
) -> None:
    await report_results(api)
    events = api.bot.runtime.db["events"]
    edited = await events.update_one(
        {"release_id": REL, "seq": 2}, {"$set": {"comment": "nothing failed"}}
    )
    assert edited.modified_count == 1

    for fmt in ("ndjson", "csv"):
        answer = await export(api, f"?format={fmt}")
        code, said = verify_file(saved(tmp_path, answer.body, f"tampered.{fmt}"))

        assert code == BROKEN
        assert said.startswith("BROKEN at line ")
        assert said.endswith(f"{REL} entry 2: its content does not match its hash (edited)")


async def test_a_period_is_exported_without_heads_and_verifies_from_where_it_starts(
    api: ApiClient, tmp_path: Path
) -> None:
    first = ndjson((await export(api, f"?release={REL}")).body)
    await report_results(api)
    since = first[0]["exported_at"]

    answer = await export(api, f"?release={REL}&from={since}&to=2100-01-01T00:00:00%2B01:00")

    records = ndjson(answer.body)
    assert records[0]["from"] == since and records[0]["to"] == "2099-12-31T23:00:00.000Z"
    assert [r["kind"] for r in records[1:]] == ["entry", "entry", "end"]  # the results, no head
    assert verify_file(saved(tmp_path, answer.body, "period.ndjson"))[0] == OK


async def test_without_can_view_audit_it_is_403_and_nothing_is_streamed(api: ApiClient) -> None:
    answer = await export(api, user="dana")

    assert answer.status == 403
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.error["code"] == "PERMISSION_DENIED"
    assert "can_view_audit" in answer.error["message"]


async def test_a_token_without_the_read_scope_is_refused(api: ApiClient) -> None:
    token = await api.api_token("admin", Scope.GATES_WRITE.value)

    answer = await api.call("GET", EXPORT, token=token)

    assert answer.status == 403 and Scope.RELEASES_READ.value in answer.error["message"]


async def test_a_malformed_or_backwards_period_is_422_naming_the_field(api: ApiClient) -> None:
    bad_from = await export(api, "?from=yesterday")
    backwards = await export(api, "?from=2026-12-02&to=2026-12-01T23:00:00Z")
    not_a_format = await export(api, "?format=xlsx")

    assert bad_from.status == 422 and "query.from" in bad_from.error["details"]["fields"]
    assert "ISO-8601" in bad_from.error["message"]
    assert backwards.status == 422
    assert backwards.error["details"]["fields"] == {"query.to": "Must be later than from"}
    assert not_a_format.status == 422 and "query.format" in not_a_format.error["details"]["fields"]


async def test_an_unknown_release_is_404_as_elsewhere(api: ApiClient) -> None:
    answer = await export(api, "?release=REL-NOPE")

    assert answer.status == 404 and answer.error["details"]["kind"] == "release"


async def test_the_route_is_documented_with_its_scope_and_query(api: ApiClient) -> None:
    document = (await api.call("GET", "/api/v1/openapi.json")).body

    operation = document["paths"][EXPORT]["get"]

    assert operation["x-scopes"] == [Scope.RELEASES_READ.value]
    assert {p["name"] for p in operation["parameters"]} == {"from", "to", "release", "format"}
    assert "application/x-ndjson" in operation["responses"]["200"]["content"]
    assert "can_view_audit" in operation["description"]


async def test_an_export_that_fails_once_streaming_ends_without_its_last_chunk(
    api: ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Once the 200 has gone, a failure can only end the connection: the client reports an
    incomplete answer, never a file that looks whole. (Here: a value no JSON holds, put in
    the last entry written, behind the services' back.)"""
    events = api.bot.runtime.db["events"]
    last = await events.find_one({}, sort=[("_id", -1)])
    assert last is not None
    await events.update_one({"_id": last["_id"]}, {"$set": {"after": {"odd": ObjectId()}}})
    token = await api.login("admin")

    with caplog.at_level(logging.ERROR, logger="bot.api.audit"):
        async with api.session.get(
            f"{api.bot.url}{EXPORT}", headers={"Authorization": f"Bearer {token}"}
        ) as response:
            status = response.status
            with pytest.raises(aiohttp.ClientPayloadError):
                await response.read()

    assert status == 200
    assert any("audit export cut short" in r.getMessage() for r in caplog.records)
