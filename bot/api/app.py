"""The portal API as one value: its routes, who the caller is, and its OpenAPI document;
``mount`` puts it on the aiohttp app that also serves /slack/events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.api.admin import admin_routes
from bot.api.approvals import approval_routes
from bot.api.audit import audit_routes
from bot.api.auth import auth_routes
from bot.api.docs import docs_routes
from bot.api.editing import editing_routes
from bot.api.errors import api_errors
from bot.api.gates import gate_routes
from bot.api.openapi import openapi_document
from bot.api.releases import release_routes
from bot.api.routing import Authenticate, Route, add_routes
from bot.api.webhooks import webhook_routes
from bot.server import app_version
from core.services.container import Services

TITLE = "releasebot API"


@dataclass(frozen=True)
class Api:
    routes: tuple[Route, ...]
    authenticate: Authenticate
    document: Callable[[], dict[str, Any]]

    def mount(self, web_app: web.Application) -> None:
        """The routes, and the error envelope for every /api path (and for nothing else)."""
        web_app.middlewares.append(api_errors)
        add_routes(web_app, self.routes, self.authenticate)


def build_api(services: Services, *, authenticate: Authenticate | None = None) -> Api:
    """Every route of the API; ``authenticate`` defaults to the core's AuthService. The
    document is built when first asked for (building a bot should not pay for it)."""
    built: dict[str, Any] = {}

    def document() -> dict[str, Any]:
        if not built:
            built.update(openapi_document(routes, title=TITLE, version=app_version()))
        return built

    routes = [
        *auth_routes(services),
        *release_routes(services),
        *gate_routes(services),
        *approval_routes(services),
        *editing_routes(services),
        *admin_routes(services),
        *webhook_routes(services),
        *audit_routes(services),
        *docs_routes(document),
    ]
    return Api(tuple(routes), authenticate or services.auth.authenticate, document)
