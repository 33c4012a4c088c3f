"""`/release admin …` end to end: lists, forms, links and roles, through signed requests."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from blocks.admin import roles_message, users_message
from blocks.ids import CallbackId
from bot.devtools.fake_slack import Call
from bot.devtools.harness import LocalBot
from core.errors import ErrorCode
from core.models.rbac import Role, User
from tests.support import T0

DANA = "<@UDANA|dana>"


async def answer(bot: LocalBot, user: str, text: str) -> Call:
    """Run a command and return its (single) answer through the response_url."""
    before = len(bot.slack.of("response_url"))
    reply = await bot.driver.command(user, text)
    assert reply.status == 200
    calls = await bot.slack.wait_for("response_url", before + 1)
    return calls[before]


def shown(call: Call) -> str:
    return f"{call.params.get('text')} {call.params.get('blocks')}"


def refusal(call: Call) -> str:
    """What an ephemeral refusal shows, checked to be words: a warning, no error code."""
    out = shown(call)
    assert call.params["response_type"] == "ephemeral", out
    assert str(call.params["text"]).startswith(":warning: "), out
    assert not [code for code in ErrorCode if code.value in out], out
    return out


async def opened_form(bot: LocalBot, user: str, text: str, *, loaded: bool = False) -> Any:
    """The form a command opened: the views.open view, or the views.update that filled it."""
    method = "views.update" if loaded else "views.open"
    before = len(bot.slack.of(method))
    await bot.driver.command(user, text)
    calls = await bot.slack.wait_for(method, before + 1)
    view = calls[before].params["view"]
    if loaded:
        [opened] = bot.slack.of("views.open")[-1:]
        assert "Loading" in str(opened.params["view"]["blocks"])
        view = {**view, "id": calls[before].params["view_id"]}
    return view


def text(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def options(*values: str) -> dict[str, Any]:
    return {"type": "multi_static_select", "selected_options": [{"value": v} for v in values]}


def form(**fields: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: {name: state} for name, state in fields.items()}


async def user(bot: LocalBot, username: str) -> User:
    return await bot.runtime.repos.users.get_by_username(username)


async def role_names(bot: LocalBot, username: str) -> list[str]:
    held = await user(bot, username)
    return sorted(r.role_name for r in await bot.runtime.repos.roles.get_many(held.role_ids))


# --- lists --------------------------------------------------------------------------------


async def test_roles_lists_every_role_with_its_flags(bot: LocalBot) -> None:
    call = await answer(bot, "UADMIN", "admin roles")

    assert call.params["response_type"] == "ephemeral"
    out = shown(call)
    for name in ("Admin", "Release Manager", "Approval Manager", "Squad Member"):
        assert name in out
    assert "is_approval_manager" in out and "_no permissions_" in out


async def test_users_shows_username_email_roles_slack_link_and_status(bot: LocalBot) -> None:
    await answer(bot, "UDANA", "whoami")  # first contact links dana by email

    out = shown(await answer(bot, "UADMIN", "admin users"))

    assert "`dana`" in out and "dana@example.com" in out and "Squad Member" in out
    assert "<@UDANA>" in out and "ACTIVE" in out
    assert "`arjun`" in out and "_not linked to Slack_" in out


async def test_users_is_refused_to_dana_and_allowed_to_rhea_who_invites(bot: LocalBot) -> None:
    refused = refusal(await answer(bot, "UDANA", "admin users"))
    allowed = shown(await answer(bot, "URHEA", "admin users"))

    assert "You need the 'can_manage_roles' or 'can_invite_users' permission" in refused
    assert "`dana`" not in refused
    assert "`dana`" in allowed


async def test_catalog_lists_apps_squads_and_boards(bot: LocalBot) -> None:
    apps = shown(await answer(bot, "UDANA", "admin apps"))
    squads = shown(await answer(bot, "UDANA", "admin squads"))
    boards = shown(await answer(bot, "UDANA", "admin boards"))

    assert "`payments-api` Payments API" in apps and "Checkout" in apps
    assert "`payments`" in squads and "PAY" in squads
    assert "`IDN`" in boards and "kanban" in boards


def test_long_lists_end_with_and_n_more_within_slack_limits() -> None:
    roles = [
        Role(role_name=f"role-{n:03}-" + "x" * 120, description="d" * 400, created_at=T0)
        for n in range(400)
    ]
    users = [
        User(username=f"u{n}", full_name="N" * 150, email=f"u{n}@example.com", created_at=T0)
        for n in range(900)
    ]

    for message in (roles_message(roles), users_message(users, roles)):
        rendered = message.to_dict()  # slack_sdk validates every limit
        assert len(rendered["blocks"]) <= 50
        assert "more" in str(rendered["blocks"][-2])


async def test_user_text_is_escaped_in_lists(bot: LocalBot) -> None:
    view = await opened_form(bot, "UADMIN", "admin role new")
    await bot.driver.submit("UADMIN", view, form(role_name=text("<!channel> & co")))

    out = shown(await answer(bot, "UADMIN", "admin roles"))

    assert "&lt;!channel&gt; &amp; co" in out and "<!channel>" not in out


# --- forms --------------------------------------------------------------------------------


async def test_role_new_creates_the_role_with_its_flags_and_confirms(bot: LocalBot) -> None:
    view = await opened_form(bot, "UADMIN", "admin role new")
    assert view["callback_id"] == CallbackId.NEW_ROLE
    flags = {"type": "checkboxes", "selected_options": [{"value": "can_manage_runbooks"}]}

    reply = await bot.driver.submit(
        "UADMIN",
        view,
        form(role_name=text("Runbook Keeper"), description=text("Runs the runbooks"), flags=flags),
    )

    assert reply.status == 200 and reply.text == ""
    role = await bot.runtime.repos.roles.get("Runbook Keeper")
    assert role.can_manage_runbooks and not role.can_manage_roles
    assert role.description == "Runs the runbooks"
    confirmation = (await bot.slack.wait_for("response_url", 1))[-1]
    assert confirmation.params["response_type"] == "ephemeral"
    assert "Runbook Keeper" in shown(confirmation)


async def test_role_new_with_a_taken_name_is_a_field_error(bot: LocalBot) -> None:
    view = await opened_form(bot, "UADMIN", "admin role new")
    before = len(await bot.runtime.repos.roles.all())

    reply = await bot.driver.submit("UADMIN", view, form(role_name=text("Admin")))

    assert reply.json()["response_action"] == "errors"
    assert "already exists" in reply.json()["errors"]["role_name"]
    assert len(await bot.runtime.repos.roles.all()) == before


async def test_dana_cannot_open_or_save_an_admin_form(bot: LocalBot) -> None:
    refused = refusal(await answer(bot, "UDANA", "admin role new"))
    assert "You need the 'can_manage_roles' permission" in refused
    assert bot.slack.of("views.open") == []

    admins_form = await opened_form(bot, "UADMIN", "admin role new")
    reply = await bot.driver.submit("UDANA", admins_form, form(role_name=text("Sneaky")))

    assert reply.json()["response_action"] == "errors"
    assert "can_manage_roles" in reply.json()["errors"]["role_name"]
    assert "Sneaky" not in [r.role_name for r in await bot.runtime.repos.roles.all()]


async def test_user_new_offers_roles_and_squads_then_creates_the_user(bot: LocalBot) -> None:
    view = await opened_form(bot, "UADMIN", "admin user new", loaded=True)
    offered = str(view["blocks"])
    assert "Approval Manager" in offered and "payments" in offered
    manager = await bot.runtime.repos.roles.get("Approval Manager")

    reply = await bot.driver.submit(
        "UADMIN",
        view,
        form(
            username=text("nora"),
            full_name=text("Nora Quist"),
            email={"type": "email_text_input", "value": "Nora@Example.com"},
            role_ids=options(manager.id),
            assigned_squad_ids=options("payments", "checkout"),
        ),
    )

    assert reply.text == ""
    nora = await user(bot, "nora")
    assert nora.email == "nora@example.com" and nora.role_ids == [manager.id]
    assert nora.assigned_squad_ids == ["payments", "checkout"]
    confirmation = (await bot.slack.wait_for("response_url", 1))[-1]
    assert "`nora`" in shown(confirmation) and "Approval Manager" in shown(confirmation)


@pytest.mark.parametrize(
    ("username", "email", "role_id", "block", "says"),
    [
        ("nora", "not-an-email", None, "email", "email"),
        ("dana", "nora@example.com", None, "username", "already exists"),
        ("nora", "DANA@example.com", None, "email", "already exists"),
        ("nora", "nora@example.com", "64b000000000000000000000", "role_ids", "Unknown role"),
    ],
)
async def test_user_new_field_errors(
    bot: LocalBot, username: str, email: str, role_id: str | None, block: str, says: str
) -> None:
    view = await opened_form(bot, "UADMIN", "admin user new", loaded=True)
    before = len(await bot.runtime.repos.users.all())
    values = form(
        username=text(username),
        full_name=text("Nora Quist"),
        email={"type": "email_text_input", "value": email},
        role_ids=options(*([role_id] if role_id else [])),
    )

    reply = await bot.driver.submit("UADMIN", view, values)

    assert reply.json()["response_action"] == "errors"
    assert says in reply.json()["errors"][block]
    assert len(await bot.runtime.repos.users.all()) == before


async def test_apps_new_reads_product_lines(bot: LocalBot) -> None:
    view = await opened_form(bot, "UADMIN", "admin apps new")

    reply = await bot.driver.submit(
        "UADMIN",
        view,
        form(
            application_id=text("billing"),
            application_name=text("Billing"),
            technologies=text("Python, Kafka"),
            products=text("billing-api | Billing API\n\nbilling-web|Billing Web"),
        ),
    )

    assert reply.text == ""
    app = await bot.runtime.repos.applications.get("billing")
    assert [(p.product_id, p.product_name) for p in app.products] == [
        ("billing-api", "Billing API"),
        ("billing-web", "Billing Web"),
    ]
    assert app.technologies == ["Python", "Kafka"]


@pytest.mark.parametrize(
    ("application_id", "products", "block", "says"),
    [
        ("billing", "billing-api Billing API", "products", "Line 1"),
        ("billing", "a | A\na | Again", "products", "unique"),
        ("payments", "", "application_id", "already exists"),
        ("bad id!", "", "application_id", "pattern"),
    ],
)
async def test_apps_new_field_errors(
    bot: LocalBot, application_id: str, products: str, block: str, says: str
) -> None:
    view = await opened_form(bot, "UADMIN", "admin apps new")
    values = form(
        application_id=text(application_id),
        application_name=text("Billing"),
        products=text(products),
    )

    reply = await bot.driver.submit("UADMIN", view, values)

    assert reply.json()["response_action"] == "errors"
    assert says in reply.json()["errors"][block]
    assert [a.application_id for a in await bot.runtime.repos.applications.all()] == [
        "checkout",
        "identity",
        "payments",
    ]


async def test_boards_new_and_squads_new_add_to_the_catalog(bot: LocalBot) -> None:
    board_form = await opened_form(bot, "UADMIN", "admin boards new")
    await bot.driver.submit(
        "UADMIN",
        board_form,
        form(
            board_id=text("BIL"),
            board_name=text("Billing"),
            board_link={"type": "url_text_input", "value": "https://jira.example.com/b/BIL"},
            board_type={"type": "static_select", "selected_option": {"value": "kanban"}},
        ),
    )
    squad_form = await opened_form(bot, "UADMIN", "admin squads new", loaded=True)
    assert "Billing (BIL)" in str(squad_form["blocks"])  # the new board is offered

    reply = await bot.driver.submit(
        "UADMIN",
        squad_form,
        form(
            squad_id=text("billing"),
            squad_name=text("Billing"),
            squad_jira_board_ids=options("BIL"),
        ),
    )

    assert reply.text == ""
    board = await bot.runtime.repos.boards.get("BIL")
    assert board.board_type == "kanban" and board.board_link == "https://jira.example.com/b/BIL"
    squad = await bot.runtime.repos.squads.get("billing")
    assert squad.squad_jira_board_ids == ["BIL"]


async def test_a_form_submitted_twice_at_once_creates_one_thing(bot: LocalBot) -> None:
    view = await opened_form(bot, "UADMIN", "admin boards new")
    values = form(board_id=text("OPS"), board_name=text("Operations"))

    replies = await asyncio.gather(
        bot.driver.submit("UADMIN", view, values), bot.driver.submit("UADMIN", view, values)
    )

    assert sorted(r.text == "" for r in replies) == [False, True]
    assert [b.board_id for b in await bot.runtime.repos.boards.all()].count("OPS") == 1


# --- links and roles ----------------------------------------------------------------------


async def test_link_makes_a_stranger_a_user_at_once_and_unlink_undoes_it(bot: LocalBot) -> None:
    stranger = shown(await answer(bot, "UNOBODY", "whoami"))
    assert "not linked" in stranger

    linked = shown(await answer(bot, "UADMIN", "admin link <@UNOBODY|nobody> arjun"))
    assert "<@UNOBODY> is now linked to `arjun`" in linked
    assert "You are arjun" in shown(await answer(bot, "UNOBODY", "whoami"))

    unlinked = shown(await answer(bot, "UADMIN", "admin unlink <@UNOBODY|nobody>"))
    assert "no longer linked" in unlinked
    assert "not linked" in shown(await answer(bot, "UNOBODY", "whoami"))
    assert (await user(bot, "arjun")).slack is None


async def test_link_of_a_slack_person_linked_elsewhere_is_refused(bot: LocalBot) -> None:
    await answer(bot, "UDANA", "whoami")  # dana links by email

    out = refusal(await answer(bot, "UADMIN", f"admin link {DANA} arjun"))

    assert "already linked to another portal user; unlink it there first" in out
    assert (await user(bot, "arjun")).slack is None


async def test_unlinked_person_is_not_linked_again_by_email(bot: LocalBot) -> None:
    await answer(bot, "UDANA", "whoami")
    assert (await user(bot, "dana")).slack is not None

    await answer(bot, "UADMIN", f"admin unlink {DANA}")
    refused = shown(await answer(bot, "UDANA", "status REL-2026.11"))

    assert "not linked" in refused and "Ask an admin" in refused
    assert (await user(bot, "dana")).slack is None
    await answer(bot, "UADMIN", f"admin link {DANA} dana")
    assert "You are dana" in shown(await answer(bot, "UDANA", "whoami"))


async def test_grant_takes_effect_at_once_and_revoke_too(bot: LocalBot) -> None:
    before = refusal(await answer(bot, "UDANA", "admin users"))  # cached as a squad member
    assert "You need the" in before

    granted = shown(await answer(bot, "UADMIN", f'admin grant {DANA} "Release Manager"'))
    after = shown(await answer(bot, "UDANA", "admin users"))

    assert "has the role *Release Manager*" in granted
    assert "`arjun`" in after
    assert await role_names(bot, "dana") == ["Release Manager", "Squad Member"]

    await answer(bot, "UADMIN", f"admin revoke {DANA} Release Manager")
    assert "You need the" in refusal(await answer(bot, "UDANA", "admin users"))
    assert await role_names(bot, "dana") == ["Squad Member"]


async def test_grant_to_someone_not_linked_says_so(bot: LocalBot) -> None:
    out = refusal(await answer(bot, "UADMIN", "admin grant <@UNOBODY|nobody> Admin"))

    assert "is not linked to a releasebot user" in out
    assert "Link them first: `/release admin link @them &lt;username&gt;`" in out
    assert "nobody" not in [u.username for u in await bot.runtime.repos.users.all()]


async def test_grant_of_an_unknown_role_and_revoke_of_one_not_held(bot: LocalBot) -> None:
    await answer(bot, "UDANA", "whoami")

    unknown = shown(await answer(bot, "UADMIN", f"admin grant {DANA} Wizard"))
    not_held = shown(await answer(bot, "UADMIN", f"admin revoke {DANA} Admin"))

    assert "No role 'Wizard'" in unknown
    assert "does not have the role" in not_held
    assert await role_names(bot, "dana") == ["Squad Member"]


async def test_dana_is_refused_every_change_and_nothing_changes(bot: LocalBot) -> None:
    await answer(bot, "UADMIN", "whoami")
    for command in (
        f"admin grant {DANA} Admin",
        "admin grant <@UADMIN|admin> Squad Member",
        "admin link <@UNOBODY|nobody> arjun",
        "admin unlink <@UADMIN|admin>",
        "admin revoke <@UADMIN|admin> Admin",
    ):
        refused = refusal(await answer(bot, "UDANA", command))
        assert "You need the 'can_manage_roles' permission" in refused, command
        assert "`/release whoami` shows your roles and permissions" in refused, command

    assert await role_names(bot, "dana") == ["Squad Member"]
    assert await role_names(bot, "admin") == ["Admin"]
    assert (await user(bot, "admin")).slack is not None
    assert (await user(bot, "arjun")).slack is None


async def test_two_grants_at_once_leave_one_role_id(bot: LocalBot) -> None:
    await answer(bot, "UDANA", "whoami")
    command = f"admin grant {DANA} Admin"

    await asyncio.gather(
        bot.driver.command("UADMIN", command), bot.driver.command("UADMIN", command)
    )
    await bot.slack.wait_for("response_url", 3)

    admin = await bot.runtime.repos.roles.get("Admin")
    assert (await user(bot, "dana")).role_ids.count(admin.id) == 1


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("admin link dana dana", "is not a Slack mention"),
        ("admin link <@UDANA|dana>", "Missing a username"),
        ("admin grant", "Missing a Slack mention"),
        ("admin grant <@UDANA|dana>", "Missing a role name"),
    ],
)
async def test_bad_admin_arguments_get_the_usage(bot: LocalBot, command: str, says: str) -> None:
    out = shown(await answer(bot, "UADMIN", command))

    assert says in out and "Usage: `/release admin" in out


async def test_unknown_admin_command_shows_the_admin_usage(bot: LocalBot) -> None:
    out = shown(await answer(bot, "UADMIN", "admin frobnicate"))

    assert "Unknown admin command `frobnicate`" in out
    assert "/release admin grant @user &lt;role&gt;" in out


async def test_inviting_a_user_with_roles_needs_role_management(bot: LocalBot) -> None:
    """rhea may invite (can_invite_users) but not hand out roles, Admin least of all."""
    view = await opened_form(bot, "URHEA", "admin user new", loaded=True)
    admin_role = await bot.runtime.repos.roles.get("Admin")

    reply = await bot.driver.submit(
        "URHEA",
        view,
        form(
            username=text("mallory"),
            full_name=text("Mallory"),
            email={"type": "email_text_input", "value": "mallory@example.com"},
            role_ids=options(admin_role.id),
        ),
    )

    assert reply.json()["response_action"] == "errors"
    assert "can_manage_roles" in str(reply.json()["errors"])
    assert "mallory" not in [u.username for u in await bot.runtime.repos.users.all()]
