"""`list`, `history` and the status message's buttons, through signed HTTP requests."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from blocks.ids import ActionId
from blocks.text import when
from bot.devtools.fake_slack import Call
from bot.devtools.harness import LocalBot
from core.models.release import Decision, GateStatus, ReleaseDraft
from core.rules.permissions import Actor
from core.services.gates import GateChange
from tests.bot.test_admin import refusal

INJECTION = "<!channel> & <@U123>"
ESCAPED = "&lt;!channel&gt; &amp; &lt;@U123&gt;"


def mrkdwn(params: dict[str, Any]) -> list[str]:
    """Every piece of text Slack would parse as mrkdwn: the fallback text and mrkdwn objects."""
    found: list[str] = [str(params.get("text", ""))]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(str(node["text"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(params.get("blocks") or params.get("view"))
    return found


def shown(call: Call) -> str:
    return "\n".join(mrkdwn(call.params))


def release_ids(call: Call) -> list[str]:
    """Release ids in the order the listing shows them."""
    return re.findall(r"^\*(REL-[^*]+)\* ·", shown(call), flags=re.MULTILINE)


def buttons(call: Call) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for block in call.params.get("blocks") or []:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            found[element["action_id"]] = element
    return found


async def actor(bot: LocalBot, username: str) -> Actor:
    services = bot.runtime.deps.services
    return await services.identity.actor_for(
        await bot.runtime.repos.users.get_by_username(username)
    )


async def add_releases(
    bot: LocalBot,
    count: int,
    *,
    name: str,
    squads: list[str],
    prefix: str = "REL-TRAIN",
    start: date = date(2030, 1, 1),
) -> list[str]:
    admin = await actor(bot, "admin")
    ids = []
    for n in range(count):
        draft = ReleaseDraft(
            release_id=f"{prefix}-{n:02d}",
            release_name=f"{name} {n}",
            release_date=start + timedelta(days=n),
            squad_ids=squads,
        )
        ids.append((await bot.runtime.deps.services.releases.create(admin, draft)).release_id)
    return ids


async def answer(bot: LocalBot, user: str, text: str) -> Call:
    before = len(bot.slack.of("response_url"))
    reply = await bot.driver.command(user, text)
    assert reply.status == 200
    return (await bot.slack.wait_for("response_url", before + 1))[before]


async def click(bot: LocalBot, user: str, action_id: str, value: str) -> Call:
    before = len(bot.slack.of("response_url"))
    reply = await bot.driver.click(user, action_id, value)
    assert reply.status == 200
    return (await bot.slack.wait_for("response_url", before + 1))[before]


# --- list -----------------------------------------------------------------------------------


async def test_list_shows_releases_newest_first_each_with_readiness(bot: LocalBot) -> None:
    listed = await answer(bot, "UARJUN", "list")

    assert listed.params["response_type"] == "ephemeral"
    assert release_ids(listed) == ["REL-2027.01", "REL-2026.12", "REL-2026.11", "REL-2026.11-HF1"]
    text = shown(listed)
    assert "*Ready for approval*" in text and "*Blocked* — 2 blockers" in text
    assert "*Not ready* — 1 of 4 gates passed" in text
    assert ActionId.MORE_RELEASES not in buttons(listed)


async def test_list_searches_ids_and_names(bot: LocalBot) -> None:
    by_name = await answer(bot, "UARJUN", "list hotfix")
    by_id = await answer(bot, "UARJUN", "list 2026.11")
    nothing = await answer(bot, "UARJUN", 'list "no such thing"')

    assert release_ids(by_name) == ["REL-2026.11-HF1"]
    assert release_ids(by_id) == ["REL-2026.11", "REL-2026.11-HF1"]
    assert release_ids(nothing) == []
    assert "No releases matching “no such thing”" in shown(nothing)


async def test_a_squad_member_lists_only_the_releases_of_their_squads(bot: LocalBot) -> None:
    listed = await answer(bot, "UDANA", "list")

    assert release_ids(listed) == ["REL-2026.12", "REL-2026.11-HF1"]


async def test_more_button_posts_the_next_page_keeping_query_and_scope(bot: LocalBot) -> None:
    await add_releases(bot, 12, name="Payments train", squads=["payments"])
    await add_releases(bot, 3, name="Checkout train", squads=["checkout"], prefix="REL-CHK")

    first = await answer(bot, "UDANA", "list train")
    more = buttons(first)[ActionId.MORE_RELEASES]
    second = await click(bot, "UDANA", ActionId.MORE_RELEASES, more["value"])

    expected = [f"REL-TRAIN-{n:02d}" for n in range(11, -1, -1)]
    assert release_ids(first) == expected[:10]
    assert second.params["response_type"] == "ephemeral"
    assert second.params["replace_original"] is False
    assert release_ids(second) == expected[10:]
    assert "page 2" in shown(second)
    assert ActionId.MORE_RELEASES not in buttons(second)


async def test_a_tampered_more_button_is_refused(bot: LocalBot) -> None:
    value = json.dumps({"cursor": "not-a-cursor", "page": 2})

    answered = await click(bot, "UARJUN", ActionId.MORE_RELEASES, value)

    assert answered.params["replace_original"] is False
    assert "list the releases again" in refusal(answered)


async def test_an_unlinked_person_cannot_list(bot: LocalBot) -> None:
    listed = await answer(bot, "UNOBODY", "list")

    assert "not linked" in listed.params["text"]
    assert release_ids(listed) == []


# --- history --------------------------------------------------------------------------------


async def test_history_shows_who_when_what_and_the_change_in_the_viewers_time_zone(
    bot: LocalBot,
) -> None:
    arjun = await actor(bot, "arjun")
    rhea = await actor(bot, "rhea")
    await bot.runtime.deps.services.gates.update_gate(
        rhea, "REL-2026.12", "payments-api", "UAT sign-off", GateChange(owner_id=arjun.user_id)
    )
    release = await bot.runtime.deps.services.approvals.decide(
        arjun, "REL-2026.12", "payments-api", "UAT sign-off", "uat-signoff", Decision.APPROVE,
        "Evidence <b>checked</b>",
    )  # fmt: skip
    [approved, *_, created] = await bot.runtime.repos.timeline.for_release(release.id, limit=10)

    history = await answer(bot, "UDANA", "history REL-2026.12")

    text = shown(history)
    assert history.params["response_type"] == "ephemeral"
    berlin = ZoneInfo("Europe/Berlin")
    assert "Newest first · times are Berlin time · 3 events shown" in text
    # People and parts of the release by name: the milestone's name, not its key.
    where = "Payments API / UAT sign-off / UAT sign-off"
    assert f"*{when(approved.at, berlin, zone=False)}* · *Arjun Mehta* approved · {where}" in text
    assert "status: `PENDING` → `APPROVED`" in text
    assert "approver: Arjun Mehta\napprover's roles: `Approval Manager`" in text
    assert "> Evidence &lt;b&gt;checked&lt;/b&gt;" in text
    assert "*Rhea Kapoor* updated a gate · Payments API / UAT sign-off" in text
    assert "owner: Rhea Kapoor → Arjun Mehta" in text
    assert f"*{when(created.at, berlin, zone=False)}* · *Alex Admin* created the release" in text
    assert text.index("Arjun Mehta* approved") < text.index("created the release")  # newest first
    assert not re.search(r"\b[0-9a-f]{24}\b", text), "a database id is shown"


async def test_history_of_a_release_outside_ones_squads_is_refused(bot: LocalBot) -> None:
    refused = await answer(bot, "UDANA", "history REL-2027.01")
    await bot.runtime.db["releases"].delete_one({"release_id": "REL-2027.01"})
    unknown = await answer(bot, "UDANA", "history REL-2027.01")
    missing = await answer(bot, "UDANA", "history")

    # Another squad's release reads exactly like an unknown id (issue 7), suggestions too.
    assert refused.params["text"] == unknown.params["text"]
    assert "No release 'REL-2027.01'." in refusal(refused)
    assert "Missing a release id" in missing.params["text"]


# --- status buttons -------------------------------------------------------------------------


async def test_refresh_replaces_the_status_message_with_the_current_state(bot: LocalBot) -> None:
    posted = await answer(bot, "URHEA", "status REL-2027.01")
    assert "0 of 3 gates passed" in shown(posted)
    rhea = await actor(bot, "rhea")
    await bot.runtime.deps.services.gates.update_gate(
        rhea, "REL-2027.01", "identity-auth", "Security scan",
        GateChange(gate_status=GateStatus.PASSED),
    )  # fmt: skip

    refresh = buttons(posted)[ActionId.REFRESH_STATUS]
    refreshed = await click(bot, "URHEA", ActionId.REFRESH_STATUS, refresh["value"])

    assert refreshed.params["replace_original"] is True
    assert "1 of 3 gates passed" in shown(refreshed)
    assert ActionId.REFRESH_STATUS in buttons(refreshed)


async def test_history_button_answers_only_the_clicker(bot: LocalBot) -> None:
    posted = await answer(bot, "URHEA", "status REL-2026.11")

    history = buttons(posted)[ActionId.SHOW_HISTORY]
    answered = await click(bot, "UARJUN", ActionId.SHOW_HISTORY, history["value"])

    assert answered.params["response_type"] == "ephemeral"
    assert answered.params["replace_original"] is False
    assert "*History of REL-2026.11*" in shown(answered)


async def test_refresh_by_someone_who_may_not_see_the_release_changes_nothing(
    bot: LocalBot,
) -> None:
    answered = await click(bot, "UDANA", ActionId.REFRESH_STATUS, "REL-2027.01")

    assert answered.params["replace_original"] is False
    assert answered.params["response_type"] == "ephemeral"
    assert "No release 'REL-2027.01'." in refusal(answered)
    assert "squads" not in answered.params["text"]


# --- escaping -------------------------------------------------------------------------------


async def test_a_release_named_like_a_mention_pings_nobody(bot: LocalBot) -> None:
    admin = await actor(bot, "admin")
    draft = ReleaseDraft(
        release_id="REL-PING", release_name=INJECTION, release_date=date(2030, 1, 1),
        squad_ids=["payments"],
    )  # fmt: skip
    await bot.runtime.deps.services.releases.create(admin, draft)

    answers = [
        await answer(bot, "UDANA", "status REL-PING"),
        await answer(bot, "UDANA", "list"),
        await answer(bot, "UDANA", "history REL-PING"),
    ]

    for answered in answers:
        texts = mrkdwn(answered.params)
        assert not any("<!channel>" in t or "<@U123>" in t for t in texts), texts
        assert any(ESCAPED in t for t in texts), texts
