"""Mentioning an invited person accepts nothing for them, through signed Slack requests:
only their own first request makes their user and accepts the invitation."""

from __future__ import annotations

from bot.devtools.fake_slack import SlackPerson
from bot.devtools.harness import LocalBot
from core.models.invitation import InvitationStatus
from core.models.rbac import UserStatus
from tests.bot.test_admin import answer, refusal, shown, user
from tests.bot.test_people import invitations

NIA = SlackPerson("UNIA", "nia", "nia@example.com", "Asia/Tokyo")
MENTION = "<@UNIA|nia>"


async def test_mentioning_an_invited_person_accepts_nothing_until_they_write(
    bot: LocalBot,
) -> None:
    await answer(bot, "UADMIN", "admin invite nia@example.com squad:payments")
    bot.slack.add_person(NIA)
    before = await invitations(bot)

    told = [
        refusal(await answer(bot, "UADMIN", f"admin grant {MENTION} Admin")),
        refusal(await answer(bot, "UADMIN", f"admin disable {MENTION}")),
        refusal(await answer(bot, "UADMIN", f"delegate {MENTION} until 2026-12-24")),
    ]

    for said in told:
        assert "(UNIA) is not linked to a releasebot user" in said
    assert await invitations(bot) == before
    [invited] = before
    assert invited["state"] == InvitationStatus.INVITED.value
    assert await bot.runtime.repos.users.find_by_email("nia@example.com") is None

    hello = shown(await answer(bot, "UNIA", "whoami"))

    nia = await user(bot, "nia")
    assert "nia" in hello and nia.status is UserStatus.ACTIVE
    assert nia.slack is not None and nia.slack.user_id == "UNIA"
    [accepted] = await invitations(bot)
    assert accepted["state"] == InvitationStatus.ACCEPTED.value
    assert accepted["accepted_user_id"] == nia.id
