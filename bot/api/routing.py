"""Routes declared once: the same ``Route`` builds the aiohttp route and its entry in the
OpenAPI document (``bot.api.openapi``), so neither can list a route the other lacks.

A route's handler gets a ``Call`` — the caller (``Principal``), the path parameters, and the
body and query already parsed into their models — and returns its response model (or, for
the docs' own pages, an aiohttp response). The layer around it authenticates, checks the
route's scope, parses, and serialises the answer through the declared response model."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError

from bot import logs
from bot.api.errors import read_json, request_invalid
from core.rules.permissions import Actor
from core.rules.principal import Principal, Scope

M = TypeVar("M", bound=BaseModel)

Authenticate = Callable[[str | None], Awaitable[Principal]]
Handler = Callable[["Call"], Awaitable[BaseModel | web.StreamResponse | None]]

_PATH_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Route:
    """One API operation.

    ``scope``: what a token needs (a person has every scope); None with ``public`` False
    means any authenticated caller. ``public``: no Authorization needed at all.
    ``response``: the model the answer is serialised through (None: no body, e.g. 204, or
    ``raw`` content). ``params``: a description per path parameter."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    scope: Scope | None = None
    public: bool = False
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    description: str = ""
    params: Mapping[str, str] = field(default_factory=dict)
    # Optional request headers the route reads, with their description (Idempotency-Key).
    headers: Mapping[str, str] = field(default_factory=dict)
    # For routes answering something else than JSON (the docs page and its assets).
    raw_content_type: str | None = None

    @property
    def path_params(self) -> list[str]:
        return _PATH_PARAM.findall(self.path)

    @property
    def operation_id(self) -> str:
        return getattr(self.handler, "__name__", self.path)


@dataclass(frozen=True)
class Call:
    """What a handler gets; ``body``/``query`` check the model they were declared with."""

    request: web.Request
    principal: Principal | None
    params: Mapping[str, str]
    parsed_body: BaseModel | None = None
    parsed_query: BaseModel | None = None

    def body(self, model: type[M]) -> M:
        if not isinstance(self.parsed_body, model):
            raise TypeError(f"the route declares no body of type {model.__name__}")
        return self.parsed_body

    def query(self, model: type[M]) -> M:
        if not isinstance(self.parsed_query, model):
            raise TypeError(f"the route declares no query of type {model.__name__}")
        return self.parsed_query

    @property
    def caller(self) -> Principal:
        if self.principal is None:
            raise TypeError("a public route has no caller")
        return self.principal

    @property
    def actor(self) -> Actor:
        return self.caller.actor


def add_routes(app: web.Application, routes: Sequence[Route], authenticate: Authenticate) -> None:
    for route in routes:
        app.router.add_route(route.method, route.path, _aiohttp_handler(route, authenticate))


def _aiohttp_handler(
    route: Route, authenticate: Authenticate
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    adapter = TypeAdapter(route.response) if route.response is not None else None

    async def handle(request: web.Request) -> web.StreamResponse:
        principal = None
        if not route.public:
            principal = await authenticate(request.headers.get("Authorization"))
            logs.portal_user.set(principal.actor.user.username)
            if route.scope is not None:
                principal.require_scope(route.scope)
        call = Call(
            request,
            principal,
            dict(request.match_info),
            parsed_body=await _body(route, request),
            parsed_query=_query(route, request),
        )
        answer = await route.handler(call)
        if isinstance(answer, web.StreamResponse):
            return answer
        if adapter is None or answer is None:
            return web.Response(status=route.status)
        return web.json_response(adapter.dump_python(answer, mode="json"), status=route.status)

    handle.__name__ = route.operation_id
    return handle


async def _body(route: Route, request: web.Request) -> BaseModel | None:
    if route.body is None:
        return None
    data = read_json(await request.read())
    try:
        return route.body.model_validate(data)
    except ValidationError as error:
        raise request_invalid(error, "body") from None


def _query(route: Route, request: web.Request) -> BaseModel | None:
    if route.query is None:
        return None
    try:
        return route.query.model_validate(dict(request.query))
    except ValidationError as error:
        raise request_invalid(error, "query") from None
