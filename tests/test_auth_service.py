"""Signing in to the portal API and its tokens (core/services/auth.py), on the fakes and on
the storage adapters: who gets a session, who is refused and how, and what is stored."""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Awaitable
from datetime import timedelta

import jwt
import pytest

from core.clock import utc_now
from core.errors import NotAuthenticated, NotFound, PermissionDenied, RateLimited, ValidationFailed
from core.models.rbac import Permission, UserStatus
from core.passwords import verify_password
from core.rules.permissions import Actor
from core.rules.principal import ALL_SCOPES, Principal, Scope
from core.seeds.demo import DEMO_PASSWORD, DEMO_PASSWORD_HASH, seed_demo_data
from core.services.auth import (
    HOW_TO_AUTHENTICATE,
    LOGIN_FAILURES_ALLOWED,
    LOGIN_WINDOW,
    WRONG_LOGIN,
    AuthService,
    AuthSettings,
)
from tests.support import World

PASSWORD = DEMO_PASSWORD  # its hash is precomputed: hashing one costs ~0.2 s
CI = "10.0.0.7"
OTHER_SECRET = "another-server's-secret-" + "x" * 20
READ_AND_GATES = [Scope.RELEASES_READ.value, Scope.GATES_WRITE.value]


@pytest.fixture
def world(any_world: World) -> World:
    return any_world


def auth(world: World) -> AuthService:
    return world.services.auth


async def person(
    world: World, username: str, *permissions: Permission, status: str = "ACTIVE"
) -> Actor:
    """A stored user with the password ``PASSWORD``."""
    actor = await world.actor(username, *permissions, status=status)
    await world.edit_stored("users", {"username": username}, {"password_hash": DEMO_PASSWORD_HASH})
    return actor


def bearer(token: str) -> str:
    return f"Bearer {token}"


async def refused(call: Awaitable[object]) -> NotAuthenticated:
    with pytest.raises(NotAuthenticated) as error:
        await call
    return error.value


# --- people: sign in ------------------------------------------------------------------------


async def test_a_person_signs_in_and_the_session_acts_as_them_with_every_scope(
    world: World,
) -> None:
    alice = await person(world, "alice", Permission.CAN_CREATE_RELEASE)

    pair = await auth(world).login("Alice", PASSWORD, CI)  # usernames ignore case
    principal = await auth(world).authenticate(bearer(pair.access_token))

    assert pair.token_type == "bearer" and pair.expires_in == 15 * 60
    assert principal.actor.user_id == alice.user_id and principal.is_person
    assert principal.scopes == ALL_SCOPES
    assert principal.actor.has(Permission.CAN_CREATE_RELEASE)


async def test_a_wrong_password_and_an_unknown_user_are_refused_alike(world: World) -> None:
    await person(world, "alice")
    await world.actor("slack-only")  # no password at all: signs in through Slack only

    wrong = await refused(auth(world).login("alice", "not-the-password", CI))
    too_long = await refused(auth(world).login("alice", PASSWORD + "é" * 40, CI))  # > 72 bytes
    unknown = await refused(auth(world).login("nobody", PASSWORD, CI))
    no_password = await refused(auth(world).login("slack-only", PASSWORD, CI))

    assert wrong.message == unknown.message == no_password.message == WRONG_LOGIN
    assert too_long.message == WRONG_LOGIN  # bcrypt takes 72 bytes at most: no crash


async def test_an_unknown_user_takes_as_long_to_refuse_as_a_wrong_password(
    world: World,
) -> None:
    """A password is checked even when there is no user: how long a refusal takes does not
    tell whether the username exists. (bcrypt takes ~0.2 s; the rest, milliseconds.)"""
    await person(world, "alice")

    began = time.perf_counter()
    await refused(auth(world).login("alice", "wrong", CI))
    known = time.perf_counter() - began
    began = time.perf_counter()
    await refused(auth(world).login("nobody", "wrong", CI))
    unknown = time.perf_counter() - began

    assert unknown > known / 3


@pytest.mark.parametrize("status", ["DISABLED", "INVITED"])
async def test_a_user_who_is_not_active_cannot_sign_in(world: World, status: str) -> None:
    await person(world, "alice", status=status)

    error = await refused(auth(world).login("alice", PASSWORD, CI))

    assert f"'alice' is {status.lower()}" in error.message and "ask an admin" in error.message


async def test_a_disabled_users_session_and_tokens_stop_at_once(world: World) -> None:
    alice = await person(world, "alice")
    pair = await auth(world).login("alice", PASSWORD, CI)
    _, secret = await auth(world).create_token(Principal(alice), "ci", READ_AND_GATES, 30)

    await world.repos.users.set_status(alice.user_id, UserStatus.DISABLED)

    for credentials in (pair.access_token, secret):
        error = await refused(auth(world).authenticate(bearer(credentials)))
        assert "'alice' is disabled" in error.message
    assert "disabled" in (await refused(auth(world).refresh(pair.refresh_token))).message


