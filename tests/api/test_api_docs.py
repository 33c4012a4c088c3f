"""The interactive docs work offline: the page and every file it loads come from this
server, never from a CDN."""

from __future__ import annotations

import re

from tests.api.conftest import ApiClient

LOADED = re.compile(r'(?:src|href)="([^"]+)"')


async def test_the_docs_page_loads_only_files_this_server_serves(api: ApiClient) -> None:
    page = await api.call("GET", "/api/docs")
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    html: str = page.body
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    assert 'url: "/api/v1/openapi.json"' in html
    assert "validatorUrl: null" in html  # no call to validator.swagger.io either
    loaded = LOADED.findall(html)
    assert {"/api/docs/swagger-ui-bundle.js", "/api/docs/swagger-ui.css"} <= set(loaded)
    for path in loaded:
        assert path.startswith("/api/docs/"), path
        asset = await api.call("GET", path)
        assert asset.status == 200, path
        assert asset.body, path
    script = await api.call("GET", "/api/docs/swagger-ui-bundle.js")
    assert "javascript" in script.headers["Content-Type"]
    assert "SwaggerUIBundle" in script.body


async def test_the_packaged_petstore_page_and_unknown_files_are_not_served(
    api: ApiClient,
) -> None:
    for name in ("index.html", "swagger-initializer.js", "nothing.js", "..%2Fdocs.py"):
        answer = await api.call("GET", f"/api/docs/{name}")
        assert answer.status == 404, name
        assert answer.error["code"] in {"RESOURCE_NOT_FOUND", "ROUTE_NOT_FOUND"}
