"""Every failure under /api answered in one envelope:
``{"error": {"code": "...", "message": "...", "details": {...}}}``.

A domain error's HTTP status comes from its ``ErrorCode`` (one table, ``STATUS``), so a new
error gets its status here once. The message is the core's sentence, which says what was
wrong and what to do about it; details carry what a program needs (the fields, the kind of
thing not found and the closest names, when to try again)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from bot import logs
from core.errors import DomainError, ErrorCode, NotFound, RateLimited, ValidationFailed
from storage.engine import is_unavailable

log = logging.getLogger(__name__)

API_PREFIX = "/api/"

STATUS: dict[ErrorCode, int] = {
    ErrorCode.RESOURCE_NOT_FOUND: 404,
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.VALIDATION_ERROR: 422,
    ErrorCode.RULE_VIOLATION: 409,
    ErrorCode.CONFLICT: 409,
    ErrorCode.DUPLICATE: 409,
    ErrorCode.NOT_AUTHENTICATED: 401,
    ErrorCode.RATE_LIMITED: 429,
}

# Codes of failures that are not domain errors.
BAD_REQUEST = "BAD_REQUEST"
ROUTE_NOT_FOUND = "ROUTE_NOT_FOUND"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
INTERNAL_ERROR = "INTERNAL_ERROR"


class ErrorBody(BaseModel):
    code: str = Field(description="Stable, for programs: RESOURCE_NOT_FOUND, VALIDATION_ERROR…")
    message: str = Field(description="For people: what was wrong and how to fix it.")
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="fields (input name → problem), kind and suggestions (not found), "
        "retry_after (seconds), reference (an unexpected error, as logged)",
    )


class ErrorEnvelope(BaseModel):
    """What every error under /api answers."""

    error: ErrorBody


class BadRequest(Exception):
    """A request that cannot be read at all (not JSON): 400."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def request_invalid(error: ValidationError, where: str) -> ValidationFailed:
    """A request's body, query or path that its model refused, each field named with where
    it was (``body.release_id``, ``query.limit``)."""
    found = ValidationFailed.from_pydantic(error)
    fields = {
        where if name == "input" else f"{where}.{name}": problem
        for name, problem in found.fields.items()
    }
    summary = "; ".join(f"{name}: {problem}" for name, problem in fields.items())
    return ValidationFailed(f"Please correct the request — {summary}", fields=fields)


def error_response(
    status: int,
    code: str,
    message: str,
    details: Mapping[str, Any] | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    body = ErrorEnvelope(error=ErrorBody(code=code, message=message, details=dict(details or {})))
    return web.json_response(
        body.model_dump(mode="json"), status=status, headers=dict(headers or {})
    )


def domain_error_response(error: DomainError) -> web.Response:
    details: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if error.fields:
        details["fields"] = error.fields
    if isinstance(error, NotFound):
        details["kind"] = error.kind.value if error.kind else None
        details["suggestions"] = list(error.suggestions)
    if isinstance(error, RateLimited):
        details["retry_after"] = error.retry_after
        headers["Retry-After"] = str(error.retry_after)
    if error.code is ErrorCode.NOT_AUTHENTICATED:
        headers["WWW-Authenticate"] = 'Bearer realm="releasebot"'
    return error_response(
        STATUS[error.code], error.code.value, error.message, details, headers=headers
    )


def http_error_response(error: web.HTTPException, request: web.Request) -> web.Response:
    """aiohttp's own refusals (no such route, wrong method, body too large) in the envelope."""
    if isinstance(error, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(error.allowed_methods))
        return error_response(
            405,
            METHOD_NOT_ALLOWED,
            f"{request.method} is not allowed on {request.path}; use {allowed}.",
            {"allowed": sorted(error.allowed_methods)},
            headers={"Allow": allowed},
        )
    if isinstance(error, web.HTTPNotFound):
        return error_response(
            404,
            ROUTE_NOT_FOUND,
            f"There is no API route {request.path}; GET /api/v1/openapi.json lists them all.",
        )
    if isinstance(error, web.HTTPRequestEntityTooLarge):
        return error_response(413, PAYLOAD_TOO_LARGE, "The request body is too large.")
    code = error.reason.upper().replace(" ", "_").replace("-", "_")
    return error_response(error.status, code, error.reason, headers=_kept_headers(error))


def _kept_headers(error: web.HTTPException) -> dict[str, str]:
    return {
        k: v
        for k, v in error.headers.items()
        if k.lower() not in {"content-type", "content-length"}
    }


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def api_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Only for /api paths: anything else (Slack's, /health) passes through untouched."""
    if not request.path.startswith(API_PREFIX) and request.path != API_PREFIX.rstrip("/"):
        return await handler(request)
    logs.request_id.set(logs.new_request_id())
    try:
        return await handler(request)
    except DomainError as error:
        log.info("API refused %s %s: %s", request.method, request.path, error)
        return domain_error_response(error)
    except BadRequest as error:
        return error_response(400, BAD_REQUEST, error.message)
    except web.HTTPException as error:
        if error.status < 400:  # a redirect is an answer, not a failure
            raise
        return http_error_response(error, request)
    except Exception as error:
        reference = logs.request_id.get()
        if is_unavailable(error):
            log.warning("API: storage unavailable (ref %s): %r", reference, error)
            return error_response(
                503,
                SERVICE_UNAVAILABLE,
                "releasebot cannot reach its database right now, so nothing was done. "
                "Please try again in a minute.",
                {"reference": reference},
                headers={"Retry-After": "30"},
            )
        log.exception(
            "API: unexpected error on %s %s (ref %s)", request.method, request.path, reference
        )
        return error_response(
            500,
            INTERNAL_ERROR,
            f"Something went wrong on our side (reference {reference}). "
            "Please try again, or tell an admin the reference.",
            {"reference": reference},
        )


def read_json(raw: bytes) -> object:
    """The body as JSON, or a 400 that says where it stopped being JSON."""
    if not raw.strip():
        raise BadRequest("The request has no body; send a JSON object.")
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        raise BadRequest("The request body is not UTF-8 text; send a JSON object.") from None
    except json.JSONDecodeError as error:
        raise BadRequest(
            f"The request body is not valid JSON ({error.msg} at line {error.lineno} column "
            f"{error.colno}); send a JSON object."
        ) from None
