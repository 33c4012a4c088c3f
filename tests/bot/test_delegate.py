"""`/release delegate …` end to end, through signed requests: who decides approvals in whose
place while they are away, shown by whoami and App Home, ended by `delegate off` or by itself.

The clock is frozen at Tue 01 Dec 2026 09:00 UTC. The demo personas' Slack zones: arjun
America/New_York (Approval Manager), dana Europe/Berlin (Squad Member), admin Europe/London.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.devtools.fake_slack import Call
from bot.devtools.harness import LocalBot, local_bot
from core.models.rbac import Delegation
from storage.engine import Database
from tests.bot.test_admin import refusal
from tests.bot.test_home import home_of
from tests.bot.test_reading import answer, shown
from tests.support import FrozenClock

DANA = "<@UDANA|dana>"
ARJUN = "<@UARJUN|arjun>"
# The end of Thu 24 Dec in New York (arjun's zone), in UTC.
NEW_YORK_XMAS_EVE_END = datetime(2026, 12, 25, 5, 0, tzinfo=UTC)


@pytest.fixture
async def bot(db: Database) -> AsyncIterator[LocalBot]:
    async with local_bot(db=db, clock=FrozenClock()) as running:
        yield running


async def delegation_of(bot: LocalBot, username: str) -> Delegation | None:
    return (await bot.runtime.repos.users.get_by_username(username)).delegation


async def dana_may_approve(bot: LocalBot) -> None:
    """dana gets arjun's role, so she could hold his vote herself."""
    granted = shown(await answer(bot, "UADMIN", f"admin grant {DANA} Approval Manager"))
    assert "has the role *Approval Manager*" in granted


async def home_drawn_for(bot: LocalBot, user: str, since: int) -> str:
    """The last Home published for ``user`` after the first ``since`` publishes, once the
    reactions to the change ran."""
    await bot.runtime.deps.settle()
    calls: list[Call] = bot.slack.of("views.publish")[since:]
    drawn = [c for c in calls if c.params["user_id"] == user]
    assert drawn, f"no Home drawn for {user}"
    return shown(drawn[-1])


async def test_delegate_sets_it_answers_and_both_homes_are_drawn_again(bot: LocalBot) -> None:
    await answer(bot, "UDANA", "whoami")  # dana links by email
    await dana_may_approve(bot)
    published = len(bot.slack.of("views.publish"))

    call = await answer(bot, "UARJUN", f"delegate {DANA} until 2026-12-24")

    assert call.params["response_type"] == "ephemeral"
    assert (
        ":palm_tree: Until Thu 24 Dec, *dana* may decide approvals in your place. It ends by "
        "itself; `/release delegate off` ends it sooner."
    ) in shown(call)
    stored = await delegation_of(bot, "arjun")
    assert stored is not None
    assert (stored.delegate_username, stored.until, stored.set_by, stored.admin_approved_by) == (
        "dana",
        NEW_YORK_XMAS_EVE_END,
        "arjun",
        None,
    )
    assert "*Away until Thu 24 Dec* — dana decides in your place" in await home_drawn_for(
        bot, "UARJUN", published
    )
    # dana's Home is drawn again too (what she may decide changed).
    assert "Hi *Dana Weiss*" in await home_drawn_for(bot, "UDANA", published)


async def test_whoami_and_home_show_who_is_away_and_for_whom_one_decides(bot: LocalBot) -> None:
    await answer(bot, "UDANA", "whoami")
    await dana_may_approve(bot)
    await answer(bot, "UARJUN", f"delegate {DANA} until 2026-12-24")

    arjun = shown(await answer(bot, "UARJUN", "whoami"))
    dana = shown(await answer(bot, "UDANA", "whoami"))
    rhea = shown(await answer(bot, "URHEA", "whoami"))
    await bot.runtime.deps.settle()
    home = shown(await home_of(bot, "UARJUN"))
    dana_home = shown(await home_of(bot, "UDANA"))

    assert "*Away until Thu 24 Dec* — dana decides in your place." in arjun
    assert "You decide for" not in arjun
    assert "*You decide for* arjun until Fri 25 Dec 06:00 (Berlin time)." in dana
    assert "Away until" not in dana
    assert "Away until" not in rhea and "You decide for" not in rhea
    assert "*Away until Thu 24 Dec* — dana decides in your place." in home
    assert "*You decide for* arjun until Fri 25 Dec 06:00 (Berlin time)." in dana_home