# --- the limit on failed sign-ins -------------------------------------------------------------


async def test_failed_sign_ins_are_limited_per_username_and_client(world: World) -> None:
    await person(world, "alice")
    # Guesses at once all count (each is counted before its password is checked).
    guesses = [auth(world).login("alice", f"guess-{n}", CI) for n in range(LOGIN_FAILURES_ALLOWED)]
    outcomes = await asyncio.gather(*guesses, return_exceptions=True)
    assert all(isinstance(o, NotAuthenticated) for o in outcomes)

    with pytest.raises(RateLimited) as limited:
        await auth(world).login("ALICE", PASSWORD, CI)  # even the right password, any case

    assert limited.value.retry_after == LOGIN_WINDOW.total_seconds()
    assert "try again in 15 minutes" in limited.value.message
    assert [d["count"] for d in await world.stored("login_attempts")] == [6]
    # Another client is not held back by these guesses.
    assert (await auth(world).login("alice", PASSWORD, "10.0.0.8")).access_token

    world.clock.advance(minutes=10)
    with pytest.raises(RateLimited) as still:
        await auth(world).login("alice", PASSWORD, CI)
    assert still.value.retry_after == 5 * 60

    world.clock.advance(minutes=5)  # the window is over
    assert (await auth(world).login("alice", PASSWORD, CI)).access_token


async def test_a_successful_sign_in_clears_the_count(world: World) -> None:
    await person(world, "alice")
    for _ in range(2):
        await refused(auth(world).login("alice", "wrong", CI))
    assert [d["count"] for d in await world.stored("login_attempts")] == [2]

    await auth(world).login("alice", PASSWORD, CI)

    assert await world.stored("login_attempts") == []
    await refused(auth(world).login("alice", "wrong", CI))
    assert [d["count"] for d in await world.stored("login_attempts")] == [1]


async def test_the_database_forgets_a_count_once_it_is_over(storage_world: World) -> None:
    """A TTL index drops counts (MongoDB, and mongomock alike) by the wall clock, after the
    window and a margin; a count dropped is started afresh."""
    world = storage_world
    await person(world, "alice")
    for _ in range(2):
        await refused(auth(world).login("alice", "wrong", CI))
    indexes = await world.mongo["login_attempts"].index_information()
    [stored] = await world.stored("login_attempts")

    assert indexes["purge_attempts"]["expireAfterSeconds"] == 0
    assert stored["purge_after"] > utc_now() + LOGIN_WINDOW
    await world.edit_stored("login_attempts", {}, {"purge_after": utc_now() - timedelta(seconds=1)})
    await refused(auth(world).login("alice", "wrong", CI))
    assert [d["count"] for d in await world.stored("login_attempts")] == [1]


# --- sessions: refresh and expiry -------------------------------------------------------------


async def test_a_refresh_token_gives_a_new_session(world: World) -> None:
    alice = await person(world, "alice")
    first = await auth(world).login("alice", PASSWORD, CI)
    world.clock.advance(minutes=20)  # the access token expired, the refresh token did not

    expired = await refused(auth(world).authenticate(bearer(first.access_token)))
    second = await auth(world).refresh(first.refresh_token)

    assert "session expired" in expired.message and "/api/v1/auth/refresh" in expired.message
    principal = await auth(world).authenticate(bearer(second.access_token))
    assert principal.actor.user_id == alice.user_id


async def test_an_access_token_is_no_refresh_token_and_the_other_way_round(world: World) -> None:
    await person(world, "alice")
    pair = await auth(world).login("alice", PASSWORD, CI)

    as_refresh = await refused(auth(world).refresh(pair.access_token))
    as_access = await refused(auth(world).authenticate(bearer(pair.refresh_token)))

    assert "That is an access token" in as_refresh.message
    assert "That is a refresh token" in as_access.message


async def test_an_expired_refresh_token_is_refused(world: World) -> None:
    await person(world, "alice")
    pair = await auth(world).login("alice", PASSWORD, CI)
    world.clock.advance(days=7)

    error = await refused(auth(world).refresh(pair.refresh_token))

    assert "refresh token expired" in error.message and "/api/v1/auth/login" in error.message


