"""The portal API over real HTTP: the bot's own aiohttp app (real services, the embedded
engine, demo data) on a free port, called as a CI job or a browser would."""

from __future__ import annotations

import json as json_module
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from bot.devtools.harness import LocalBot, local_bot
from core.seeds.demo import DEMO_PASSWORD
from storage.engine import Database


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: Mapping[str, str]

    @property
    def error(self) -> dict[str, Any]:
        """The error envelope's inside, after checking the envelope's shape."""
        assert set(self.body) == {"error"}, self.body
        error: dict[str, Any] = self.body["error"]
        assert set(error) == {"code", "message", "details"}, error
        assert isinstance(error["message"], str) and error["message"]
        return error


@dataclass
class ApiClient:
    bot: LocalBot
    session: aiohttp.ClientSession

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: object = None,
        data: str | bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        async with self.session.request(
            method, f"{self.bot.url}{path}", json=json, data=data, headers=sent
        ) as response:
            raw = await response.read()
            body: Any = raw
            if response.content_type == "application/json" and raw:
                body = json_module.loads(raw)
            elif not response.content_type.startswith("image/"):
                body = raw.decode()
            return Answer(response.status, body, dict(response.headers))

    async def login(self, username: str, password: str = DEMO_PASSWORD) -> str:
        """An access token for a demo persona."""
        answer = await self.call(
            "POST", "/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert answer.status == 200, answer.body
        token: str = answer.body["access_token"]
        return token

    async def api_token(self, username: str, *scopes: str) -> str:
        """An API token of ``username`` with ``scopes``, made through the API."""
        answer = await self.call(
            "POST",
            "/api/v1/tokens",
            token=await self.login(username),
            json={"name": f"{username} CI", "scopes": list(scopes)},
        )
        assert answer.status == 201, answer.body
        secret: str = answer.body["token"]
        return secret


@pytest.fixture
async def api(db: Database) -> AsyncIterator[ApiClient]:
    async with local_bot(db=db) as bot, aiohttp.ClientSession() as session:
        yield ApiClient(bot, session)
