"""`@dana` in the console is a Slack mention, as `<@UDANA|dana>` is in Slack: in commands
(`admin grant @arjun …`, `admin link @nobody …`) and in the forms' person pickers. Unknown
`@words` and emails are sent as typed."""

from __future__ import annotations

from typing import Any

import pytest

from bot.console.forms import AnswerError, input_fields, parse_answer
from bot.console.mentions import person_id, slack_mentions
from bot.devtools.driver import Reply
from bot.devtools.harness import LocalBot
from core.models.rbac import SlackIdentity
from tests.bot.test_console import drive

PEOPLE = {"dana": "UDANA", "arjun": "UARJUN", "ci-bot": "UROBOT"}


def after(output: str, prompt_line: str) -> str:
    """What was printed after ``prompt_line`` up to the next prompt."""
    shown = output.split(prompt_line + "\n", 1)[1]
    return shown.split("> ", 1)[0].rsplit("\n", 1)[0]


def sent_texts(bot: LocalBot, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The slash command texts the bot receives (what Slack would put in ``text``)."""
    texts: list[str] = []
    command = bot.driver.command

    async def recording(user_id: str, text: str, **kwargs: Any) -> Reply:
        texts.append(text)
        return await command(user_id, text, **kwargs)

    monkeypatch.setattr(bot.driver, "command", recording)
    return texts


def test_known_names_become_mentions_and_nothing_else_does() -> None:
    assert slack_mentions("admin grant @dana Admin", PEOPLE) == ("admin grant <@UDANA|dana> Admin")
    assert slack_mentions("(@Arjun, @dana.) @ci-bot", PEOPLE) == (
        "(<@UARJUN|arjun>, <@UDANA|dana>.) <@UROBOT|ci-bot>"
    )
    for typed in (
        "list dana@example.com",  # an email
        "a@dana b+@dana x.@dana",  # an @ inside a word
        "admin grant @zed Admin",  # nobody called zed
        "@dana.weiss @danas @dana-x @dana@x",  # longer names that are not dana
        "admin grant <@UDANA> Admin",  # already a mention
    ):
        assert slack_mentions(typed, PEOPLE) == typed


def test_a_person_is_picked_by_name_mention_or_id() -> None:
    for typed in ("dana", "@Dana", " <@UDANA|dana> ", "<@UDANA>", "udana"):
        assert person_id(typed, PEOPLE) == "UDANA"
    for typed in ("zed", "@zed", "<@UZED>", "dana@example.com"):
        assert person_id(typed, PEOPLE) is None

    [owner] = input_fields(
        {
            "blocks": [
                {
                    "type": "input",
                    "block_id": "owner",
                    "optional": True,
                    "label": {"type": "plain_text", "text": "Owner"},
                    "element": {"type": "users_select", "action_id": "owner"},
                }
            ]
        }
    )
    assert parse_answer(owner, "@Arjun", people=PEOPLE) == {
        "type": "users_select",
        "selected_user": "UARJUN",
    }
    with pytest.raises(AnswerError, match="one of: arjun, ci-bot, dana"):
        parse_answer(owner, "@zed", people=PEOPLE)


async def test_admin_grants_a_role_with_at_name(
    bot: LocalBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = sent_texts(bot, monkeypatch)
    output = await drive(
        bot, "as arjun", "whoami", "as admin", "admin grant @arjun Release Manager", "quit"
    )

    assert texts[-1] == "admin grant <@UARJUN|arjun> Release Manager"
    shown = after(output, "admin> admin grant @arjun Release Manager")
    assert "── only admin sees this (ephemeral) ──" in shown
    assert "@arjun (`arjun`) has the role *Release Manager*" in shown
    arjun = await bot.runtime.repos.users.get_by_username("arjun")
    roles = await bot.runtime.repos.roles.get_many(arjun.role_ids)
    assert {r.role_name for r in roles} == {"Approval Manager", "Release Manager"}


async def test_admin_links_a_slack_person_with_at_name(
    bot: LocalBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = sent_texts(bot, monkeypatch)
    output = await drive(bot, "as admin", "admin link @nobody dana", "as nobody", "whoami", "quit")

    assert texts[0] == "admin link <@UNOBODY|nobody> dana"
    linked = after(output, "admin> admin link @nobody dana")
    assert "@nobody is now linked to `dana` (*Dana Weiss*)" in linked
    # nobody now acts as dana's portal user
    assert "*Dana Weiss* (`dana`, dana@example.com)" in after(output, "nobody> whoami")
    identity = SlackIdentity(team_id="T0DEMO", user_id="UNOBODY")
    user = await bot.runtime.repos.users.find_by_slack(identity)
    assert user is not None and user.username == "dana"


async def test_unknown_at_words_and_emails_reach_the_bot_as_typed(
    bot: LocalBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = sent_texts(bot, monkeypatch)
    output = await drive(bot, "as admin", "admin grant @zed Admin", "list ops@example.com", "quit")

    assert texts == ["admin grant @zed Admin", "list ops@example.com"]
    assert "`@zed` is not a Slack mention" in after(output, "admin> admin grant @zed Admin")
    assert "ops@example.com" in after(output, "admin> list ops@example.com")


async def test_a_forms_person_picker_takes_at_name(bot: LocalBot) -> None:
    output = await drive(
        bot,
        "as rhea",
        "gate REL-2027.01",
        "1",  # gate: a new one in Auth Service
        "",  # new status
        "",  # comment
        "",  # break-glass reason
        "Performance test",  # name of the new gate
        "",  # description
        "",  # order
        "",  # required
        "@zed",  # owner: nobody of that name, asked again
        "@Arjun",
        "status REL-2027.01",
        "quit",
    )

    form = after(output, "rhea> gate REL-2027.01")
    assert "  Owner (a person) [optional]: @zed\n  ✗ one of: admin, arjun" in output
    assert "(submitted “Quality gate”)" in form
    assert "Gate *Performance test* (required) added to Auth Service" in form
    assert "Performance test · required · Arjun Mehta" in after(output, "rhea> status REL-2027.01")


async def test_granting_a_role_to_a_person_who_never_wrote_links_them(bot: LocalBot) -> None:
    output = await drive(bot, "as admin", "admin grant @rhea Approval Manager", "quit")

    assert "@rhea (`rhea`) has the role *Approval Manager*" in after(
        output, "admin> admin grant @rhea Approval Manager"
    )
    identity = SlackIdentity(team_id="T0DEMO", user_id="URHEA")
    user = await bot.runtime.repos.users.find_by_slack(identity)
    assert user is not None and user.username == "rhea"