async def test_off_clears_it_and_a_second_off_says_there_was_nothing(bot: LocalBot) -> None:
    await answer(bot, "UDANA", "whoami")
    await dana_may_approve(bot)
    await answer(bot, "UARJUN", f"delegate {DANA} until 2026-12-24")

    off = shown(await answer(bot, "UARJUN", "delegate off"))
    again = shown(await answer(bot, "UARJUN", "delegate off"))

    assert "dana no longer decides in your place" in off
    assert "Nobody decides in your place, so there was nothing to end." in again
    assert await delegation_of(bot, "arjun") is None
    assert "Away until" not in shown(await answer(bot, "UARJUN", "whoami"))
    assert "You decide for" not in shown(await answer(bot, "UDANA", "whoami"))


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "delegate <@UNOBODY|nobody> until 2026-12-24",
            "That Slack person (UNOBODY) is not linked to a releasebot user",
        ),
        (f"delegate {DANA} until 24/12", "'24/12' is not a day I can read"),
        (f"delegate {DANA} until 2027-02-31", "There is no 2027-02-31 in the calendar"),
        (f"delegate {DANA} until 2026-11-30", "2026-11-30 has passed (today is 2026-12-01)"),
        (f"delegate {DANA} until 2027-06-01", "A delegation lasts at most 90 days"),
        (f"delegate {DANA}", "Name the last day you are away as until YYYY-MM-DD"),
        ("delegate", "Name who decides in your place"),
        (f"delegate {ARJUN} until 2026-12-24", "You cannot name yourself"),
        ("delegate nobody until 2026-12-24", "No user 'nobody'"),
    ],
)
async def test_a_bad_person_or_day_is_refused_in_words_and_nothing_changes(
    bot: LocalBot, text: str, said: str
) -> None:
    await answer(bot, "UDANA", "whoami")
    await dana_may_approve(bot)

    out = refusal(await answer(bot, "UARJUN", text))

    assert said in out
    assert await delegation_of(bot, "arjun") is None


async def test_a_delegate_who_lacks_my_roles_is_refused(bot: LocalBot) -> None:
    out = refusal(await answer(bot, "UARJUN", f"delegate {DANA} until 2026-12-24"))

    assert "dana cannot hold your vote: they do not have Approval Manager" in out
    assert "ask an admin to set it for you" in out
    assert await delegation_of(bot, "arjun") is None


async def test_an_admin_sets_it_for_someone_and_approves_a_delegate_without_the_roles(
    bot: LocalBot,
) -> None:
    await answer(bot, "UARJUN", "whoami")  # arjun's zone known: New York

    out = shown(await answer(bot, "UADMIN", f"delegate {DANA} until 2026-12-24 for {ARJUN}"))

    stored = await delegation_of(bot, "arjun")
    assert stored is not None
    assert (stored.delegate_username, stored.set_by, stored.admin_approved_by) == (
        "dana",
        "admin",
        "admin",
    )
    assert stored.until == NEW_YORK_XMAS_EVE_END  # the end of the day in arjun's zone
    assert "*dana* may decide approvals in arjun's place" in out
    assert "As an admin, you approved dana without their roles." in out
    assert await delegation_of(bot, "admin") is None
    assert "(approved by admin)" in shown(await answer(bot, "UARJUN", "whoami"))

    ended = shown(await answer(bot, "UADMIN", f"delegate off for {ARJUN}"))
    assert "dana no longer decides in arjun's place" in ended
    assert await delegation_of(bot, "arjun") is None


async def test_only_an_admin_sets_someone_elses_delegation(bot: LocalBot) -> None:
    out = refusal(
        await answer(bot, "UDANA", f"delegate <@URHEA|rhea> until 2026-12-24 for {ARJUN}")
    )

    assert "You need the 'can_manage_roles' permission to set who decides in someone else's" in out
    assert await delegation_of(bot, "arjun") is None


async def test_help_lists_delegate(bot: LocalBot) -> None:
    out = shown(await answer(bot, "UDANA", "help delegate"))

    assert "/release delegate @person until &lt;YYYY-MM-DD&gt;" in out
    assert "who decides your approvals while you are away" in out
