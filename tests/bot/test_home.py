"""App Home: published on app_home_opened, redrawn after a decision made from it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from blocks.approvals import ApprovalTarget
from blocks.home import HOME_NOTICE_BLOCK, home_view
from blocks.ids import ActionId, CallbackId, Origin
from blocks.text import SURFACE_BLOCKS
from bot.devtools.fake_slack import Call
from bot.devtools.harness import LocalBot
from bot.errors import user_message
from core.errors import NotFound
from core.models.rbac import User
from core.models.release import (
    ApprovalStatus,
    Environment,
    Milestone,
    MilestoneApproval,
    Release,
    ReleaseDraft,
)
from core.rules.readiness import MilestoneRef, summarize
from core.services.approvals import PendingApproval
from tests.bot.test_approvals import approval, ask, dms, in_dm, reacted, settle, stored, target
from tests.bot.test_reading import ESCAPED, INJECTION, actor, mrkdwn


def opened(user: str, tab: str = "home") -> dict[str, Any]:
    return {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": tab}


async def home_of(bot: LocalBot, user: str) -> Call:
    start = len(bot.slack.of("views.publish"))
    reply = await bot.driver.event(opened(user))
    assert reply.status == 200
    published = (await bot.slack.wait_for("views.publish", start + 1))[start]
    assert published.params["user_id"] == user
    return published


def view_text(call: Call) -> str:
    return "\n".join(mrkdwn(call.params))


def approval_milestones(call: Call) -> list[str]:
    return [
        ApprovalTarget.decode(b["elements"][0]["value"]).milestone
        for b in call.params["view"]["blocks"]
        if b["type"] == "actions" and b["elements"][0]["action_id"] == ActionId.APPROVE
    ]


async def test_home_shows_an_approvers_pending_approvals_and_releases(bot: LocalBot) -> None:
    home = await home_of(bot, "UARJUN")

    view = home.params["view"]
    text = view_text(home)
    assert view["type"] == "home" and len(view["blocks"]) <= SURFACE_BLOCKS
    assert approval_milestones(home) == ["uat-signoff", "stage-signoff"]
    assert "*Waiting for your decision* (2)" in text
    for release_id in ("REL-2027.01", "REL-2026.12", "REL-2026.11", "REL-2026.11-HF1"):
        assert f"*{release_id}* ·" in text
    assert "*Ready for approval*" in text and "*Blocked*" in text


async def test_home_of_a_squad_member_is_scoped_to_their_squads(bot: LocalBot) -> None:
    home = await home_of(bot, "UDANA")

    text = view_text(home)
    assert approval_milestones(home) == []
    assert "Nothing is waiting for your approval." in text
    assert "*REL-2026.12* ·" in text and "*REL-2026.11-HF1* ·" in text
    assert "REL-2027.01" not in text and "*REL-2026.11* ·" not in text


async def test_home_of_an_unlinked_person_explains_how_to_get_access(bot: LocalBot) -> None:
    home = await home_of(bot, "UNOBODY")

    text = view_text(home)
    assert "not linked" in text and "ask an admin" in text
    assert "REL-" not in text
    assert not any(b["type"] == "actions" for b in home.params["view"]["blocks"])


async def test_only_the_home_tab_is_drawn(bot: LocalBot) -> None:
    await bot.driver.event(opened("UARJUN", tab="messages"))
    await home_of(bot, "UDANA")

    assert [c.params["user_id"] for c in bot.slack.of("views.publish")] == ["UDANA"]


ON_HOME: dict[str, Any] = {
    "block_id": "home_approval:0",
    "container": {"type": "view", "view_id": "VHOME"},
    "view": {"id": "VHOME", "type": "home"},
}


async def uat_on_home(bot: LocalBot) -> str:
    """The value of the UAT sign-off's buttons as Home shows them."""
    return await target(bot, "uat-signoff", origin=Origin.HOME)


def banner(call: Call) -> str | None:
    """The notice banner on top of a published Home (right under the header), if any."""
    blocks = call.params["view"]["blocks"]
    found = [i for i, b in enumerate(blocks) if b.get("block_id") == HOME_NOTICE_BLOCK]
    if not found:
        return None
    assert found == [1] and blocks[0]["type"] == "header"
    return str(blocks[1]["text"]["text"])


def strict_triggers(bot: LocalBot) -> None:
    """Any trigger_id the bot uses from now on is too late: Home answers must not need one."""
    bot.slack.trigger_seconds = 0.0


def modals_opened(bot: LocalBot) -> list[str]:
    """views.open calls, those Slack refused (``views.open!expired_trigger_id``) included."""
    return [c.method for c in bot.slack.calls if c.method.startswith(("views.open", "views.push"))]


