"""The OpenAPI document at /api/v1/openapi.json and Swagger UI at /api/docs, served offline:
its assets come from the swagger-ui-bundle package, never from a CDN."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from bot.api.routing import Call, Route
from core.errors import NotFound

DOCS_PATH = "/api/docs"
OPENAPI_PATH = "/api/v1/openapi.json"
ASSETS = Path(swagger_ui_path)
_ASSET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# The package's own page and initializer point at the Petstore example; ours replace them.
_NOT_SERVED = frozenset({"index.html", "index.j2", "swagger-initializer.js"})

PAGE = f"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>releasebot API</title>
    <link rel="stylesheet" type="text/css" href="{DOCS_PATH}/swagger-ui.css" />
    <link rel="stylesheet" type="text/css" href="{DOCS_PATH}/index.css" />
    <link rel="icon" type="image/png" href="{DOCS_PATH}/favicon-32x32.png" sizes="32x32" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="{DOCS_PATH}/swagger-ui-bundle.js" charset="UTF-8"></script>
    <script src="{DOCS_PATH}/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
    <script>
      window.onload = function () {{
        window.ui = SwaggerUIBundle({{
          url: "{OPENAPI_PATH}",
          dom_id: "#swagger-ui",
          deepLinking: true,
          validatorUrl: null,
          persistAuthorization: true,
          presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
          layout: "StandaloneLayout"
        }});
      }};
    </script>
  </body>
</html>
"""


def served_assets() -> frozenset[str]:
    return frozenset(p.name for p in ASSETS.iterdir() if p.is_file() and p.name not in _NOT_SERVED)


def docs_routes(document: Callable[[], dict[str, Any]]) -> list[Route]:
    """``document``: the OpenAPI document of every route, these included."""
    assets = served_assets()

    async def openapi_json(_call: Call) -> web.StreamResponse:
        return web.json_response(document())

    async def docs_page(_call: Call) -> web.StreamResponse:
        return web.Response(text=PAGE, content_type="text/html")

    async def docs_asset(call: Call) -> web.StreamResponse:
        name = call.params["asset"]
        if not _ASSET_NAME.fullmatch(name) or name not in assets:
            raise NotFound(f"The API docs have no file '{name[:100]}'; open {DOCS_PATH}.")
        return web.FileResponse(ASSETS / name, headers={"Cache-Control": "public, max-age=86400"})

    return [
        Route(
            "GET",
            OPENAPI_PATH,
            openapi_json,
            "This document",
            "docs",
            public=True,
            raw_content_type="application/json",
        ),
        Route(
            "GET",
            DOCS_PATH,
            docs_page,
            "Interactive API docs (Swagger UI)",
            "docs",
            public=True,
            raw_content_type="text/html",
        ),
        Route(
            "GET",
            f"{DOCS_PATH}/{{asset}}",
            docs_asset,
            "A file of the interactive docs (scripts, styles, icons)",
            "docs",
            public=True,
            raw_content_type="application/octet-stream",
            params={"asset": "The file's name, e.g. swagger-ui-bundle.js"},
        ),
    ]
