"""Signing in, who am I, and API tokens over HTTP: the core's AuthService behind thin
routes, its refusals as 401/403/404/422/429 in the envelope."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.rules.principal import Scope
from tests.api.conftest import ApiClient


async def test_a_person_signs_in_and_sees_who_they_are(api: ApiClient) -> None:
    answer = await api.call(
        "POST", "/api/v1/auth/login", json={"username": "rhea", "password": "releasebot-demo"}
    )
    assert answer.status == 200
    assert answer.body["token_type"] == "bearer" and answer.body["expires_in"] > 0
    me = await api.call("GET", "/api/v1/me", token=answer.body["access_token"])
    assert me.status == 200
    assert me.body["user"]["username"] == "rhea"
    assert "password_hash" not in me.body["user"]
    assert me.body["roles"] == ["Release Manager"]
    assert "can_create_release" in me.body["permissions"]
    assert me.body["via"] == "session" and me.body["token_id"] is None
    assert me.body["scopes"] == [s.value for s in Scope]


async def test_wrong_password_and_unknown_user_are_refused_alike(api: ApiClient) -> None:
    wrong = await api.call(
        "POST", "/api/v1/auth/login", json={"username": "dana", "password": "nope-nope"}
    )
    unknown = await api.call(
        "POST", "/api/v1/auth/login", json={"username": "nobody", "password": "nope-nope"}
    )
    assert wrong.status == unknown.status == 401
    assert wrong.error == unknown.error
    assert wrong.error["code"] == "NOT_AUTHENTICATED"
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")


async def test_passwords_bcrypt_cannot_take_are_wrong_passwords_not_errors(
    api: ApiClient,
) -> None:
    for password in ("releasebot-demo\x00", "é" * 50, "x" * 500):
        answer = await api.call(
            "POST", "/api/v1/auth/login", json={"username": "dana", "password": password}
        )
        assert answer.status == 401, password
        assert answer.error["code"] == "NOT_AUTHENTICATED"


async def test_no_token_or_a_bad_one_is_401_saying_what_to_send(api: ApiClient) -> None:
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer junk"}):
        answer = await api.call("GET", "/api/v1/releases", headers=headers)
        assert answer.status == 401, headers
        assert answer.error["code"] == "NOT_AUTHENTICATED"
        assert "Bearer" in answer.error["message"]
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")


async def test_repeated_failed_sign_ins_are_429_with_retry_after(api: ApiClient) -> None:
    wrong = {"username": "dana", "password": "wrong-password"}
    for _ in range(5):
        assert (await api.call("POST", "/api/v1/auth/login", json=wrong)).status == 401
    right = {"username": "dana", "password": "releasebot-demo"}
    limited = await api.call("POST", "/api/v1/auth/login", json=right)
    assert limited.status == 429
    assert limited.error["code"] == "RATE_LIMITED"
    wait = int(limited.headers["Retry-After"])
    assert 0 < wait <= 15 * 60
    assert limited.error["details"]["retry_after"] == wait
    # Another username from the same client is not held back.
    other = await api.call(
        "POST", "/api/v1/auth/login", json={"username": "rhea", "password": "releasebot-demo"}
    )
    assert other.status == 200


async def test_refresh_gives_a_new_session_and_tokens_are_not_interchangeable(
    api: ApiClient,
) -> None:
    pair = (
        await api.call(
            "POST", "/api/v1/auth/login", json={"username": "dana", "password": "releasebot-demo"}
        )
    ).body
    fresh = await api.call(
        "POST", "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert fresh.status == 200
    assert (await api.call("GET", "/api/v1/me", token=fresh.body["access_token"])).status == 200
    access_as_refresh = await api.call(
        "POST", "/api/v1/auth/refresh", json={"refresh_token": pair["access_token"]}
    )
    assert access_as_refresh.status == 401
    refresh_as_access = await api.call("GET", "/api/v1/me", token=pair["refresh_token"])
    assert refresh_as_access.status == 401
    missing = await api.call("POST", "/api/v1/auth/refresh", json={})
    assert missing.status == 422
    assert set(missing.error["details"]["fields"]) == {"body.refresh_token"}


async def test_an_api_token_is_shown_once_and_acts_with_its_scopes(api: ApiClient) -> None:
    person = await api.login("dana")
    made = await api.call(
        "POST",
        "/api/v1/tokens",
        token=person,
        json={"name": "payments CI", "scopes": ["releases:read"]},
    )
    assert made.status == 201
    secret = made.body["token"]
    assert secret.startswith(f"rbt_{made.body['id']}_")
    lifetime = datetime.fromisoformat(made.body["expires_at"]) - datetime.fromisoformat(
        made.body["created_at"]
    )
    assert lifetime == timedelta(days=90)
    me = await api.call("GET", "/api/v1/me", token=secret)
    assert me.body["via"] == "api_token" and me.body["token_id"] == made.body["id"]
    assert me.body["scopes"] == ["releases:read"]
    assert (await api.call("GET", "/api/v1/releases", token=secret)).status == 200
    listed = await api.call("GET", "/api/v1/tokens", token=person)
    assert [t["id"] for t in listed.body["items"]] == [made.body["id"]]
    assert secret not in str(listed.body)
    assert not {"token", "secret_sha256"} & set(listed.body["items"][0])


async def test_a_token_without_the_scope_is_403_naming_it(api: ApiClient) -> None:
    secret = await api.api_token("dana", "approvals:read")
    answer = await api.call("GET", "/api/v1/releases", token=secret)
    assert answer.status == 403
    assert answer.error["code"] == "PERMISSION_DENIED"
    assert "releases:read" in answer.error["message"]
    summary = await api.call("GET", "/api/v1/releases/REL-2026.12/summary", token=secret)
    assert summary.status == 403


async def test_a_token_cannot_make_tokens_and_nothing_is_stored(api: ApiClient) -> None:
    secret = await api.api_token("rhea", "releases:read", "releases:write")
    stored = api.bot.runtime.db["api_tokens"]
    before = await stored.count_documents({})
    answer = await api.call(
        "POST", "/api/v1/tokens", token=secret, json={"name": "more", "scopes": ["admin"]}
    )
    assert answer.status == 403
    assert "POST /api/v1/auth/login" in answer.error["message"]
    assert await stored.count_documents({}) == before


async def test_a_bad_token_request_is_422_naming_the_field(api: ApiClient) -> None:
    person = await api.login("dana")
    stored = api.bot.runtime.db["api_tokens"]
    cases = {
        "body.scopes": {"name": "ci", "scopes": ["releases:read", "root"]},
        "body.expires_in_days": {"name": "ci", "scopes": ["releases:read"], "expires_in_days": 0},
        "body.name": {"name": "", "scopes": ["releases:read"]},
    }
    for field, body in cases.items():
        answer = await api.call("POST", "/api/v1/tokens", token=person, json=body)
        assert answer.status == 422, body
        assert field in answer.error["details"]["fields"], answer.error
    unknown = await api.call(
        "POST", "/api/v1/tokens", token=person, json={"name": "ci", "scopes": ["root"]}
    )
    assert "root" in unknown.error["message"] and "releases:read" in unknown.error["message"]
    assert await stored.count_documents({}) == 0


async def test_revoking_a_token_stops_it(api: ApiClient) -> None:
    person = await api.login("dana")
    secret = await api.api_token("dana", "releases:read")
    token_id = secret.split("_")[1]
    revoked = await api.call("DELETE", f"/api/v1/tokens/{token_id}", token=person)
    assert revoked.status == 200 and revoked.body["revoked_at"]
    after = await api.call("GET", "/api/v1/releases", token=secret)
    assert after.status == 401 and "revoked" in after.error["message"]


async def test_another_persons_token_is_404_to_a_non_admin_and_still_works(
    api: ApiClient,
) -> None:
    secret = await api.api_token("rhea", "releases:read")
    token_id = secret.split("_")[1]
    stored = api.bot.runtime.db["api_tokens"]
    before = await stored.find_one({"_id": {"$exists": True}})
    refused = await api.call("DELETE", f"/api/v1/tokens/{token_id}", token=await api.login("dana"))
    assert refused.status == 404 and refused.error["code"] == "RESOURCE_NOT_FOUND"
    assert await stored.find_one({"_id": {"$exists": True}}) == before
    assert (await api.call("GET", "/api/v1/releases", token=secret)).status == 200
    by_admin = await api.call(
        "DELETE", f"/api/v1/tokens/{token_id}", token=await api.login("admin")
    )
    assert by_admin.status == 200
    assert (await api.call("GET", "/api/v1/releases", token=secret)).status == 401