async def test_a_tampered_or_foreign_session_token_is_refused(world: World) -> None:
    alice = await person(world, "alice")
    pair = await auth(world).login("alice", PASSWORD, CI)
    head, body, signature = pair.access_token.split(".")
    forged_claims = jwt.decode(pair.access_token, options={"verify_signature": False})
    forged = jwt.encode(
        {**forged_claims, "sub": "0" * 24}, "x" * 40, algorithm="HS256"
    )  # another server's secret
    other = AuthService(
        world.repos.api_tokens,
        world.repos.login_attempts,
        world.repos.users,
        world.services.identity,
        world.clock,
        AuthSettings(secret=OTHER_SECRET),
    )

    for token in (
        f"{head}.{body}.{signature[::-1]}",
        f"{head}.{body[:-2]}.{signature}",
        forged,
        "not-a-jwt",
    ):
        error = await refused(auth(world).authenticate(bearer(token)))
        assert "not valid" in error.message and HOW_TO_AUTHENTICATE in error.message
    await refused(other.authenticate(bearer(pair.access_token)))  # signed with another secret
    # Signed right, for a user who is not (or no longer) there.
    claims = {**jwt.decode(pair.refresh_token, options={"verify_signature": False})}
    claims["sub"] = "0" * 24
    ghost_token = jwt.encode(claims, OTHER_SECRET, algorithm="HS256")
    ghost = await refused(other.refresh(ghost_token))
    assert "no longer exists" in ghost.message
    assert (await auth(world).authenticate(bearer(pair.access_token))).actor.user_id == (
        alice.user_id
    )


@pytest.mark.parametrize(
    "header", [None, "", "   ", "Basic YWxpY2U6cHc=", "Bearer", "Bearer   ", "Token abc"]
)
async def test_a_request_without_bearer_credentials_is_told_what_to_send(
    world: World, header: str | None
) -> None:
    error = await refused(auth(world).authenticate(header))

    assert HOW_TO_AUTHENTICATE in error.message


# --- machines: API tokens --------------------------------------------------------------------


