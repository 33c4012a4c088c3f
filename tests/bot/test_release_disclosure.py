"""Through signed requests: a release of another squad answers exactly like an unknown id, so
dana (Squad Member of payments) cannot learn which releases other squads have."""

from __future__ import annotations

import json
import re
from typing import Any

from blocks.ids import ActionId
from bot.devtools.harness import LocalBot
from core.models.rbac import RoleDraft
from tests.bot.test_reading import actor, answer, click

HIDDEN = "REL-2027.01"  # the identity release: platform squad only, in the demo data
UNKNOWN = "REL-NOPE-1"


def seen(params: dict[str, Any], typed: str) -> str:
    """Everything Slack is asked to show, with the id the person typed blanked out (``key``
    is the fake's record of which response_url was used, not something shown), and without
    the "did you mean": it depends on what was typed too. That an invisible release never
    changes the suggestions is tested with the same id typed, in tests/bot/test_refusals.py."""
    shown = {k: v for k, v in params.items() if k != "key"}
    text = json.dumps(shown, sort_keys=True).replace(typed, "<typed id>")
    return re.sub(r" Did you mean [^?]*\?", "", text)


async def test_the_demo_has_a_release_dana_cannot_see(bot: LocalBot) -> None:
    dana = await actor(bot, "dana")
    release = await bot.runtime.repos.releases.get(HIDDEN)

    assert dana.user.assigned_squad_ids == ["payments"]
    assert not dana.can_view(release)


async def test_status_of_another_squads_release_reads_exactly_like_an_unknown_id(
    bot: LocalBot,
) -> None:
    hidden = await answer(bot, "UDANA", f"status {HIDDEN}")
    unknown = await answer(bot, "UDANA", f"status {UNKNOWN}")

    assert seen(hidden.params, HIDDEN) == seen(unknown.params, UNKNOWN)
    assert hidden.params["response_type"] == "ephemeral"
    assert f"No release '{HIDDEN}'" in hidden.params["text"]
    assert "squad" not in seen(hidden.params, HIDDEN).lower()


async def test_history_of_another_squads_release_reads_exactly_like_an_unknown_id(
    bot: LocalBot,
) -> None:
    hidden = await answer(bot, "UDANA", f"history {HIDDEN}")
    unknown = await answer(bot, "UDANA", f"history {UNKNOWN}")

    assert seen(hidden.params, HIDDEN) == seen(unknown.params, UNKNOWN)
    assert "RESOURCE_NOT_FOUND" not in hidden.params["text"]
    assert "`/release list` shows the releases you can see" in hidden.params["text"]


async def test_the_status_buttons_read_exactly_like_an_unknown_id(bot: LocalBot) -> None:
    for action in (ActionId.REFRESH_STATUS, ActionId.SHOW_HISTORY):
        hidden = await click(bot, "UDANA", action, HIDDEN)
        unknown = await click(bot, "UDANA", action, UNKNOWN)

        assert seen(hidden.params, HIDDEN) == seen(unknown.params, UNKNOWN)
        assert "RESOURCE_NOT_FOUND" not in hidden.params["text"]
        assert "`/release list` shows the releases you can see" in hidden.params["text"]


async def test_a_form_for_another_squads_release_reads_exactly_like_an_unknown_id(
    bot: LocalBot,
) -> None:
    """Even for someone allowed to change gates (in their own squads' releases)."""
    admin = await actor(bot, "admin")
    services = bot.runtime.deps.services
    draft = RoleDraft(role_name="Squad gatekeeper", can_manage_quality_gates=True)
    await services.roles.create(admin, draft)
    await services.users.grant_role(admin, "dana", "Squad gatekeeper")
    before = await bot.runtime.db["releases"].find({}).sort("_id", 1).to_list(length=None)

    hidden = await answer(bot, "UDANA", f"gate {HIDDEN}")
    unknown = await answer(bot, "UDANA", f"gate {UNKNOWN}")

    # Refused where it was typed, before any form opens (issue 8), and alike.
    assert seen(hidden.params, HIDDEN) == seen(unknown.params, UNKNOWN)
    assert hidden.params["response_type"] == "ephemeral"
    assert f"No release '{HIDDEN}'" in hidden.params["text"]
    assert bot.slack.of("views.open") == []
    assert await bot.runtime.db["releases"].find({}).sort("_id", 1).to_list(None) == before
