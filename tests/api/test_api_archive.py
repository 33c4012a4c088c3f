"""Archiving and restoring through the API: an admin's `POST …/archive` and `…/restore`, the
list that no longer shows an archived release, the release itself that still answers with
when, by whom and why, and refusals in words (403 for anyone else, 409 twice)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scripts.audit import OK, verify_file
from tests.api.conftest import ApiClient
from tests.api.test_api_audit import export, ndjson, saved

REL = "REL-2026.12"
ARCHIVE = f"/api/v1/releases/{REL}/archive"
RESTORE = f"/api/v1/releases/{REL}/restore"
REASON = "Cancelled: merged into REL-2027.01"


async def listed(api: ApiClient, token: str, query: str = "") -> list[str]:
    answer = await api.call("GET", f"/api/v1/releases{query}", token=token)
    assert answer.status == 200, answer.body
    return [item["release_id"] for item in answer.body["items"]]


async def stored(api: ApiClient) -> list[dict[str, Any]]:
    await api.bot.runtime.deps.settle()
    return await api.bot.runtime.db["releases"].find({}).sort("_id", 1).to_list(length=None)


async def test_an_admin_archives_a_release_it_leaves_the_list_and_still_answers_by_id(
    api: ApiClient,
) -> None:
    admin = await api.login("admin")
    dana = await api.login("dana")
    assert REL in await listed(api, dana)

    archived = await api.call("POST", ARCHIVE, token=admin, json={"reason": REASON})

    assert archived.status == 200, archived.body
    assert archived.body["release_id"] == REL
    assert archived.body["archived_at"] is not None
    assert archived.body["archived_reason"] == REASON
    admin_id = (await api.call("GET", "/api/v1/me", token=admin)).body["user"]["id"]
    assert archived.body["archived_by"] == admin_id
    for token in (admin, dana):
        assert REL not in await listed(api, token)
        assert await listed(api, token, "?q=rel-2026.12") == []
    read = await api.call("GET", f"/api/v1/releases/{REL.lower()}", token=dana)
    assert read.status == 200
    assert (read.body["archived_at"], read.body["archived_reason"]) == (
        archived.body["archived_at"],
        REASON,
    )
    timeline = await api.call("GET", f"/api/v1/releases/{REL}/timeline", token=dana)
    newest = timeline.body["events"][0]
    assert (newest["action"], newest["comment"]) == ("release.archived", REASON)


async def test_restore_brings_it_back_to_the_list(api: ApiClient) -> None:
    admin = await api.login("admin")
    await api.call("POST", ARCHIVE, token=admin, json={"reason": REASON})

    restored = await api.call("POST", RESTORE, token=admin)

    assert restored.status == 200, restored.body
    assert restored.body["archived_at"] is None and restored.body["archived_reason"] is None
    assert REL in await listed(api, admin)


async def test_anyone_but_an_admin_is_refused_403_and_nothing_changes(api: ApiClient) -> None:
    admin = await api.login("admin")
    await api.call(
        "POST", "/api/v1/releases/REL-2026.11/archive", token=admin, json={"reason": "x"}
    )
    before = await stored(api)

    for username in ("rhea", "arjun", "dana"):
        token = await api.login(username)
        refused = await api.call("POST", ARCHIVE, token=token, json={"reason": REASON})
        assert refused.status == 403, refused.body
        assert "'can_manage_roles' permission to archive a release" in refused.error["message"]
        back = await api.call("POST", "/api/v1/releases/REL-2026.11/restore", token=token)
        assert back.status == 403, back.body

    assert await stored(api) == before


async def test_a_token_needs_the_admin_scope(api: ApiClient) -> None:
    writer = await api.api_token("admin", "releases:write")
    before = await stored(api)

    refused = await api.call("POST", ARCHIVE, token=writer, json={"reason": REASON})

    assert refused.status == 403
    assert "lacks the 'admin' scope" in refused.error["message"]
    assert await stored(api) == before
    allowed = await api.api_token("admin", "admin")
    assert (await api.call("POST", ARCHIVE, token=allowed, json={"reason": REASON})).status == 200


async def test_twice_without_a_reason_or_a_change_to_an_archived_release_is_refused_in_words(
    api: ApiClient,
) -> None:
    admin = await api.login("admin")
    not_archived = await api.call("POST", RESTORE, token=admin)
    assert not_archived.status == 409
    assert not_archived.error["message"] == (
        f"Release '{REL}' is not archived: there is nothing to restore."
    )
    no_reason = await api.call("POST", ARCHIVE, token=admin, json={"reason": " "})
    assert no_reason.status == 422
    assert "Say why the release is archived" in no_reason.error["message"]
    await api.call("POST", ARCHIVE, token=admin, json={"reason": REASON})
    before = await stored(api)

    again = await api.call("POST", ARCHIVE, token=admin, json={"reason": "again"})
    edit = await api.call(
        "PATCH",
        f"/api/v1/releases/{REL}/products/payments-api",
        token=admin,
        json={"fixed_version": {"version_key": "PAY-9", "version_name": "9.0"}},
    )

    assert again.status == 409 and "already; nothing changed." in again.error["message"]
    assert edit.status == 409, edit.body
    assert "so nobody can change it: an admin must restore it first" in edit.error["message"]
    assert await stored(api) == before


async def test_the_routes_are_in_the_openapi_document(api: ApiClient) -> None:
    document = (await api.call("GET", "/api/v1/openapi.json")).body

    archive = document["paths"]["/api/v1/releases/{release}/archive"]["post"]
    restore = document["paths"]["/api/v1/releases/{release}/restore"]["post"]

    assert archive["summary"] == "Archive a release (soft delete)"
    assert restore["summary"] == "Restore an archived release"
    assert "requestBody" in archive and "requestBody" not in restore
    release_paths = [p for p in document["paths"] if p.startswith("/api/v1/releases")]
    assert not any("delete" in document["paths"][p] for p in release_paths)  # never destroyed


async def test_the_audit_export_keeps_an_archived_release_and_its_chain_verifies(
    api: ApiClient, tmp_path: Path
) -> None:
    admin = await api.login("admin")
    await api.call("POST", ARCHIVE, token=admin, json={"reason": REASON})

    everything = await export(api)
    one = await export(api, f"?release={REL}")

    assert everything.status == one.status == 200
    assert REL in {r["release_id"] for r in ndjson(everything.body) if r["kind"] == "head"}
    entries = [r for r in ndjson(one.body) if r["kind"] == "entry"]
    assert entries[-1]["action"] == "release.archived" and entries[-1]["comment"] == REASON
    code, said = verify_file(saved(tmp_path, one.body, "archived.ndjson"))
    assert code == OK, said
