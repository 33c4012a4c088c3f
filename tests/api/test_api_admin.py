"""Roles, users and the catalog through the API: the admin forms' core calls, their
permission checks and the last-administrator rule, behind the ``admin`` scope."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import ApiClient

V1 = "/api/v1"


async def stored(api: ApiClient, collection: str) -> list[dict[str, Any]]:
    await api.bot.runtime.deps.settle()
    return await api.bot.runtime.db[collection].find({}).sort("_id", 1).to_list(length=None)


async def test_roles_are_listed_and_created(api: ApiClient) -> None:
    token = await api.api_token("admin", "admin")
    listed = await api.call("GET", f"{V1}/roles", token=token)
    assert listed.status == 200
    assert {r["role_name"] for r in listed.body["items"]} >= {"Admin", "Release Manager"}
    made = await api.call(
        "POST",
        f"{V1}/roles",
        token=token,
        json={"role_name": "Auditor", "description": "Reads everything", "can_view_all": True},
    )
    assert made.status == 201, made.body
    assert made.body["can_view_all"] is True and made.body["can_manage_roles"] is False
    assert (
        made.body["created_by"] == (await api.bot.runtime.repos.users.get_by_username("admin")).id
    )

    before = await stored(api, "roles")
    twice = await api.call("POST", f"{V1}/roles", token=token, json={"role_name": "auditor"})
    assert twice.status == 409 and twice.error["code"] == "DUPLICATE"
    rhea = await api.call(  # a release manager cannot manage roles
        "POST", f"{V1}/roles", token=await api.login("rhea"), json={"role_name": "Mine"}
    )
    assert rhea.status == 403 and "can_manage_roles" in rhea.error["message"]
    assert await stored(api, "roles") == before


async def test_users_never_show_a_password_and_a_new_one_signs_in(api: ApiClient) -> None:
    token = await api.login("admin")
    roles = (await api.call("GET", f"{V1}/roles", token=token)).body["items"]
    squad_member = next(r["id"] for r in roles if r["role_name"] == "Squad Member")
    made = await api.call(
        "POST",
        f"{V1}/users",
        token=token,
        json={
            "username": "sam",
            "full_name": "Sam Stone",
            "email": "Sam@Example.com",
            "password": "sam-password-1",
            "role_ids": [squad_member],
            "assigned_squad_ids": ["checkout"],
        },
    )
    assert made.status == 201, made.body
    assert made.body["email"] == "sam@example.com" and made.body["roles"] == ["Squad Member"]
    assert "password" not in str(made.body)
    listed = await api.call("GET", f"{V1}/users", token=token)
    assert listed.status == 200
    assert "sam" in {u["username"] for u in listed.body["items"]}
    assert "password" not in str(listed.body) and "outbox" not in str(listed.body)
    stored_sam = await api.bot.runtime.repos.users.get_by_username("sam")
    assert stored_sam.password_hash and "sam-password-1" not in stored_sam.password_hash
    me = await api.call("GET", f"{V1}/me", token=await api.login("sam", "sam-password-1"))
    assert me.body["user"]["username"] == "sam"


async def test_bad_users_are_refused_naming_the_field(api: ApiClient) -> None:
    token = await api.login("admin")
    before = await stored(api, "users")
    base = {"username": "pat", "full_name": "Pat", "email": "pat@example.com"}
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({**base, "email": "not-an-email"}, 422, "body.email"),
        ({**base, "password": "short"}, 422, "body.password"),
        ({**base, "role_ids": ["64b000000000000000000000"]}, 404, "role_ids"),
    ]
    for body, status, field in cases:
        answer = await api.call("POST", f"{V1}/users", token=token, json=body)
        assert answer.status == status, answer.body
        assert field in answer.error["details"]["fields"]
    taken = await api.call("POST", f"{V1}/users", token=token, json={**base, "username": "dana"})
    assert taken.status == 409
    assert await stored(api, "users") == before


async def test_inviting_is_not_granting(api: ApiClient) -> None:
    """rhea may invite users but not manage roles: a user with roles is refused, one
    without is made; she may list users too, but not change their roles."""
    rhea = await api.login("rhea")
    roles = (await api.call("GET", f"{V1}/roles", token=rhea)).body["items"]
    admin_role = next(r["id"] for r in roles if r["role_name"] == "Admin")
    body = {"username": "pat", "full_name": "Pat", "email": "pat@example.com"}
    with_role = await api.call(
        "POST", f"{V1}/users", token=rhea, json={**body, "role_ids": [admin_role]}
    )
    assert with_role.status == 403
    assert await api.bot.runtime.db["users"].find_one({"username": "pat"}) is None
    plain = await api.call("POST", f"{V1}/users", token=rhea, json=body)
    assert plain.status == 201 and plain.body["roles"] == []
    assert (await api.call("GET", f"{V1}/users", token=rhea)).status == 200
    grant = await api.call("PATCH", f"{V1}/users/pat", token=rhea, json={"grant_roles": ["Admin"]})
    assert grant.status == 403
    assert (await api.bot.runtime.repos.users.get_by_username("pat")).role_ids == []
    dana = await api.login("dana")
    assert (await api.call("GET", f"{V1}/users", token=dana)).status == 403


async def test_roles_are_granted_and_revoked_and_status_changed(api: ApiClient) -> None:
    token = await api.api_token("admin", "admin")
    granted = await api.call(
        "PATCH",
        f"{V1}/users/DANA",
        token=token,
        json={"grant_roles": ["release manager"]},
    )
    assert granted.status == 200, granted.body
    assert granted.body["roles"] == ["Release Manager", "Squad Member"]
    revoked = await api.call(
        "PATCH",
        f"{V1}/users/dana",
        token=token,
        json={"revoke_roles": ["Squad Member"], "status": "DISABLED"},
    )
    assert revoked.status == 200, revoked.body
    assert revoked.body["roles"] == ["Release Manager"] and revoked.body["status"] == "DISABLED"
    dana = await api.bot.runtime.repos.users.get_by_username("dana")
    assert dana.status.value == "DISABLED" and len(dana.role_ids) == 1

    before = await stored(api, "users")
    for body, status in (
        ({}, 422),
        ({"grant_roles": ["Admin", "No Such Role"]}, 404),
        ({"revoke_roles": ["Squad Member"]}, 409),  # not held
    ):
        answer = await api.call("PATCH", f"{V1}/users/dana", token=token, json=body)
        assert answer.status == status, (body, answer.body)
    unknown = await api.call("PATCH", f"{V1}/users/danna", token=token, json={"status": "ACTIVE"})
    assert unknown.status == 404 and "dana" in unknown.error["details"]["suggestions"]
    assert await stored(api, "users") == before


async def test_the_last_administrator_keeps_their_role(api: ApiClient) -> None:
    await api.bot.driver.command("UADMIN", "whoami")  # linked to Slack on first contact
    await api.bot.slack.wait_for("response_url")
    token = await api.login("admin")
    before = await stored(api, "users")
    for body in ({"revoke_roles": ["Admin"]}, {"status": "DISABLED"}):
        answer = await api.call("PATCH", f"{V1}/users/admin", token=token, json=body)
        assert answer.status == 409, answer.body
        assert "last administrator" in answer.error["message"]
    assert await stored(api, "users") == before


async def test_the_catalog_is_listed_and_extended(api: ApiClient) -> None:
    token = await api.api_token("admin", "admin")
    creations: list[tuple[str, dict[str, Any], str]] = [
        (
            "applications",
            {
                "application_id": "search",
                "application_name": "Search",
                "products": [{"product_id": "search-api", "product_name": "Search API"}],
            },
            "application_id",
        ),
        ("squads", {"squad_id": "discovery", "squad_name": "Discovery"}, "squad_id"),
        (
            "boards",
            {"board_id": "SRCH", "board_name": "Search", "board_type": "kanban"},
            "board_id",
        ),
    ]
    for collection, body, key in creations:
        made = await api.call("POST", f"{V1}/{collection}", token=token, json=body)
        assert made.status == 201, made.body
        assert made.body[key] == body[key]
        listed = await api.call("GET", f"{V1}/{collection}", token=token)
        assert listed.status == 200 and body[key] in {i[key] for i in listed.body["items"]}
        before = await stored(api, collection)
        twice = await api.call("POST", f"{V1}/{collection}", token=token, json=body)
        assert twice.status == 409, twice.body
        assert await stored(api, collection) == before
    # The new product can go into a release, as one added in Slack.
    added = await api.call(
        "POST",
        f"{V1}/releases/REL-2026.12/products",
        token=await api.login("rhea"),
        json={"application_id": "search", "product_id": "search-api", "squad_ids": ["payments"]},
    )
    assert added.status == 201, added.body


async def test_bad_catalog_entries_name_the_field(api: ApiClient) -> None:
    token = await api.login("admin")
    before = await stored(api, "applications")
    twice = {"product_id": "p", "product_name": "P"}
    app = {"application_id": "a", "application_name": "A"}
    board = {"board_id": "B", "board_name": "B"}
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("applications", {**app, "application_id": "a b"}, "body.application_id"),
        ("applications", {**app, "products": [twice, twice]}, "body"),
        ("squads", {"squad_id": "s"}, "body.squad_name"),
        ("boards", {**board, "board_link": "ftp://x"}, "body.board_link"),
    ]
    for collection, body, field in cases:
        answer = await api.call("POST", f"{V1}/{collection}", token=token, json=body)
        assert answer.status == 422, answer.body
        assert field in answer.error["details"]["fields"], answer.body
    assert await stored(api, "applications") == before


async def test_admin_routes_need_the_admin_scope_and_the_permission(api: ApiClient) -> None:
    """No token 401; a token of admin's own without the admin scope 403; dana, whose token
    has the scope, lacks the permission: 403. Nothing is stored."""
    narrow = await api.api_token("admin", "releases:read", "releases:write")
    dana = await api.api_token("dana", "admin")
    writes = [
        ("POST", "roles", {"role_name": "R"}),
        ("POST", "users", {"username": "u", "full_name": "U", "email": "u@example.com"}),
        ("PATCH", "users/rhea", {"status": "DISABLED"}),
        ("POST", "applications", {"application_id": "a", "application_name": "A"}),
        ("POST", "squads", {"squad_id": "s", "squad_name": "S"}),
        ("POST", "boards", {"board_id": "B", "board_name": "B"}),
    ]
    before = {
        c: await stored(api, c) for c in ("roles", "users", "applications", "squads", "boards")
    }
    for method, path, body in writes:
        assert (await api.call(method, f"{V1}/{path}", json=body)).status == 401, path
        scoped = await api.call(method, f"{V1}/{path}", token=narrow, json=body)
        assert scoped.status == 403 and "'admin' scope" in scoped.error["message"], path
        refused = await api.call(method, f"{V1}/{path}", token=dana, json=body)
        assert refused.status == 403 and refused.error["code"] == "PERMISSION_DENIED", path
    for path in ("roles", "users", "applications", "squads", "boards"):
        assert (await api.call("GET", f"{V1}/{path}", token=narrow)).status == 403, path
    after = {c: await stored(api, c) for c in before}
    assert after == before
