"""`/release archive <release> <reason…>` and `/release restore <release>` end to end, through
signed requests: an admin hides a release from `list`, `approvals` and App Home; `status` and
`history` still show it, saying it is archived, by whom, when, why and how to restore it; a
click on an old approval DM is refused; restore brings it back. The clock of the local bot is
frozen at Tue 01 Dec 2026 09:00 UTC; admin's Slack zone is Europe/London."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from blocks.ids import ActionId
from bot.devtools.harness import LocalBot, local_bot
from storage.engine import Database
from tests.bot.test_admin import refusal
from tests.bot.test_approvals import SIGN_OFFS, ask, dms, in_dm, stored, target
from tests.bot.test_home import home_of, view_text
from tests.bot.test_reading import answer, release_ids, shown
from tests.support import FrozenClock

REASON = "Cancelled: merged into REL-2027.01"
ARCHIVED_AT = "Tue 01 Dec 09:00 (London time)"


@pytest.fixture
async def bot(db: Database) -> AsyncIterator[LocalBot]:
    async with local_bot(db=db, clock=FrozenClock()) as running:
        yield running


async def releases_stored(bot: LocalBot) -> list[dict[str, Any]]:
    await bot.runtime.deps.settle()
    return await bot.runtime.db["releases"].find({}).sort("_id", 1).to_list(length=None)


async def test_an_admin_archives_a_release_and_it_leaves_list_approvals_and_home(
    bot: LocalBot,
) -> None:
    call = await answer(bot, "UADMIN", f"archive {SIGN_OFFS.lower()} {REASON}")

    assert call.params["response_type"] == "ephemeral"
    said = shown(call)
    assert f":file_cabinet: Archived *{SIGN_OFFS}* · " in said
    assert f"on {ARCHIVED_AT}" in said
    assert "no longer shows in lists, App Home, digests or reminders" in said
    assert f"`/release restore {SIGN_OFFS}`" in said
    document = await stored(bot)
    assert document["archived_reason"] == REASON and document["archived_at"] is not None

    assert SIGN_OFFS not in release_ids(await answer(bot, "UARJUN", "list"))
    assert release_ids(await answer(bot, "UARJUN", "list rel-2026.12")) == []
    assert "Nothing is waiting for your approval." in shown(
        await answer(bot, "UARJUN", "approvals")
    )
    home = view_text(await home_of(bot, "UARJUN"))
    assert SIGN_OFFS not in home


async def test_status_and_history_say_it_is_archived_by_whom_when_why_and_how_to_restore(
    bot: LocalBot,
) -> None:
    await answer(bot, "UADMIN", f"archive {SIGN_OFFS} {REASON}")

    status = await answer(bot, "UDANA", f"status {SIGN_OFFS}")
    history = await answer(bot, "UDANA", f"history {SIGN_OFFS}")

    assert status.params["response_type"] == "in_channel"
    said = shown(status)
    assert ":file_cabinet: *Archived* by Alex Admin on <!date^" in said
    assert f"— “{REASON}”" in said
    assert f"An admin can bring it back with `/release restore {SIGN_OFFS}`." in said
    assert "(archived)" in str(status.params["text"])
    told = shown(history)
    # In dana's own zone (Berlin).
    assert ":file_cabinet: *Archived* by Alex Admin on Tue 01 Dec 10:00 (Berlin time)" in told
    assert "*Alex Admin* archived the release" in told
    assert f"> {REASON}" in told


async def test_restore_brings_it_back_to_the_list(bot: LocalBot) -> None:
    await answer(bot, "UADMIN", f"archive {SIGN_OFFS} {REASON}")

    call = await answer(bot, "UADMIN", f"restore {SIGN_OFFS}")

    assert call.params["response_type"] == "ephemeral"
    assert f"Restored *{SIGN_OFFS}*" in shown(call)
    assert "back in lists, App Home, digests and reminders" in shown(call)
    assert SIGN_OFFS in release_ids(await answer(bot, "UARJUN", "list"))
    assert "*2 approvals* waiting for you" in shown(await answer(bot, "UARJUN", "approvals"))
    assert (await stored(bot))["archived_at"] is None
    history = shown(await answer(bot, "UADMIN", f"history {SIGN_OFFS}"))
    assert "restored the release" in history and ":file_cabinet: *Archived*" not in history


async def test_someone_who_is_not_an_admin_is_refused_before_anything_and_nothing_changes(
    bot: LocalBot,
) -> None:
    await answer(bot, "UADMIN", "archive REL-2026.11 Superseded")
    before = await releases_stored(bot)

    for user, text in [
        ("URHEA", f"archive {SIGN_OFFS} {REASON}"),
        ("UARJUN", "archive no-such-release because"),  # refused before it is looked up
        ("UDANA", "restore REL-2026.11"),
    ]:
        told = refusal(await answer(bot, user, text))
        assert "'can_manage_roles' permission" in told
        assert "No release" not in told

    assert await releases_stored(bot) == before


async def test_archive_without_a_reason_twice_or_restoring_a_live_release_is_refused_in_words(
    bot: LocalBot,
) -> None:
    no_reason = refusal(await answer(bot, "UADMIN", f"archive {SIGN_OFFS}"))
    assert "Say why the release is archived" in no_reason
    assert "Usage: `/release archive &lt;release&gt; &lt;reason…&gt;`" in no_reason
    not_archived = refusal(await answer(bot, "UADMIN", f"restore {SIGN_OFFS}"))
    assert f"Release '{SIGN_OFFS}' is not archived: there is nothing to restore." in not_archived
    await answer(bot, "UADMIN", f"archive {SIGN_OFFS} {REASON}")
    before = await releases_stored(bot)

    again = refusal(await answer(bot, "UADMIN", f"archive {SIGN_OFFS} again"))

    assert f"Release '{SIGN_OFFS}' was archived on {ARCHIVED_AT}" in again
    assert "already; nothing changed." in again
    assert await releases_stored(bot) == before


async def test_approving_from_a_dm_of_an_archived_release_is_refused_and_nothing_changes(
    bot: LocalBot,
) -> None:
    await ask(bot, SIGN_OFFS)
    copies = await dms(bot, SIGN_OFFS, "uat-signoff")
    await answer(bot, "UADMIN", f"archive {SIGN_OFFS} {REASON}")
    before = await stored(bot)
    start = len(bot.slack.of("response_url"))

    reply = await bot.driver.click(
        "UARJUN", ActionId.APPROVE, await target(bot, "uat-signoff"),
        block_id="approval", container=in_dm(copies["DUARJUN"]),
    )  # fmt: skip

    assert reply.status == 200
    told = (await bot.slack.wait_for("response_url", start + 1))[start]
    assert str(told.params["text"]).startswith(":warning: ")
    assert f"Release '{SIGN_OFFS}' was archived" in told.params["text"]
    assert "an admin must restore it first" in told.params["text"]
    assert await stored(bot) == before


async def test_a_form_for_an_archived_release_is_refused_before_it_opens(bot: LocalBot) -> None:
    await answer(bot, "UADMIN", f"archive {SIGN_OFFS} {REASON}")
    opened = len(bot.slack.of("views.open"))

    call = await answer(bot, "URHEA", f"gate {SIGN_OFFS}")

    assert "so nobody can change it: an admin must restore it first" in shown(call)
    assert len(bot.slack.of("views.open")) == opened  # no form opened