async def test_an_api_token_is_shown_once_and_only_its_hash_is_stored(world: World) -> None:
    alice = await person(world, "alice")

    token, secret = await auth(world).create_token(Principal(alice), " ci ", READ_AND_GATES, 30)

    assert re.fullmatch(rf"rbt_{token.id}_[A-Za-z0-9_-]{{32,}}", secret)
    assert token.name == "ci" and token.user_id == alice.user_id
    assert token.scopes == [Scope.RELEASES_READ, Scope.GATES_WRITE]
    assert token.expires_at == world.clock() + timedelta(days=30)
    [stored] = await world.stored("api_tokens")
    assert stored["secret_sha256"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.split("_", 2)[2] not in str(stored)  # the secret itself is nowhere
    assert "secret_sha256" not in token.model_dump()


async def test_an_api_token_acts_as_its_user_with_its_scopes_only(world: World) -> None:
    alice = await person(world, "alice", Permission.CAN_MANAGE_QUALITY_GATES)
    token, secret = await auth(world).create_token(Principal(alice), "ci", READ_AND_GATES, 30)

    principal = await auth(world).authenticate(bearer(secret))

    assert principal.actor.user_id == alice.user_id and principal.token_id == token.id
    assert principal.scopes == {Scope.RELEASES_READ, Scope.GATES_WRITE}
    assert principal.actor.has(Permission.CAN_MANAGE_QUALITY_GATES)
    principal.require_scope(Scope.GATES_WRITE)
    with pytest.raises(PermissionDenied, match="lacks the 'releases:write' scope"):
        principal.require_scope(Scope.RELEASES_WRITE)
    [stored] = await world.stored("api_tokens")
    assert stored["last_used_at"] == world.clock()


async def test_a_tokens_last_use_is_written_at_most_once_a_minute(world: World) -> None:
    alice = await person(world, "alice")
    _, secret = await auth(world).create_token(Principal(alice), "ci", READ_AND_GATES, 30)
    used_at = world.clock()
    await auth(world).authenticate(bearer(secret))

    world.clock.advance(seconds=30)
    await auth(world).authenticate(bearer(secret))
    assert (await world.stored("api_tokens"))[0]["last_used_at"] == used_at

    world.clock.advance(seconds=30)
    await auth(world).authenticate(bearer(secret))
    assert (await world.stored("api_tokens"))[0]["last_used_at"] == world.clock()


@pytest.mark.parametrize(
    ("name", "scopes", "days", "field", "said"),
    [
        ("ci", ["releases:read", "deploy:all"], 30, "scopes", "Unknown scope 'deploy:all'"),
        ("ci", [], 30, "scopes", "at least 1 item"),
        ("", ["releases:read"], 30, "name", "at least 1 character"),
        ("x" * 81, ["releases:read"], 30, "name", "at most 80 characters"),
        ("ci", ["releases:read"], 0, "expires_in_days", "greater than or equal to 1"),
        ("ci", ["releases:read"], 366, "expires_in_days", "less than or equal to 365"),
    ],
)
async def test_a_token_request_is_checked_and_nothing_is_stored_when_wrong(
    world: World, name: str, scopes: list[str], days: int, field: str, said: str
) -> None:
    alice = await person(world, "alice")
    before = await world.snapshot()

    with pytest.raises(ValidationFailed) as error:
        await auth(world).create_token(Principal(alice), name, scopes, days)

    assert said in error.value.fields[field]
    assert await world.snapshot() == before


async def test_an_api_token_cannot_make_more_tokens(world: World) -> None:
    alice = await person(world, "alice")
    _, secret = await auth(world).create_token(Principal(alice), "ci", list(Scope), 30)
    machine = await auth(world).authenticate(bearer(secret))
    before = await world.snapshot()

    with pytest.raises(PermissionDenied, match="An API token cannot make API tokens"):
        await auth(world).create_token(machine, "more", READ_AND_GATES, 30)
    with pytest.raises(PermissionDenied, match="An API token cannot revoke API tokens"):
        await auth(world).revoke_token(machine, machine.token_id or "")

    assert await world.snapshot() == before


async def test_revoked_expired_unknown_and_garbled_tokens_are_refused(world: World) -> None:
    alice = await person(world, "alice")
    revoked, revoked_secret = await auth(world).create_token(Principal(alice), "old", ["admin"], 5)
    _, short_secret = await auth(world).create_token(Principal(alice), "short", ["admin"], 1)
    _, good_secret = await auth(world).create_token(Principal(alice), "good", ["admin"], 30)
    await auth(world).revoke_token(Principal(alice), revoked.id)
    world.clock.advance(days=1)
    token_id = good_secret.split("_")[1]

    was_revoked = await refused(auth(world).authenticate(bearer(revoked_secret)))
    expired = await refused(auth(world).authenticate(bearer(short_secret)))
    assert "'old' was revoked on 2026-12-01" in was_revoked.message
    assert "'short' expired on 2026-12-02" in expired.message
    for garbled in (
        f"rbt_{'a' * 24}_{good_secret.split('_', 2)[2]}",  # unknown id
        f"rbt_{token_id}_{'A' * 43}",  # another secret for a known id
        good_secret[:-1],  # cut short
        f"rbt_{token_id}",
        "rbt_",
        "rbt_not-an-id_x",
    ):
        error = await refused(auth(world).authenticate(bearer(garbled)))
        assert "not one this server made" in error.message
    assert (await auth(world).authenticate(bearer(good_secret))).token_id == token_id


async def test_people_list_their_own_tokens_never_a_hash(world: World) -> None:
    alice = await person(world, "alice")
    bob = await person(world, "bob")
    first, _ = await auth(world).create_token(Principal(alice), "first", READ_AND_GATES, 30)
    second, _ = await auth(world).create_token(Principal(alice), "second", READ_AND_GATES, 30)
    await auth(world).create_token(Principal(bob), "bobs", READ_AND_GATES, 30)

    listed = await auth(world).list_tokens(Principal(alice))

    assert [t.id for t in listed] == [second.id, first.id]  # newest first
    assert all("secret_sha256" not in t.model_dump() for t in listed)


async def test_only_the_owner_or_a_user_admin_revokes_a_token(world: World) -> None:
    alice = await person(world, "alice")
    bob = await person(world, "bob", Permission.CAN_INVITE_USERS, Permission.CAN_VIEW_ALL)
    admin = await person(world, "root", Permission.CAN_MANAGE_ROLES)
    token, secret = await auth(world).create_token(Principal(alice), "ci", READ_AND_GATES, 30)
    before = await world.snapshot()

    with pytest.raises(NotFound) as error:
        await auth(world).revoke_token(Principal(bob), token.id)
    assert error.value.message.startswith(f"No API token '{token.id}' of yours")
    assert await world.snapshot() == before  # still usable
    assert (await auth(world).authenticate(bearer(secret))).token_id == token.id

    revoked = await auth(world).revoke_token(Principal(admin), token.id)
    assert revoked.revoked_at == world.clock()
    again = await auth(world).revoke_token(Principal(alice), token.id)  # harmless
    assert again.revoked_at == revoked.revoked_at
    with pytest.raises(NotFound):
        await auth(world).revoke_token(Principal(alice), "f" * 24)
    with pytest.raises(NotFound):
        await auth(world).revoke_token(Principal(alice), "no-such-token")


# --- the demo personas ---------------------------------------------------------------------


async def test_demo_personas_sign_in_with_the_demo_password(world: World) -> None:
    assert verify_password(DEMO_PASSWORD, DEMO_PASSWORD_HASH)  # the constant is that password
    await seed_demo_data(world.repos, today=world.clock().date())

    pair = await auth(world).login("dana", DEMO_PASSWORD, CI)

    principal = await auth(world).authenticate(bearer(pair.access_token))
    assert principal.actor.user.username == "dana"
