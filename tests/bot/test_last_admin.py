"""The last administrator who can act from Slack cannot be revoked or unlinked through the
slash command either: the person is told why, and nothing is stored."""

from __future__ import annotations

from typing import Any

from bot.devtools.harness import LocalBot
from tests.bot.test_admin import answer, refusal, role_names, shown, user
from tests.bot.test_approvals import reacted

ADMIN = "<@UADMIN|admin>"
ARJUN = "<@UARJUN|arjun>"
LAST = "is the last administrator who can manage roles from Slack"


async def users_stored(bot: LocalBot) -> list[dict[str, Any]]:
    """The users as stored once the reactions to earlier changes are done."""
    await reacted(bot)
    return await bot.runtime.db["users"].find({}).sort("_id", 1).to_list(length=None)


async def test_the_only_admin_is_told_they_cannot_revoke_their_own_admin_role(
    bot: LocalBot,
) -> None:
    await answer(bot, "UADMIN", "whoami")  # first contact links admin by email
    before = await users_stored(bot)

    refused = await answer(bot, "UADMIN", f"admin revoke {ADMIN} Admin")

    assert refused.params["response_type"] == "ephemeral"
    assert f"'admin' {LAST}" in refusal(refused)
    assert "grant the Admin role to someone else" in shown(refused)
    assert await users_stored(bot) == before
    assert await role_names(bot, "admin") == ["Admin"]


async def test_the_only_admin_is_told_they_cannot_unlink_themselves(bot: LocalBot) -> None:
    await answer(bot, "UADMIN", "whoami")
    before = await users_stored(bot)

    refused = await answer(bot, "UADMIN", f"admin unlink {ADMIN}")

    assert f"'admin' {LAST}" in refusal(refused)
    assert await users_stored(bot) == before
    assert (await user(bot, "admin")).slack is not None
    assert "You are admin" in shown(await answer(bot, "UADMIN", "whoami"))


async def test_admin_can_be_handed_over_and_then_the_new_admin_is_the_last(
    bot: LocalBot,
) -> None:
    await answer(bot, "UARJUN", "whoami")  # arjun links by email
    await answer(bot, "UADMIN", f"admin grant {ARJUN} Admin")

    revoked = await answer(bot, "UADMIN", f"admin revoke {ADMIN} Admin")
    assert "no longer has the role *Admin*" in shown(revoked)
    assert await role_names(bot, "admin") == []
    before = await users_stored(bot)

    refused = await answer(bot, "UARJUN", f"admin unlink {ARJUN}")

    assert f"'arjun' {LAST}" in shown(refused)
    assert await users_stored(bot) == before


async def test_an_admin_unlinked_from_slack_does_not_count_as_another(bot: LocalBot) -> None:
    await answer(bot, "UARJUN", "whoami")
    await answer(bot, "UADMIN", f"admin grant {ARJUN} Admin")
    await answer(bot, "UADMIN", f"admin unlink {ARJUN}")  # allowed: admin can still act
    assert (await user(bot, "arjun")).slack is None
    before = await users_stored(bot)

    refused = await answer(bot, "UADMIN", f"admin revoke {ADMIN} Admin")

    assert f"'admin' {LAST}" in shown(refused)
    assert await users_stored(bot) == before


async def test_the_only_admins_account_cannot_be_moved_to_another_slack_person(
    bot: LocalBot,
) -> None:
    """Relinking 'admin' to nobody would leave UADMIN with no access: refused, unlink first."""
    await answer(bot, "UADMIN", "whoami")
    before = await users_stored(bot)

    refused = await answer(bot, "UADMIN", "admin link <@UNOBODY|nobody> admin")
    still = shown(await answer(bot, "UADMIN", "admin roles"))

    assert "'admin' is already linked to another Slack person (UADMIN)" in refusal(refused)
    assert "unlink them first" in refusal(refused)
    assert await users_stored(bot) == before
    assert "Release Manager" in still  # UADMIN can still administer
