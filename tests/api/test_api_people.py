"""Invitations and disabling through the API: POST/GET/DELETE /api/v1/invitations, and a
user disabled by PATCH /users refused at once with their API token."""

from __future__ import annotations

from core.models.rbac import SlackIdentity
from tests.api.conftest import ApiClient
from tests.api.test_api_admin import stored

V1 = "/api/v1"


async def test_invitations_are_made_listed_and_revoked(api: ApiClient) -> None:
    token = await api.api_token("admin", "admin")
    made = await api.call(
        "POST",
        f"{V1}/invitations",
        token=token,
        json={"email": "Nia@Example.com", "roles": ["release manager"], "squad_ids": ["payments"]},
    )
    assert made.status == 201, made.body
    assert made.body["email"] == "nia@example.com" and made.body["status"] == "INVITED"
    assert made.body["role_names"] == ["Release Manager"]

    listed = await api.call("GET", f"{V1}/invitations", token=token)
    assert listed.status == 200 and [i["id"] for i in listed.body["items"]] == [made.body["id"]]

    revoked = await api.call("DELETE", f"{V1}/invitations/{made.body['id']}", token=token)
    assert revoked.status == 200 and revoked.body["status"] == "REVOKED"
    twice = await api.call("DELETE", f"{V1}/invitations/{made.body['id']}", token=token)
    assert twice.status == 409 and "revoked already" in twice.error["message"]


async def test_refused_invitations_store_nothing(api: ApiClient) -> None:
    token = await api.api_token("admin", "admin")
    await api.call("POST", f"{V1}/invitations", token=token, json={"email": "nia@example.com"})
    before = await stored(api, "invitations")

    for body, status, said in (
        ({"email": "dana@example.com"}, 409, "is a releasebot user already"),
        ({"email": "nia@example.com"}, 409, "is invited already"),
        ({"email": "x@example.com", "roles": ["Admn"]}, 404, "No role 'Admn'"),
        ({"email": "x@example.com", "squad_ids": ["paymnts"]}, 404, "No squad 'paymnts'"),
        ({"email": "not-an-email"}, 422, ""),
        ({"email": "a" * 300 + "@example.com"}, 422, ""),
    ):
        answer = await api.call("POST", f"{V1}/invitations", token=token, json=body)
        assert answer.status == status, (body, answer.body)
        assert said in answer.error["message"]
    dana = await api.call(  # a squad member may not invite
        "POST", f"{V1}/invitations", token=await api.login("dana"), json={"email": "y@example.com"}
    )
    assert dana.status == 403 and "can_invite_users" in dana.error["message"]
    assert await stored(api, "invitations") == before


async def test_an_invitation_accepted_in_slack_shows_accepted(api: ApiClient) -> None:
    token = await api.api_token("admin", "admin")
    made = await api.call(
        "POST", f"{V1}/invitations", token=token, json={"email": "nia@example.com"}
    )
    identity = SlackIdentity(
        team_id=api.bot.runtime.settings.slack_team_id or "T0DEMO", user_id="UNIA"
    )
    identities = api.bot.runtime.deps.services.identity
    actor = await identities.link_by_email(identity, "nia@example.com", join=True)
    assert actor is not None

    listed = await api.call("GET", f"{V1}/invitations", token=token)
    [shown] = [i for i in listed.body["items"] if i["id"] == made.body["id"]]
    assert shown["status"] == "ACCEPTED" and shown["accepted_user_id"] == actor.user_id


async def test_a_disabled_users_api_token_is_refused_at_once(api: ApiClient) -> None:
    admin = await api.api_token("admin", "admin")
    rhea = await api.api_token("rhea", "releases:read")
    assert (await api.call("GET", f"{V1}/releases", token=rhea)).status == 200

    disabled = await api.call("PATCH", f"{V1}/users/rhea", token=admin, json={"status": "DISABLED"})
    assert disabled.status == 200, disabled.body
    refused = await api.call("GET", f"{V1}/releases", token=rhea)

    assert refused.status == 401 and "is disabled" in refused.error["message"]
    enabled = await api.call("PATCH", f"{V1}/users/rhea", token=admin, json={"status": "ACTIVE"})
    assert enabled.status == 200
    assert (await api.call("GET", f"{V1}/releases", token=rhea)).status == 200
