"""Words, not codes (issue 8): what a person reads when the bot refuses, through signed
requests. Every refusal says what was wrong and where to look next, for the command at hand;
release ids, role names and usernames match ignoring case; an unknown one is answered with
the closest names the person may see, never another squad's release."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.devtools.harness import LocalBot
from core.services.users import LOCK_LEASE, ROLE_MANAGERS_LOCK
from tests.bot.test_admin import DANA, answer, refusal, role_names, shown, user

NOBODY = "<@UNOBODY|nobody>"
ADMIN = "<@UADMIN|admin>"
HIDDEN = "REL-2027.01"  # platform squad only: dana (payments) may not see it
LIST_HINT = "`/release list` shows the releases you can see."
USERS_HINT = "`/release admin users` lists the users and who is linked to Slack."
ROLES_HINT = "`/release admin roles` lists the roles."
WHOAMI_HINT = "`/release whoami` shows your roles and permissions."


async def linked(bot: LocalBot, *slack_ids: str) -> None:
    """First contact: the personas link themselves by email."""
    for slack_id in slack_ids:
        await answer(bot, slack_id, "whoami")


# --- the sweep: no code in any refusal, each with what to do next -------------------------


@pytest.mark.parametrize(
    ("person", "command", "says", "hint"),
    [
        # unknown release, in every command that takes one
        ("UDANA", "status REL-1999.01", "No release 'REL-1999.01'.", LIST_HINT),
        ("UDANA", "history REL-1999.01", "No release 'REL-1999.01'.", LIST_HINT),
        ("URHEA", "product REL-1999.01", "No release 'REL-1999.01'.", LIST_HINT),
        ("URHEA", "gate REL-1999.01", "No release 'REL-1999.01'.", LIST_HINT),
        # another squad's release reads like an unknown one
        ("UDANA", f"status {HIDDEN}", f"No release '{HIDDEN}'.", LIST_HINT),
        # permission denied
        ("UDANA", "admin users", "You need the 'can_manage_roles' or", WHOAMI_HINT),
        ("UDANA", f"admin grant {DANA} Admin", "You need the 'can_manage_roles'", WHOAMI_HINT),
        ("UDANA", "new", "You need the 'can_create_release' permission", WHOAMI_HINT),
        # not linked to a portal user
        ("UNOBODY", "status REL-2026.12", "Your Slack account is not linked", "Ask an admin"),
        # unknown user, role, link: the admin lists, not the release list
        ("UADMIN", f"admin link {NOBODY} nobody", "No user 'nobody'.", USERS_HINT),
        ("UADMIN", f"admin grant {DANA} Wizard", "No role 'Wizard'.", ROLES_HINT),
        ("UADMIN", f"admin revoke {DANA} Wizard", "No role 'Wizard'.", ROLES_HINT),
        ("UADMIN", f"admin unlink {NOBODY}", "nothing to unlink", USERS_HINT),
        ("UADMIN", f"admin grant {NOBODY} Admin", "not linked to a releasebot user", "link @them"),
        # rule violations
        ("UADMIN", f"admin revoke {DANA} Admin", "does not have the role 'Admin'", "nothing to"),
        ("UADMIN", f"admin revoke {ADMIN} Admin", "is the last administrator", "grant the Admin"),
        # duplicate
        ("UADMIN", f"admin link {DANA} arjun", "already linked to another portal user", "unlink"),
        # validation
        ("UADMIN", "admin grant", "Missing a Slack mention", "Usage: `/release admin grant"),
        ("UADMIN", 'list "never closed', "A quote is not closed", '"double quotes"'),
        ("UDANA", "status", "Missing a release id", "Usage: `/release status"),
    ],
)
async def test_a_refusal_says_what_was_wrong_and_what_to_do_never_a_code(
    bot: LocalBot, person: str, command: str, says: str, hint: str
) -> None:
    await linked(bot, "UADMIN", "UDANA")

    out = refusal(await answer(bot, person, command))

    assert says in out and hint in out
    if hint not in (LIST_HINT, "Usage: `/release status"):
        assert "/release list" not in out  # the right hint for the command, not a stock one


async def test_a_conflict_asks_to_try_again_in_words(bot: LocalBot) -> None:
    await linked(bot, "UADMIN", "UDANA")
    # Another admin's change holds the role-managers lock for the whole wait.
    held = await bot.runtime.repos.claims.claim(
        ROLE_MANAGERS_LOCK, now=datetime.now(UTC), ttl=LOCK_LEASE, owner="another admin"
    )
    assert held

    out = refusal(await answer(bot, "UADMIN", f"admin unlink {DANA}"))

    assert "Someone else is changing roles, links or user status right now" in out
    assert "try again in a moment" in out
    assert (await user(bot, "dana")).slack is not None


# --- ignoring case ------------------------------------------------------------------------


async def test_release_ids_match_ignoring_case(bot: LocalBot) -> None:
    status = await answer(bot, "UDANA", "status rel-2026.12")
    history = await answer(bot, "UDANA", "history Rel-2026.11-hf1")

    assert status.params["response_type"] == "in_channel"
    assert "REL-2026.12" in shown(status)
    assert "*History of REL-2026.11-HF1*" in shown(history)


async def test_another_squads_release_stays_hidden_whatever_the_case(bot: LocalBot) -> None:
    lower = refusal(await answer(bot, "UDANA", f"status {HIDDEN.lower()}"))

    assert f"No release '{HIDDEN.lower()}'." in lower
    assert HIDDEN not in lower


async def test_role_names_match_ignoring_case_and_are_shown_as_stored(bot: LocalBot) -> None:
    await linked(bot, "UADMIN", "UDANA")

    granted = shown(await answer(bot, "UADMIN", f"admin grant {DANA} admin"))
    revoked = shown(await answer(bot, "UADMIN", f"admin revoke {DANA} ADMIN"))
    manager = shown(await answer(bot, "UADMIN", f"admin grant {DANA} release MANAGER"))

    assert "<@UDANA> (`dana`) has the role *Admin*." in granted
    assert "<@UDANA> (`dana`) no longer has the role *Admin*." in revoked
    assert "has the role *Release Manager*" in manager
    assert await role_names(bot, "dana") == ["Release Manager", "Squad Member"]


async def test_usernames_match_ignoring_case(bot: LocalBot) -> None:
    linked_to = shown(await answer(bot, "UADMIN", f"admin link {NOBODY} ARJUN"))

    assert "<@UNOBODY> is now linked to `arjun`" in linked_to
    arjun = await user(bot, "arjun")
    assert arjun.slack is not None and arjun.slack.user_id == "UNOBODY"
    assert "You are arjun" in shown(await answer(bot, "UNOBODY", "whoami"))


# --- did you mean -------------------------------------------------------------------------


async def test_an_unknown_release_gets_the_closest_ids_the_person_may_see(bot: LocalBot) -> None:
    out = refusal(await answer(bot, "URHEA", "status REL-2026.13"))

    assert out.startswith(
        ":warning: No release 'REL-2026.13'. Did you mean `REL-2026.12`, `REL-2026.11` or "
    )
    assert LIST_HINT in out


async def test_dana_is_never_offered_another_squads_release(bot: LocalBot) -> None:
    """rhea sees every release and is offered REL-2027.01 for a typo; dana, of payments, is
    offered only her squad's releases for the same typo."""
    rhea = refusal(await answer(bot, "URHEA", "status REL-2027.1"))
    dana = refusal(await answer(bot, "UDANA", "status REL-2027.1"))

    assert "Did you mean `REL-2027.01`" in rhea
    assert HIDDEN not in dana
    assert "Did you mean `REL-2026.12` or `REL-2026.11-HF1`?" in dana