async def test_approving_from_home_redraws_it_with_what_was_done(bot: LocalBot) -> None:
    await ask(bot, "REL-2026.12")
    await home_of(bot, "UARJUN")
    strict_triggers(bot)

    await bot.driver.click(
        "UARJUN", ActionId.APPROVE, await target(bot, "uat-signoff", origin=Origin.HOME), **ON_HOME
    )

    redrawn = (await bot.slack.wait_for("views.publish", 2))[1]
    assert approval_milestones(redrawn) == ["stage-signoff"]
    assert "*Waiting for your decision* (1)" in view_text(redrawn)
    notice = banner(redrawn)
    assert notice is not None
    assert notice.startswith(":white_check_mark: You approved *UAT sign-off*")
    assert "of *REL-2026.12*" in notice
    updates = await bot.slack.wait_for("chat.update", 2)
    assert {u.params["channel"] for u in updates} == {"DUADMIN", "DUARJUN"}
    assert (await approval(bot, "uat-signoff")).status is ApprovalStatus.APPROVED
    await reacted(bot)
    assert modals_opened(bot) == []
    # Home is drawn again for the other approval manager too: the approval left their list.
    published = bot.slack.of("views.publish")
    assert sorted(p.params["user_id"] for p in published) == ["UADMIN", "UARJUN", "UARJUN"]
    [others] = [p for p in published if p.params["user_id"] == "UADMIN"]
    assert approval_milestones(others) == ["stage-signoff"] and banner(others) is None


async def test_a_refused_approve_on_home_says_why_in_a_banner(bot: LocalBot) -> None:
    await ask(bot, "REL-2026.12")
    first = await home_of(bot, "UDANA")
    before = await stored(bot)
    strict_triggers(bot)

    await bot.driver.click(
        "UDANA", ActionId.APPROVE, await target(bot, "uat-signoff", origin=Origin.HOME), **ON_HOME
    )

    redrawn = (await bot.slack.wait_for("views.publish", 2))[1]
    notice = banner(redrawn)
    assert notice is not None and notice.startswith(":warning: ")
    assert "PERMISSION_DENIED" not in notice
    assert "`/release whoami` shows your roles and permissions" in notice
    assert "must be decided by an approval manager" in notice
    assert banner(first) is None
    assert approval_milestones(redrawn) == []
    assert await stored(bot) == before
    await settle()
    assert modals_opened(bot) == []
    assert bot.slack.of("chat.update") == [] and bot.slack.of("response_url") == []


async def test_a_stale_approve_on_home_says_who_decided_and_drops_the_button(
    bot: LocalBot,
) -> None:
    await ask(bot, "REL-2026.12")
    copies = await dms(bot, "REL-2026.12", "uat-signoff")
    value = await target(bot, "uat-signoff")
    await bot.driver.click("UADMIN", ActionId.APPROVE, value, container=in_dm(copies["DUADMIN"]))
    await bot.slack.wait_for("chat.update", 2)
    before = await stored(bot)  # once the reactions are done (arjun's Home drawn again)
    strict_triggers(bot)
    shown = len(bot.slack.of("views.publish"))

    on_home = await uat_on_home(bot)  # a Home drawn before the decision, still on screen
    await bot.driver.click("UARJUN", ActionId.APPROVE, on_home, **ON_HOME)

    [redrawn] = (await bot.slack.wait_for("views.publish", shown + 1))[shown:]
    notice = banner(redrawn)
    assert notice is not None and "already approved by admin" in notice
    assert approval_milestones(redrawn) == ["stage-signoff"]  # the stale button is gone
    assert await stored(bot) == before
    await settle()
    assert modals_opened(bot) == []


async def test_a_refused_click_on_home_escapes_what_it_quotes(bot: LocalBot) -> None:
    release = await bot.runtime.repos.releases.get("REL-2026.12")
    product, gate = release.gates()[0]
    tampered = ApprovalTarget(
        release=release.id,
        product=product.product_id,
        gate=gate.gate_name,
        milestone=INJECTION,
        origin=Origin.HOME,
    ).encode()
    before = await stored(bot)

    await bot.driver.click("UARJUN", ActionId.APPROVE, tampered, **ON_HOME)

    [redrawn] = await bot.slack.wait_for("views.publish")
    notice = banner(redrawn)
    assert notice is not None and notice.startswith(":warning: Gate ") and ESCAPED in notice
    assert "RESOURCE_NOT_FOUND" not in notice
    assert not any("<!channel>" in t or "<@U123>" in t for t in mrkdwn(redrawn.params))
    assert await stored(bot) == before


async def test_an_unlinked_click_on_home_shows_how_to_get_access_with_the_refusal(
    bot: LocalBot,
) -> None:
    await bot.driver.click(
        "UNOBODY", ActionId.APPROVE, await target(bot, "uat-signoff", origin=Origin.HOME), **ON_HOME
    )

    [redrawn] = await bot.slack.wait_for("views.publish")
    notice = banner(redrawn)
    assert notice is not None and "not linked" in notice and "PERMISSION_DENIED" not in notice
    assert "REL-" not in view_text(redrawn)
    assert modals_opened(bot) == []


