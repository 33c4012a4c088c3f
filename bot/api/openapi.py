"""The OpenAPI 3.1 document, derived from the route declarations and their pydantic models:
nothing in it is written by hand but the words of each route."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaValue, models_json_schema

from bot.api.errors import ErrorEnvelope
from bot.api.routing import Route

REF_TEMPLATE = "#/components/schemas/{model}"
BEARER = "bearer"

Mode = Literal["validation", "serialization"]


def openapi_document(routes: Sequence[Route], *, title: str, version: str) -> dict[str, Any]:
    wanted: list[tuple[type[BaseModel], Mode]] = [(ErrorEnvelope, "serialization")]
    for route in routes:
        wanted += [(m, "validation") for m in (route.body, route.query) if m is not None]
        if route.response is not None:
            wanted.append((route.response, "serialization"))
    refs, defs = models_json_schema(list(dict.fromkeys(wanted)), ref_template=REF_TEMPLATE)
    schemas: dict[str, JsonSchemaValue] = defs.get("$defs", {})

    def ref(model: type[BaseModel], mode: Mode) -> JsonSchemaValue:
        return refs[(model, mode)]

    def definition(model: type[BaseModel], mode: Mode) -> JsonSchemaValue:
        name = str(ref(model, mode)["$ref"]).rsplit("/", 1)[-1]
        return schemas[name]

    error = {
        "description": "An error, in the envelope every error has",
        "content": {"application/json": {"schema": ref(ErrorEnvelope, "serialization")}},
    }

    def operation(route: Route) -> dict[str, Any]:
        parameters: list[dict[str, Any]] = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
                "description": route.params.get(name, ""),
            }
            for name in route.path_params
        ]
        parameters += [
            {"name": name, "in": "header", "required": False, "schema": {"type": "string"}}
            | {"description": said}
            for name, said in route.headers.items()
        ]
        if route.query is not None:
            query = definition(route.query, "validation")
            required = set(query.get("required", []))
            for name, schema in query.get("properties", {}).items():
                parameters.append(
                    {
                        "name": name,
                        "in": "query",
                        "required": name in required,
                        "schema": schema,
                        "description": schema.get("description", ""),
                    }
                )
        if route.response is not None:
            content = {"application/json": {"schema": ref(route.response, "serialization")}}
        elif route.raw_content_type is not None:
            content = {route.raw_content_type: {"schema": {"type": "string"}}}
        else:
            content = {}
        success: dict[str, Any] = {"description": route.summary}
        if content:
            success["content"] = content
        responses: dict[str, Any] = {str(route.status): success}
        if route.body is not None:
            responses["400"] = error
        if not route.public:
            responses["401"] = error
            responses["403"] = error
        if route.path_params:
            responses["404"] = error
        if route.body is not None or route.query is not None:
            responses["422"] = error
        responses["default"] = error
        scopes = [route.scope.value] if route.scope is not None else []
        access = (
            "Public: no Authorization needed."
            if route.public
            else f"Needs a token with the scope {scopes[0]}."
            if scopes
            else "Needs any valid token."
        )
        found: dict[str, Any] = {
            "operationId": route.operation_id,
            "summary": route.summary,
            "description": f"{route.description}\n\n{access}".strip(),
            "tags": [route.tag],
            "security": [] if route.public else [{BEARER: []}],
            "x-scopes": scopes,
            "parameters": parameters,
            "responses": responses,
        }
        if route.body is not None:
            found["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref(route.body, "validation")}},
            }
        return found

    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": (
                "The releasebot portal API: the same releases, rules and permissions as the "
                "Slack bot. Sign in with POST /api/v1/auth/login (a person) or send an API "
                "token from POST /api/v1/tokens (a machine) as Authorization: Bearer <token>. "
                'Every error answers {"error": {"code", "message", "details"}}.'
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                BEARER: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An access token from /auth/login, or an API token (rbt_…)",
                }
            },
        },
        "security": [{BEARER: []}],
    }
