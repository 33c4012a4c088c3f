"""`/release admin token …`: an admin makes, lists and revokes API tokens in Slack; the
secret is shown once, to them only, and the token then works (or stops) on the API."""

from __future__ import annotations

import re

import aiohttp

from bot.devtools.harness import LocalBot
from storage.engine import Database
from tests.bot.test_admin import answer, refusal, shown

SECRET = re.compile(r"rbt_[A-Za-z0-9_-]+")


async def api_status(bot: LocalBot, token: str, path: str = "/api/v1/releases") -> int:
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bearer {token}"}
        async with session.get(f"{bot.url}{path}", headers=headers) as response:
            return response.status


async def test_an_admin_makes_a_token_shown_once_that_works_on_the_api(
    bot: LocalBot, db: Database
) -> None:
    made = await answer(bot, "UADMIN", "admin token new ci-pipeline releases:read,gates:write 30")

    assert made.params["response_type"] == "ephemeral"
    [secret] = SECRET.findall(shown(made))
    assert "ci-pipeline" in shown(made) and "gates:write" in shown(made)
    [stored] = await db["api_tokens"].find({}).to_list(None)
    assert secret not in str(stored) and stored["name"] == "ci-pipeline"
    assert await api_status(bot, secret) == 200
    assert await api_status(bot, secret, "/api/v1/me") == 200

    listed = await answer(bot, "UADMIN", "admin tokens")
    assert "ci-pipeline" in shown(listed) and secret not in shown(listed)
    assert "releases:read, gates:write" in shown(listed)

    revoked = await answer(bot, "UADMIN", f"admin token revoke {stored['_id']}")
    assert "revoked" in shown(revoked)
    assert await api_status(bot, secret) == 401


async def test_someone_without_the_admin_flag_is_refused_and_nothing_is_stored(
    bot: LocalBot, db: Database
) -> None:
    said = refusal(await answer(bot, "URHEA", "admin token new mine releases:read"))

    assert "permission" in said
    assert await db["api_tokens"].count_documents({}) == 0


async def test_a_bad_token_request_says_what_is_wrong_and_stores_nothing(
    bot: LocalBot, db: Database
) -> None:
    unknown_scope = refusal(await answer(bot, "UADMIN", "admin token new ci releases:delete"))
    no_scope = refusal(await answer(bot, "UADMIN", "admin token new ci"))
    too_long = refusal(await answer(bot, "UADMIN", "admin token new ci releases:read 9999"))

    assert "releases:delete" in unknown_scope
    assert "at least one scope" in no_scope and "/release admin token new" in no_scope
    assert "9999" in too_long or "365" in too_long
    assert await db["api_tokens"].count_documents({}) == 0