@pytest.mark.expired_trigger
async def test_reject_on_home_whose_trigger_expired_says_so_in_a_banner(bot: LocalBot) -> None:
    before = await stored(bot)
    bot.slack.trigger_seconds = 0.0  # Slack took too long to bring the click to us

    await bot.driver.click(
        "UARJUN", ActionId.REJECT, await target(bot, "uat-signoff", origin=Origin.HOME), **ON_HOME
    )

    [redrawn] = await bot.slack.wait_for("views.publish")
    notice = banner(redrawn)
    assert notice is not None and "Please click *Reject* again" in notice
    assert approval_milestones(redrawn) == ["uat-signoff", "stage-signoff"]
    assert modals_opened(bot) == ["views.open!expired_trigger_id"]  # one try, never reused
    assert await stored(bot) == before


async def test_home_escapes_release_names(bot: LocalBot) -> None:
    admin = await actor(bot, "admin")
    draft = ReleaseDraft(
        release_id="REL-PING", release_name=INJECTION, release_date=date(2030, 1, 1),
        squad_ids=["payments"],
    )  # fmt: skip
    await bot.runtime.deps.services.releases.create(admin, draft)

    texts = mrkdwn((await home_of(bot, "UDANA")).params)

    assert not any("<!channel>" in t or "<@U123>" in t for t in texts)
    assert any(ESCAPED in t for t in texts)


# --- limits (pure) --------------------------------------------------------------------------

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


def _pending(n: int) -> PendingApproval:
    milestone = Milestone(
        milestone_key=f"m{n}", milestone_name="M" * 150, environment=Environment.PROD,
        start_date=T0 + timedelta(days=n), end_date=T0 + timedelta(days=n, hours=2),
        approval=MilestoneApproval(required=True, requires_approval_manager=True,
                                   status="PENDING", requested_at=T0),  # type: ignore[arg-type]
    )  # fmt: skip
    ref = MilestoneRef(f"product-{n}", "P" * 150, "G" * 150, milestone)
    return PendingApproval(f"{n:024x}", f"REL-{n}", "R" * 150, ref)


def _release(n: int) -> Release:
    return Release(
        release_id=f"REL-{n}", release_name="N" * 150, release_date=date(2030, 1, 1),
        squad_ids=[f"squad-{i}" for i in range(20)], created_by="x", created_at=T0,
    )  # fmt: skip


def test_home_stays_within_100_blocks_however_much_is_waiting() -> None:
    user = User(username="arjun", full_name="Arjun", email="arjun@example.com", created_at=T0)
    releases = [(r, summarize(r)) for r in map(_release, range(60))]

    notice = user_message(NotFound("x" * 4000))
    view = home_view(
        user, [_pending(n) for n in range(80)], releases, ZoneInfo("Asia/Kolkata"),
        more_releases=True, can_create_release=True, notice=notice,
    ).to_dict()  # fmt: skip

    assert len(view["blocks"]) <= SURFACE_BLOCKS
    assert view["blocks"][1]["block_id"] == HOME_NOTICE_BLOCK
    assert view["blocks"][1]["text"]["text"].startswith(":warning: xxx")
    texts = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    contexts = [e["text"] for b in view["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert all(len(t) <= 3000 for t in texts)
    assert any("more waiting for you" in t for t in contexts)
    assert any("/release list" in t for t in contexts)


def quick_actions(call: Call) -> list[str]:
    return [
        e["action_id"]
        for b in call.params["view"]["blocks"]
        if b["type"] == "actions" and b.get("block_id") == "home_quick"
        for e in b["elements"]
    ]


async def test_new_release_on_home_opens_the_same_modal_as_release_new(bot: LocalBot) -> None:
    for_rhea = await home_of(bot, "URHEA")
    for_arjun = await home_of(bot, "UARJUN")

    await bot.driver.click(
        "URHEA", ActionId.OPEN_NEW_RELEASE, "", block_id="home_quick",
        container={"type": "view", "view_id": "VHOME"}, view={"id": "VHOME", "type": "home"},
    )  # fmt: skip

    assert quick_actions(for_rhea) == [ActionId.OPEN_NEW_RELEASE]
    assert quick_actions(for_arjun) == []  # may not create releases
    [opened] = await bot.slack.wait_for("views.open")
    [form] = await bot.slack.wait_for("views.update")
    assert opened.params["view"]["callback_id"] == CallbackId.NEW_RELEASE
    assert form.params["view"]["callback_id"] == CallbackId.NEW_RELEASE
    assert any(b["type"] == "input" for b in form.params["view"]["blocks"])


async def test_rejecting_from_home_redraws_it_after_the_modal(bot: LocalBot) -> None:
    await home_of(bot, "UARJUN")
    await bot.driver.click(
        "UARJUN", ActionId.REJECT, await target(bot, "uat-signoff", origin=Origin.HOME), **ON_HOME
    )
    [opened] = await bot.slack.wait_for("views.open")

    reason = {"reject_reason": {"reject_reason": {"type": "plain_text_input", "value": "No"}}}
    done = await bot.driver.submit("UARJUN", opened.params["view"], reason)

    assert done.status == 200 and done.text == ""
    redrawn = (await bot.slack.wait_for("views.publish", 2))[1]
    assert approval_milestones(redrawn) == ["stage-signoff"]
    notice = banner(redrawn)
    assert notice is not None and notice.startswith(":x: You rejected *UAT sign-off*")
    assert modals_opened(bot) == ["views.open"]
