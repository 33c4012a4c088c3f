"""`/release milestone`: the approval policy in the form — who must approve, when it expires,
what a change of evidence does — stored, refused under its field, and filled in when an
existing milestone is picked (the form drawn again on Slack's block action)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.devtools.harness import LocalBot
from bot.devtools.payloads import APP_ID
from bot.devtools.signing import payload_body
from core.models.approval import ONE_APPROVAL_MANAGER, ONE_DECIDER, Policy, QuorumRule
from core.models.rbac import Permission, RoleDraft
from core.models.release import ApprovalStatus, Milestone
from core.rules.policy_text import parse_rules, render_rules
from tests.bot.modal_support import (
    confirmation,
    moment,
    open_form,
    option_value_in,
    release,
    select,
    snapshot,
    submit,
    text,
)
from tests.bot.test_reading import actor

REL = "REL-2026.12"
QA, PAY = "QA Lead", "Payments Owner"
LEDGER = ("payments-ledger", "Regression suite")


async def with_roles(bot: LocalBot) -> None:
    """The roles the policies name, made as an admin makes them."""
    admin = await actor(bot, "admin")
    for name in (QA, PAY):
        await bot.runtime.deps.services.roles.create(admin, RoleDraft(role_name=name))


async def ledger_milestone(bot: LocalBot, key: str) -> Milestone:
    gate = (await release(bot, REL)).product(LEDGER[0]).gate(LEDGER[1])
    return gate.milestone(key)


async def new_milestone(bot: LocalBot, view: dict[str, Any], **values: Any) -> Any:
    """Submit ``view`` as a new prod milestone in the ledger's regression gate."""
    gate = (await release(bot, REL)).product(LEDGER[0]).gate(LEDGER[1])
    start = gate.milestones[-1].end_date + timedelta(days=1)
    return await submit(
        bot,
        "URHEA",
        view,
        milestone=select(option_value_in(view, "milestone", LEDGER[1], "New milestone")),
        milestone_key=text("ledger-go"),
        milestone_name=text("Ledger go-live"),
        environment=select("prod"),
        start_date=moment(start),
        end_date=moment(start + timedelta(hours=4)),
        **values,
    )


def block(view: dict[str, Any], prefix: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        b for b in view["blocks"] if b.get("block_id", "").partition("@")[0] == prefix
    ]
    assert len(found) == 1, prefix
    return found[0]


async def pick(bot: LocalBot, view: dict[str, Any], view_id: str, value: str) -> dict[str, Any]:
    """Pick a milestone in the open form as Slack sends it (the select dispatches its action);
    the form as the bot drew it again."""
    updated = len(bot.slack.of("views.update"))
    chosen = select(value)
    payload = {
        "type": "block_actions",
        "team": {"id": bot.driver.team_id, "domain": "demo"},
        "user": {"id": "URHEA", "team_id": bot.driver.team_id},
        "api_app_id": APP_ID,
        "container": {"type": "view", "view_id": view_id},
        "view": {**view, "id": view_id, "state": {"values": {"milestone": {"milestone": chosen}}}},
        "actions": [
            {
                "action_id": "milestone",
                "block_id": "milestone",
                "action_ts": "1700000000.0",
                **chosen,
            }
        ],
    }
    reply = await bot.driver.post(payload_body(payload))
    assert reply.status == 200
    [*_, update] = await bot.slack.wait_for("views.update", updated + 1)
    assert update.params["view_id"] == view_id
    drawn: dict[str, Any] = update.params["view"]
    return drawn


async def test_the_form_offers_the_policy_empty_meaning_the_defaults(bot: LocalBot) -> None:
    view = await open_form(bot, "URHEA", f"milestone {REL}")

    approvers, expires, withdraw = (
        block(view, name) for name in ("approvers", "expires_after", "withdraw_votes")
    )
    assert approvers["block_id"] == "approvers" and approvers["optional"]
    assert "initial_value" not in approvers["element"]
    assert approvers["element"]["placeholder"]["text"] == "1 × QA Lead + 2 × Payments Owner"
    assert [o["text"]["text"] for o in expires["element"]["options"]] == [
        "Never", "4 hours", "8 hours", "24 hours", "48 hours", "72 hours", "1 week",
    ]  # fmt: skip
    assert [o["value"] for o in withdraw["element"]["options"]] == ["default", "always", "never"]
    assert "initial_option" not in expires["element"]
    assert "initial_option" not in withdraw["element"]
    assert block(view, "milestone")["dispatch_action"] is True


