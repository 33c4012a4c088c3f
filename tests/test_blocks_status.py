"""Block builders within Slack's limits, and every piece of user text escaped (pure tests)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from blocks.approval_list import approvals_list_message
from blocks.approvals import approval_decided_message, approval_request_message
from blocks.history import history_message
from blocks.ids import ActionId
from blocks.message import Message
from blocks.releases import ListPage, release_list_message
from blocks.status import release_status_message
from blocks.text import MESSAGE_BLOCKS, SECTION_LIMIT
from core.models.rbac import SlackIdentity, User
from core.models.release import (
    ApprovalStatus,
    Environment,
    GateStatus,
    Milestone,
    MilestoneApproval,
    MilestoneStatus,
    QualityGate,
    Release,
    ReleaseProduct,
)
from core.models.timeline import EventActor, TargetPath, TimelineEvent
from core.rules.readiness import MilestoneRef, summarize
from core.services.approvals import PendingApproval

T0 = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Paris")
INJECTION = "<!channel> & <@U123>"
ESCAPED = "&lt;!channel&gt; &amp; &lt;@U123&gt;"
STATUSES = list(GateStatus)


def huge_release(products: int = 60, gates: int = 8, milestones: int = 6) -> Release:
    """Built with the core models directly: no rule would let anyone make this by hand."""
    owner = User(username="owner", full_name="O" * 150, email="o@example.com", created_at=T0)
    return Release(
        release_id="REL-HUGE",
        release_name="H" * 150,
        release_date=date(2030, 3, 1),
        squad_ids=[f"squad-{n}" for n in range(30)],
        created_by=owner.id,
        created_at=T0,
        products=[
            ReleaseProduct(
                application_id="app",
                product_id=f"product-{p:03d}",
                product_name=f"Product {p} " + "p" * 130,
                quality_gates=[
                    QualityGate(
                        gate_name=f"Gate {g} " + "g" * 130,
                        order=g,
                        gate_status=STATUSES[(p + g) % len(STATUSES)],
                        owner_id=owner.id,
                        comment="c" * 2000,
                        milestones=[_milestone(p, g, m) for m in range(milestones)],
                    )
                    for g in range(gates)
                ],
            )
            for p in range(products)
        ],
    )


def _milestone(p: int, g: int, m: int) -> Milestone:
    start = T0 + timedelta(days=p + g + m)
    return Milestone(
        milestone_key=f"m-{p}-{g}-{m}",
        milestone_name="M" * 150,
        environment=Environment.PROD,
        start_date=start,
        end_date=start + timedelta(hours=4),
        status=MilestoneStatus.BLOCKED if m == 0 else MilestoneStatus.NOT_STARTED,
        approval=MilestoneApproval(
            required=True,
            requires_approval_manager=True,
            status=ApprovalStatus.PENDING,
            requested_at=T0,
        ),
    )


def sections(rendered: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in rendered["blocks"] if b["type"] == "section"]


def all_text(rendered: dict[str, Any]) -> list[str]:
    """Every text Slack would parse as mrkdwn, plus the fallback text."""
    found = [rendered["text"]]
    for block in rendered["blocks"]:
        if block["type"] == "section":
            found.append(block["text"]["text"])
        if block["type"] == "context":
            found += [e["text"] for e in block["elements"]]
    return found


def assert_within_limits(message: Message) -> dict[str, Any]:
    rendered = message.to_dict()  # slack_sdk validates every element's own limits here
    assert len(rendered["blocks"]) <= MESSAGE_BLOCKS
    assert all(len(text) <= SECTION_LIMIT for text in sections(rendered))
    return rendered


# --- status ---------------------------------------------------------------------------------


def test_a_huge_release_renders_within_50_blocks_and_says_what_was_left_out() -> None:
    release = huge_release()
    owner_id = release.products[0].quality_gates[0].owner_id
    assert owner_id is not None
    people = {
        owner_id: User(
            id=owner_id, username="owner", full_name="Owner", email="o@example.com",
            slack=SlackIdentity(team_id="T1", user_id="UOWNER"), created_at=T0,
        )
    }  # fmt: skip

    rendered = assert_within_limits(release_status_message(release, summarize(release), people, TZ))

    texts = all_text(rendered)
    assert any("… and 30 more products" in t for t in texts)
    assert any(re.search(r"_… and \d+ blockers_$", t) for t in texts)
    assert any(re.search(r"_… and \d+ approvals_$", t) for t in texts)
    assert rendered["blocks"][-1]["type"] == "actions"  # Refresh / History survive the cut
    ids = [e["action_id"] for e in rendered["blocks"][-1]["elements"]]
    assert ids == [ActionId.REFRESH_STATUS, ActionId.SHOW_HISTORY]


@pytest.mark.parametrize(("products", "gates"), [(1, 200), (50, 1), (200, 30)])
def test_any_shape_of_release_stays_within_limits(products: int, gates: int) -> None:
    release = huge_release(products, gates, milestones=1)

    assert_within_limits(release_status_message(release, summarize(release), {}, TZ))


def test_the_status_escapes_every_piece_of_user_text() -> None:
    release = huge_release(1, 1, 1)
    release.release_name = INJECTION
    release.squad_ids = ["payments"]
    product = release.products[0]
    product.product_name = INJECTION
    gate = product.quality_gates[0]
    gate.gate_name = INJECTION
    gate.gate_status = GateStatus.FAILED
    gate.comment = INJECTION
    gate.milestones[0].milestone_name = INJECTION

    rendered = release_status_message(release, summarize(release), {}, TZ).to_dict()

    texts = all_text(rendered)
    assert not any("<!channel>" in t or "<@U123>" in t for t in texts), texts
    assert sum(ESCAPED in t for t in texts) >= 4


# --- list, history, approvals ---------------------------------------------------------------


def test_a_page_of_releases_with_long_names_stays_within_limits() -> None:
    releases = [huge_release(1, 1, 1) for _ in range(100)]
    for release in releases:
        release.release_name = INJECTION

    message = release_list_message(
        [(r, summarize(r)) for r in releases], query="q" * 100, next_cursor="c" * 60
    )

    rendered = assert_within_limits(message)
    more = rendered["blocks"][-1]["elements"][0]
    assert more["action_id"] == ActionId.MORE_RELEASES
    assert ListPage.decode(more["value"]).page == 2
    assert not any("<!channel>" in t for t in all_text(rendered))


def _event(n: int) -> TimelineEvent:
    return TimelineEvent(
        release_oid="0" * 24,
        release_id="REL-HUGE",
        actor=EventActor(user_id="u", username="arjun"),
        action="milestone.updated",
        target=TargetPath(product_id="p", gate_name=INJECTION, milestone_key=f"m{n}"),
        before={f"field{i}": "v" * 500 for i in range(10)},
        after={f"field{i}": INJECTION for i in range(10)},
        comment=INJECTION * 200,
        at=T0 + timedelta(minutes=n),
    )


def test_a_long_history_is_cut_with_and_n_more() -> None:
    release = huge_release(1, 1, 1)

    rendered = assert_within_limits(history_message(release, [_event(n) for n in range(200)], TZ))

    texts = all_text(rendered)
    assert any("more events" in t for t in texts)
    assert not any("<!channel>" in t or "<@U123>" in t for t in texts)
    assert any("*Fri 01 Mar 10:00* · *arjun* updated a milestone" in t for t in texts)


def test_many_pending_approvals_fit_in_one_message() -> None:
    release = huge_release(1, 1, 1)
    pending = [
        PendingApproval(release.id, f"REL-{n}", INJECTION, ref)
        for n, ref in enumerate(summarize(huge_release(10, 8, 1)).pending_approvals)
    ]

    rendered = assert_within_limits(approvals_list_message(pending, TZ))

    texts = all_text(rendered)
    assert any("more waiting for you" in t for t in texts)
    assert not any("<!channel>" in t for t in texts)


def test_approval_dms_escape_names_before_and_after_the_decision() -> None:
    release = huge_release(1, 1, 1)
    release.release_name = INJECTION
    milestone = release.products[0].quality_gates[0].milestones[0]
    milestone.milestone_name = INJECTION
    ref = MilestoneRef("product-000", INJECTION, INJECTION, milestone)

    asked = approval_request_message(release, summarize(release), ref, TZ).to_dict()
    milestone.approval.status = ApprovalStatus.REJECTED
    milestone.approval.approver_username = "arjun"
    milestone.approval.approved_at = T0
    milestone.approval.comment = INJECTION
    decided = approval_decided_message(release, ref, TZ).to_dict()

    for rendered in (asked, decided):
        texts = all_text(rendered)
        assert not any("<!channel>" in t or "<@U123>" in t for t in texts), texts
        assert any(ESCAPED in t for t in texts)
    assert not any(b["type"] == "actions" for b in decided["blocks"])
