"""The API's shape: every route in the app is in the OpenAPI document and the reverse, and
every failure answers in the one error envelope with its status."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from aiohttp import web

from bot.api.app import Api, build_api
from bot.api.errors import STATUS
from bot.api.routing import Call, Route
from bot.devtools.harness import listen
from bot.server import EVENTS_PATH, build_web_app
from core.errors import ErrorCode
from core.rules.principal import Scope
from tests.api.conftest import ApiClient

METHODS = {"get", "post", "put", "patch", "delete"}


def served_api_routes(app: web.Application) -> set[tuple[str, str]]:
    found = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if path.startswith("/api") and route.method != "HEAD":
            found.add((route.method.lower(), path))
    return found


async def test_every_route_served_is_in_the_document_and_every_documented_one_is_served(
    api: ApiClient,
) -> None:
    answer = await api.call("GET", "/api/v1/openapi.json")
    assert answer.status == 200
    document = answer.body
    documented = {
        (method, path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in METHODS
    }
    served = served_api_routes(api.bot.runtime.web_app())
    assert documented == served
    assert {
        ("post", "/api/v1/auth/login"),
        ("get", "/api/v1/me"),
        ("delete", "/api/v1/tokens/{id}"),
        ("get", "/api/v1/releases/{release}/summary"),
    } <= served


async def test_the_document_is_openapi_3_1_with_scopes_security_and_the_error_envelope(
    api: ApiClient,
) -> None:
    document = (await api.call("GET", "/api/v1/openapi.json")).body
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    schemas = document["components"]["schemas"]
    assert set(schemas["ErrorBody"]["properties"]) == {"code", "message", "details"}
    operations = [op for ops in document["paths"].values() for op in ops.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    listing = document["paths"]["/api/v1/releases"]["get"]
    assert listing["x-scopes"] == [Scope.RELEASES_READ.value]
    assert "releases:read" in listing["description"]
    assert listing["security"] == [{"bearer": []}]
    assert {p["name"]: p["in"] for p in listing["parameters"]} == {
        "limit": "query",
        "cursor": "query",
        "q": "query",
    }
    limit = next(p for p in listing["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 100 and limit["schema"]["minimum"] == 1
    login = document["paths"]["/api/v1/auth/login"]["post"]
    assert login["security"] == []
    body_ref = login["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert set(schemas[body_ref.rsplit("/", 1)[-1]]["required"]) == {"username", "password"}
    # Every $ref points at a schema the document has.
    refs = _refs(document)
    assert refs and all(ref.rsplit("/", 1)[-1] in schemas for ref in refs)


def _refs(value: object) -> set[str]:
    if isinstance(value, dict):
        found = {value["$ref"]} if isinstance(value.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value))
    return set()


def test_every_domain_error_code_has_an_http_status() -> None:
    assert set(STATUS) == set(ErrorCode)


async def test_wrong_method_is_405_in_the_envelope_with_allow(api: ApiClient) -> None:
    answer = await api.call("PUT", "/api/v1/releases")
    assert answer.status == 405
    assert answer.error["code"] == "METHOD_NOT_ALLOWED"
    assert answer.headers["Allow"] == "GET, POST"
    assert answer.error["details"]["allowed"] == ["GET", "POST"]


async def test_unknown_api_route_is_404_in_the_envelope(api: ApiClient) -> None:
    token = await api.login("admin")
    answer = await api.call("GET", "/api/v1/no-such-thing", token=token)
    assert answer.status == 404
    assert answer.error["code"] == "ROUTE_NOT_FOUND"
    assert "/api/v1/openapi.json" in answer.error["message"]


async def test_a_body_that_is_not_json_is_400_saying_so(api: ApiClient) -> None:
    answer = await api.call("POST", "/api/v1/auth/login", data='{"username": ')
    assert answer.status == 400
    assert answer.error["code"] == "BAD_REQUEST"
    assert "not valid JSON" in answer.error["message"]
    empty = await api.call("POST", "/api/v1/auth/login", data="")
    assert empty.status == 400 and "no body" in empty.error["message"]


async def test_a_body_of_the_wrong_shape_is_422_naming_each_field(api: ApiClient) -> None:
    answer = await api.call("POST", "/api/v1/auth/login", json={"username": "dana", "pw": 1})
    assert answer.status == 422
    assert answer.error["code"] == "VALIDATION_ERROR"
    fields = answer.error["details"]["fields"]
    assert set(fields) == {"body.password", "body.pw"}
    assert "body.password" in answer.error["message"]
    not_an_object = await api.call("POST", "/api/v1/auth/login", json=["dana"])
    assert not_an_object.status == 422
    assert set(not_an_object.error["details"]["fields"]) == {"body"}


async def test_the_slack_path_and_health_keep_their_own_answers(api: ApiClient) -> None:
    """The envelope is for /api only: an unsigned Slack request is still refused Slack's
    way, in plain text, and /health answers as before."""
    unsigned = await api.call("POST", EVENTS_PATH, data="{}")
    assert unsigned.status == 401 and isinstance(unsigned.body, str)
    assert "error" not in unsigned.body
    health = await api.call("GET", "/health")
    assert health.status == 200 and health.body["status"] == "ok"
    nowhere = await api.call("GET", "/not-the-api")
    assert nowhere.status == 404 and not isinstance(nowhere.body, dict)


async def test_an_unexpected_error_is_500_with_a_reference_that_is_logged(
    api: ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode(_call: Call) -> None:
        raise RuntimeError("secret internals")

    boom = Route("GET", "/api/v1/boom", explode, "Fails", "test", public=True)
    real = build_api(api.bot.runtime.deps.services)
    app = build_web_app(
        None,
        api.bot.runtime.db,
        signing_secret=None,
        api=Api((boom,), real.authenticate, real.document),
    )
    runner, url = await listen(app)
    try:
        with caplog.at_level(logging.ERROR, logger="bot.api.errors"):
            async with aiohttp.ClientSession() as session, session.get(f"{url}/api/v1/boom") as r:
                status, body = r.status, await r.json()
    finally:
        await runner.cleanup()
    assert status == 500
    reference = body["error"]["details"]["reference"]
    assert body["error"]["code"] == "INTERNAL_ERROR"
    assert reference in body["error"]["message"]
    assert "secret internals" not in str(body) and "Traceback" not in str(body)
    assert any(reference in record.getMessage() for record in caplog.records)
    assert any(record.exc_info for record in caplog.records)
