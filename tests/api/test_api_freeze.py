"""Freeze windows through the API: a prod approval and a gate passing are refused naming the
freeze (409, nothing stored); an approval manager's break-glass reason goes ahead, recorded;
CI cannot pass a gate of a prod milestone during a freeze."""

from __future__ import annotations

from datetime import timedelta

from core.models.freeze import FreezeDraft
from tests.api.conftest import ApiClient
from tests.api.test_api_editing import document
from tests.api.test_api_policies import MILESTONE, NEW_MILESTONE, REL

GATE_PATH = MILESTONE.rsplit("/milestones/", 1)[0]


async def _frozen(api: ApiClient) -> None:
    """A prod milestone needing one approval manager, added by rhea; then a freeze of
    everything, planned by rhea, on now."""
    rhea = await api.login("rhea")
    made = await api.call("POST", f"{GATE_PATH}/milestones", token=rhea, json=NEW_MILESTONE)
    assert made.status == 201, made.body
    services = api.bot.runtime.deps.services
    actor = await services.identity.actor_by_id(
        (await api.bot.runtime.repos.users.get_by_username("rhea")).id
    )
    now = api.bot.runtime.deps.clock()
    await services.freezes.create(
        actor,
        FreezeDraft(
            name="Holiday freeze",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=2),
            time_zone="Europe/Berlin",
        ),
    )


async def test_an_approval_during_a_freeze_is_refused_then_goes_ahead_with_break_glass(
    api: ApiClient,
) -> None:
    await _frozen(api)
    arjun = await api.login("arjun")
    before = await document(api, REL)

    refused = await api.call("POST", f"{MILESTONE}/approval/approve", token=arjun, json={})
    assert refused.status == 409, refused.body
    assert "Holiday freeze" in refused.body["error"]["message"]
    assert await document(api, REL) == before

    done = await api.call(
        "POST",
        f"{MILESTONE}/approval/approve",
        token=arjun,
        json={"break_glass": "Payment outage fix, CTO approved"},
    )
    assert done.status == 200, done.body
    stored = await document(api, REL)
    assert [(b["by"], b["reason"]) for b in stored["break_glass"]] == [
        ("arjun", "Payment outage fix, CTO approved")
    ]


async def test_a_ci_result_cannot_pass_a_gate_of_a_prod_milestone_during_a_freeze(
    api: ApiClient,
) -> None:
    await _frozen(api)
    rhea = await api.login("rhea")
    failed = await api.call("POST", f"{GATE_PATH}/results", token=rhea, json={"status": "FAILED"})
    assert failed.status == 200, failed.body  # failing is never held
    before = await document(api, REL)

    refused = await api.call("POST", f"{GATE_PATH}/results", token=rhea, json={"status": "PASSED"})

    assert refused.status == 409, refused.body
    assert "Holiday freeze" in refused.body["error"]["message"]
    assert await document(api, REL) == before