async def test_a_policy_filled_in_is_stored_and_asked_for(bot: LocalBot) -> None:
    await with_roles(bot)
    view = await open_form(bot, "URHEA", f"milestone {REL}")

    answer = await new_milestone(
        bot,
        view,
        approvers=text("1 qa lead\n2 x Payments owner"),
        expires_after=select("24"),
        withdraw_votes=select("never"),
    )

    assert answer is None
    approval = (await ledger_milestone(bot, "ledger-go")).approval
    assert approval.policy == Policy(
        rules=[QuorumRule(role=QA), QuorumRule(role=PAY, count=2)],
        expires_after_hours=24,
        withdraw_when_evidence_changes=False,
    )
    assert approval.status is ApprovalStatus.PENDING  # no approval choice: rules mean required
    assert approval.requested_by == (await actor(bot, "rhea")).user_id
    assert approval.requested_at is not None
    assert approval.expires_at == approval.requested_at + timedelta(hours=24)
    said = str((await confirmation(bot))["blocks"])
    assert "Approval pending: needs 1 × QA Lead + 2 × Payments Owner" in said


@pytest.mark.parametrize(
    ("approvers", "said"),
    [
        ("1 × QA Leed", "No role 'QA Leed' — roles: Admin, Approval Manager, Payments Owner"),
        ("10 × QA Lead", "'10 × QA Lead': at most 9 people per rule"),
        ("QA Lead + 2 qa lead", "'QA Lead' appears twice"),
        ("2 ×", "'2 ×': name a role after the number"),
    ],
)
async def test_a_bad_rule_is_refused_under_the_field_and_nothing_is_stored(
    bot: LocalBot, approvers: str, said: str
) -> None:
    await with_roles(bot)
    view = await open_form(bot, "URHEA", f"milestone {REL}")
    before = await snapshot(bot)

    answer = await new_milestone(bot, view, approvers=text(approvers))

    assert list(answer["errors"]) == ["approvers"]
    assert said in answer["errors"]["approvers"]
    assert await snapshot(bot) == before


async def test_an_approval_manager_sign_off_needs_one_among_the_approvers(bot: LocalBot) -> None:
    await with_roles(bot)
    view = await open_form(bot, "URHEA", f"milestone {REL}")
    before = await snapshot(bot)

    refused = await new_milestone(bot, view, approval=select("manager"), approvers=text(QA))
    needless = await new_milestone(bot, view, approval=select("none"), approvers=text(QA))

    assert "Add “1 × Approval Manager”" in refused["errors"]["approvers"]
    assert "“No approval needed”" in needless["errors"]["approvers"]
    assert await snapshot(bot) == before


