"""Identity (SPEC §5): who a Slack person is, end to end and through the resolver."""

from __future__ import annotations

from bot.devtools.fake_slack import TEAM_ID
from bot.devtools.harness import LocalBot, local_bot
from core.models.rbac import Permission, SlackIdentity, User
from storage.engine import Database
from storage.instrumented import RoundTrips
from tests.bot.test_admin import answer, form, opened_form, role_names, shown, text, user
from tests.support import T0


async def test_first_contact_links_by_email_and_remembers_the_time_zone(bot: LocalBot) -> None:
    out = shown(await answer(bot, "UDANA", "whoami"))

    assert "You are dana" in out and "Europe/Berlin" in out
    dana = await user(bot, "dana")
    assert dana.slack == SlackIdentity(team_id=TEAM_ID, user_id="UDANA")
    assert dana.time_zone == "Europe/Berlin"


async def test_slack_is_asked_once_and_storage_on_every_request(db: Database) -> None:
    """No identity cache: each request reads the user (so a change counts at once on every
    replica); Slack's users.info is asked on first contact only."""
    trips = RoundTrips()
    async with local_bot(db=trips.wrap(db)) as bot:
        await answer(bot, "UDANA", "whoami")
        trips.reset()
        for _ in range(3):
            await answer(bot, "UDANA", "whoami")

        assert len(bot.slack.of("users.info")) == 1
        assert trips.calls["users.find_one"] == 3 and trips.calls["roles.find"] == 0


async def test_stranger_gets_help_and_whoami_and_is_told_to_ask_an_admin(bot: LocalBot) -> None:
    users_before = len(await bot.runtime.repos.users.all())

    helped = shown(await answer(bot, "UNOBODY", "help"))
    who = shown(await answer(bot, "UNOBODY", "whoami"))
    refused = [
        shown(await answer(bot, "UNOBODY", command))
        for command in ("status REL-2026.11", "list", "admin roles")
    ]

    assert "/release status" in helped
    assert "not linked" in who and "Ask an admin" in who
    for out in refused:
        assert "not linked" in out and "Ask an admin" in out
    assert len(await bot.runtime.repos.users.all()) == users_before


async def test_a_bots_command_gets_no_answer_and_creates_nothing(bot: LocalBot) -> None:
    users_before = len(await bot.runtime.repos.users.all())

    reply = await bot.driver.command("UROBOT", "admin roles")
    await answer(bot, "UDANA", "whoami")  # a later request's answer arrives: the bot's never will

    assert reply.status == 200 and reply.text == ""
    assert [c.params["key"] for c in bot.slack.of("response_url")] == ["cmd2"]
    assert len(await bot.runtime.repos.users.all()) == users_before


async def test_a_bots_events_have_no_effect(bot: LocalBot) -> None:
    home = await bot.driver.event({"type": "app_home_opened", "user": "UROBOT", "tab": "home"})
    posted = await bot.driver.event(
        {"type": "message", "bot_id": "B1", "user": "UROBOT", "text": "hi", "channel": "C1"}
    )

    assert home.status == 200 and posted.status == 200
    assert bot.slack.of("views.publish") == [] and bot.slack.of("chat.postMessage") == []
    assert (
        await bot.runtime.repos.users.find_by_slack(
            SlackIdentity(team_id=TEAM_ID, user_id="UROBOT")
        )
        is None
    )


async def test_bootstrap_admin_is_created_on_first_contact(db: Database) -> None:
    async with local_bot(db=db, bootstrap_admin_slack_ids=["UNOBODY"]) as bot:
        who = shown(await answer(bot, "UNOBODY", "whoami"))
        roles = shown(await answer(bot, "UNOBODY", "admin roles"))

        assert "You are nobody" in who and "Admin" in who
        assert "Release Manager" in roles
        nobody = await user(bot, "nobody")
        assert nobody.email == "nobody@elsewhere.example" and nobody.slack is not None
        assert await role_names(bot, "nobody") == ["Admin"]


async def test_bootstrap_admin_with_a_portal_email_is_linked_not_created(db: Database) -> None:
    async with local_bot(db=db, bootstrap_admin_slack_ids=["UDANA"]) as bot:
        users_before = len(await bot.runtime.repos.users.all())

        out = shown(await answer(bot, "UDANA", "admin users"))

        assert "`dana`" in out and "<@UDANA>" in out
        assert await role_names(bot, "dana") == ["Admin", "Squad Member"]
        assert len(await bot.runtime.repos.users.all()) == users_before


async def test_a_form_submission_rereads_rights_from_storage(bot: LocalBot) -> None:
    """Saving a form is a decision: the cache may not grant or keep a right."""
    view = await opened_form(bot, "UADMIN", "admin role new")
    await answer(bot, "UDANA", "whoami")  # dana is cached as a squad member
    admin_role = await bot.runtime.repos.roles.get("Admin")
    dana = await user(bot, "dana")
    await bot.runtime.repos.users.add_role(dana.id, admin_role.id)  # behind the cache's back

    reply = await bot.driver.submit("UDANA", view, form(role_name=text("Made By Dana")))

    assert reply.text == ""
    assert (await bot.runtime.repos.roles.get("Made By Dana")).created_by == dana.id


async def test_a_role_granted_behind_the_bots_back_counts_on_the_next_request(
    bot: LocalBot,
) -> None:
    resolver = bot.runtime.deps.identities
    client = bot.runtime.client
    first = await resolver.resolve(client, "UDANA")
    assert first.actor is not None and not first.actor.has(Permission.CAN_MANAGE_ROLES)
    admin_role = await bot.runtime.repos.roles.get("Admin")

    await bot.runtime.repos.users.add_role(first.actor.user_id, admin_role.id)
    granted = await resolver.resolve(client, "UDANA")
    await bot.runtime.repos.users.remove_role(first.actor.user_id, admin_role.id)
    revoked = await resolver.resolve(client, "UDANA")

    assert granted.actor is not None and granted.actor.has(Permission.CAN_MANAGE_ROLES)
    assert revoked.actor is not None and not revoked.actor.has(Permission.CAN_MANAGE_ROLES)


async def test_bootstrap_onto_an_email_linked_elsewhere_is_refused_quietly(db: Database) -> None:
    async with local_bot(db=db, bootstrap_admin_slack_ids=["UNOBODY"]) as bot:
        taken = User(
            username="elsewhere",
            full_name="Someone Else",
            email="nobody@elsewhere.example",
            slack=SlackIdentity(team_id=TEAM_ID, user_id="UOTHER"),
            created_at=T0,
        )
        await bot.runtime.repos.users.add(taken)

        out = shown(await answer(bot, "UNOBODY", "whoami"))

        assert "not linked" in out
        assert await role_names(bot, "elsewhere") == []
        assert (await user(bot, "elsewhere")).slack == taken.slack


async def test_when_slack_cannot_say_who_you_are_you_are_asked_to_retry_not_told_you_are_unlinked(
    bot: LocalBot,
) -> None:
    bot.slack.fail("users.info", status=500, retry_after=None, times=10)

    await bot.driver.command("UDANA", "status REL-2026.12")
    [busy] = await bot.slack.wait_for("response_url")
    bot.slack.fail("users.info", status=500, retry_after=None, times=0)
    await bot.driver.command("UDANA", "status REL-2026.12")
    answers = await bot.slack.wait_for("response_url", 2)

    assert "try again" in busy.params["text"] and "not linked" not in busy.params["text"]
    assert "REL-2026.12" in str(answers[1].params.get("blocks"))  # not remembered as unknown