async def test_another_squads_release_changes_nothing_in_the_answer(bot: LocalBot) -> None:
    """The same id typed, with the release stored and then gone: the same words, the same
    suggestions — the answer does not tell that it exists."""
    commands = [f"status {HIDDEN}", f"history {HIDDEN.lower()}", f"status {HIDDEN}x"]
    await linked(bot, "UDANA")
    while_stored = [refusal(await answer(bot, "UDANA", c)) for c in commands]

    await bot.runtime.db["releases"].delete_one({"release_id": HIDDEN})
    once_gone = [refusal(await answer(bot, "UDANA", c)) for c in commands]

    assert while_stored == once_gone
    assert all("Did you mean" in out and f"`{HIDDEN}`" not in out for out in while_stored)


async def test_an_unknown_username_gets_the_closest_usernames(bot: LocalBot) -> None:
    out = refusal(await answer(bot, "UADMIN", f"admin link {NOBODY} arjn"))

    assert "No user 'arjn'. Did you mean `arjun`?" in out
    assert USERS_HINT in out and "/release list" not in out
    assert (await user(bot, "arjun")).slack is None


async def test_an_unknown_role_gets_the_closest_role_names(bot: LocalBot) -> None:
    await linked(bot, "UDANA")

    grant = refusal(await answer(bot, "UADMIN", f"admin grant {DANA} Admn"))
    revoke = refusal(await answer(bot, "UADMIN", f"admin revoke {DANA} release managr"))

    assert "No role 'Admn'. Did you mean `Admin`?" in grant and ROLES_HINT in grant
    assert "No role 'release managr'. Did you mean `Release Manager`?" in revoke
    assert await role_names(bot, "dana") == ["Squad Member"]


async def test_nothing_alike_offers_nothing(bot: LocalBot) -> None:
    call = await answer(bot, "UDANA", "status zzz")

    refusal(call)
    assert call.params["text"] == f":warning: No release 'zzz'.\n{LIST_HINT}"