async def test_picking_a_milestone_fills_in_its_policy_and_a_save_changes_only_that(
    bot: LocalBot,
) -> None:
    await with_roles(bot)
    view = await open_form(bot, "URHEA", f"milestone {REL}")
    await new_milestone(
        bot, view, approvers=text("1 QA Lead + 2 Payments Owner"), expires_after=select("24")
    )
    asked = (await ledger_milestone(bot, "ledger-go")).approval

    view = await open_form(bot, "URHEA", f"milestone {REL}")
    view_id = bot.slack.of("views.update")[-1].params["view_id"]
    value = option_value_in(view, "milestone", LEDGER[1], "ledger-go")
    drawn = await pick(bot, view, view_id, value)

    approvers = block(drawn, "approvers")
    assert approvers["block_id"] != "approvers"  # its own, so Slack shows the new value
    assert approvers["element"]["initial_value"] == "1 × QA Lead + 2 × Payments Owner"
    assert block(drawn, "expires_after")["element"]["initial_option"]["value"] == "24"
    assert block(drawn, "withdraw_votes")["element"]["initial_option"]["value"] == "default"
    assert block(drawn, "milestone")["element"]["initial_option"]["value"] == value

    async def save(**changed: Any) -> Any:
        """The drawn form as Slack submits it: what it shows, with ``changed``."""
        shown = {
            "milestone": select(value),
            approvers["block_id"]: text(approvers["element"]["initial_value"]),
            block(drawn, "expires_after")["block_id"]: select("24"),
            block(drawn, "withdraw_votes")["block_id"]: select("default"),
        }
        for name, state in changed.items():
            shown[block(drawn, name)["block_id"]] = state
        return await submit(bot, "URHEA", drawn, **shown)

    # Saved as shown: nothing to change, the round of asking goes on.
    unchanged = await save()
    assert "Fill in what should change" in unchanged["errors"]["milestone_name"]
    assert await save(expires_after=select("48")) is None

    approval = (await ledger_milestone(bot, "ledger-go")).approval
    assert approval.policy is not None and asked.policy is not None
    assert approval.policy.rules == asked.policy.rules
    assert approval.policy.expires_after_hours == 48
    assert approval.status is ApprovalStatus.PENDING

    # Approvers cleared: one approver again, fewer than it asks now: an approval manager's call.
    refused = await save(approvers=text(""), expires_after=select("never"))
    assert "only an approval manager can" in str(refused["errors"])
    assert (await ledger_milestone(bot, "ledger-go")).approval.policy == approval.policy


async def test_a_milestone_picked_but_not_drawn_again_keeps_its_policy(bot: LocalBot) -> None:
    await with_roles(bot)
    view = await open_form(bot, "URHEA", f"milestone {REL}")
    await new_milestone(bot, view, approvers=text("2 × Payments Owner"))
    asked = (await ledger_milestone(bot, "ledger-go")).approval

    view = await open_form(bot, "URHEA", f"milestone {REL}")
    answer = await submit(
        bot,
        "URHEA",
        view,
        milestone=select(option_value_in(view, "milestone", LEDGER[1], "ledger-go")),
        milestone_name=text("Ledger go-live (renamed)"),
    )

    assert answer is None
    renamed = await ledger_milestone(bot, "ledger-go")
    assert renamed.milestone_name == "Ledger go-live (renamed)"
    assert renamed.approval.policy == asked.policy
    assert renamed.approval.requested_at == asked.requested_at


async def test_settings_drawn_for_another_milestone_are_refused(bot: LocalBot) -> None:
    """Picked one milestone, the form drawn with its policy, then another picked and saved
    before Slack drew the form again: the first one's settings are not given to the second."""
    await with_roles(bot)
    view = await open_form(bot, "URHEA", f"milestone {REL}")
    await new_milestone(bot, view, approvers=text("2 × Payments Owner"))
    view = await open_form(bot, "URHEA", f"milestone {REL}")
    view_id = bot.slack.of("views.update")[-1].params["view_id"]
    drawn = await pick(
        bot, view, view_id, option_value_in(view, "milestone", LEDGER[1], "ledger-go")
    )
    other = option_value_in(drawn, "milestone", "UAT sign-off", "stage-signoff")
    before = await snapshot(bot)

    answer = await submit(
        bot,
        "URHEA",
        drawn,
        milestone=select(other),
        **{block(drawn, "approvers")["block_id"]: text("2 × Payments Owner")},
    )

    assert "another milestone's" in answer["errors"]["milestone"]
    assert await snapshot(bot) == before


@pytest.mark.parametrize(
    "policy",
    [
        Policy(rules=[QuorumRule(role=QA), QuorumRule(role=PAY, count=2)]),
        ONE_APPROVAL_MANAGER,
        ONE_DECIDER,
        Policy(rules=[QuorumRule(count=3, flags=[Permission.CAN_MANAGE_QUALITY_GATES])]),
    ],
)
def test_rules_written_back_read_as_the_same_rules(policy: Policy) -> None:
    """What the form fills in for an existing milestone saves as it was (no new round)."""
    written = render_rules(policy)

    assert parse_rules(written, [QA, PAY, "Approval Manager"]) == policy.rules
