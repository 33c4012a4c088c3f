"""People who come and go, through signed Slack requests: `/release admin invite`,
`invitations`, `invite revoke`, first contact by an invited person, `disable` and `enable`."""

from __future__ import annotations

from blocks.ids import ActionId
from bot.devtools.fake_slack import SlackPerson
from bot.devtools.harness import LocalBot
from core.models.invitation import InvitationStatus
from core.models.rbac import UserStatus
from tests.bot.test_admin import answer, refusal, role_names, shown, user
from tests.bot.test_approvals import ask, stored, target

NIA = SlackPerson("UNIA", "nia", "nia@example.com", "Asia/Tokyo")
ARJUN = "<@UARJUN|arjun>"


async def invitations(bot: LocalBot) -> list[dict[str, object]]:
    return await bot.runtime.db["invitations"].find({}).to_list(length=None)


async def test_an_invited_person_becomes_a_user_on_first_contact(bot: LocalBot) -> None:
    invited = shown(
        await answer(
            bot,
            "UADMIN",
            'admin invite <mailto:nia@example.com|nia@example.com> "Release Manager" '
            "squad:payments",
        )
    )
    assert "nia@example.com is invited with Release Manager; squads `payments`" in invited
    assert "(London time)" in invited  # the reader's clock
    bot.slack.add_person(NIA)

    hello = shown(await answer(bot, "UNIA", "whoami"))

    nia = await user(bot, "nia")
    assert "nia" in hello and nia.status is UserStatus.ACTIVE
    assert nia.slack is not None and nia.slack.user_id == "UNIA"
    assert nia.assigned_squad_ids == ["payments"]
    assert await role_names(bot, "nia") == ["Release Manager"]
    listed = shown(await answer(bot, "UADMIN", "admin invitations"))
    assert "*nia@example.com* ACCEPTED" in listed and "Times in Europe/London" in listed


async def test_refused_invitations_store_nothing_and_say_why(bot: LocalBot) -> None:
    await answer(bot, "UADMIN", "admin invite nia@example.com")
    before = await invitations(bot)

    taken = refusal(await answer(bot, "UADMIN", "admin invite dana@example.com"))
    again = shown(await answer(bot, "UADMIN", "admin invite NIA@example.com Admin"))
    typo = refusal(await answer(bot, "UADMIN", "admin invite x@example.com Admn"))
    squad = refusal(await answer(bot, "UADMIN", "admin invite x@example.com squad:paymnts"))
    bad = refusal(await answer(bot, "UADMIN", "admin invite not-an-email Admin"))
    dana = refusal(await answer(bot, "UDANA", "admin invite x@example.com"))

    assert "dana@example.com is a releasebot user already ('dana'" in taken
    assert "is invited already (by admin" in again and "(London time)" in again
    assert "/release admin invite revoke nia@example.com" in again
    assert "No role 'Admn'" in typo and "Admin" in typo
    assert "No squad 'paymnts'" in squad and "payments" in squad
    assert "email" in bad.lower()
    assert "can_invite_users" in dana
    assert await invitations(bot) == before


async def test_a_revoked_invitation_gives_nothing(bot: LocalBot) -> None:
    await answer(bot, "UADMIN", "admin invite nia@example.com Admin")

    revoked = shown(await answer(bot, "UADMIN", "admin invite revoke nia@example.com"))
    bot.slack.add_person(NIA)
    stranger = shown(await answer(bot, "UNIA", "whoami"))

    assert "invitation for nia@example.com is revoked" in revoked
    assert "ask an admin" in stranger.lower()
    assert await bot.runtime.repos.users.find_by_email("nia@example.com") is None
    [stored_one] = await invitations(bot)
    assert stored_one["state"] == InvitationStatus.REVOKED.value
    listed = shown(await answer(bot, "UADMIN", "admin invitations"))
    assert "*nia@example.com* REVOKED" in listed and "revoked by admin" in listed


async def test_disable_refuses_commands_and_clicks_and_enable_gives_access_back(
    bot: LocalBot,
) -> None:
    await ask(bot, "REL-2026.12")
    await answer(bot, "UARJUN", "whoami")  # linked by email

    disabled = shown(await answer(bot, "UADMIN", f"admin disable {ARJUN}"))
    command = refusal(await answer(bot, "UARJUN", "approvals"))
    before = await stored(bot)
    answers = len(bot.slack.of("response_url"))
    await bot.driver.click(
        "UARJUN", ActionId.APPROVE, await target(bot, "uat-signoff"),
        container={"type": "message", "channel_id": "DUARJUN", "message_ts": "1.0"},
    )  # fmt: skip
    clicked = (await bot.slack.wait_for("response_url", answers + 1))[answers].params["text"]

    assert "is disabled: refused everywhere" in disabled
    assert "0 votes on pending approvals dropped, 0 delegations ended" in disabled
    assert "Your account 'arjun' is disabled" in command
    assert "Your account 'arjun' is disabled" in clicked
    assert await stored(bot) == before

    enabled = shown(await answer(bot, "UADMIN", f"admin enable {ARJUN}"))
    assert "active again" in enabled and "stay dropped" in enabled
    assert (await user(bot, "arjun")).status is UserStatus.ACTIVE
    assert "Your account" not in shown(await answer(bot, "UARJUN", "approvals"))


async def test_the_last_admin_cannot_disable_themself(bot: LocalBot) -> None:
    told = refusal(await answer(bot, "UADMIN", "admin disable <@UADMIN|admin>"))

    assert "last administrator" in told
    assert (await user(bot, "admin")).status is UserStatus.ACTIVE
