"""Release cards: the head and readiness summary stored with every write of a release, what
lists, App Home and digests read instead of whole releases; a digest details the first
``DETAILED`` releases and counts the others."""

from __future__ import annotations

import os
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import mongomock
import pytest

from blocks.digest import digest_message
from core.models.rbac import Permission
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
from core.rules.digest import DETAILED, DigestWindow, compose_digest
from core.rules.readiness import ReadinessSummary, ReleaseCard, card_of, summarize
from storage.codec import DERIVED, SUMMARY
from tests.support import T0, World

DAY = date(2026, 12, 1)


@pytest.fixture
def world(any_world: World) -> World:
    return any_world


def milestone(key: str, days: int, status: ApprovalStatus, **approval: object) -> Milestone:
    return Milestone(
        milestone_key=key,
        milestone_name=key.title(),
        environment=Environment.UAT,
        start_date=T0 + timedelta(days=days),
        end_date=T0 + timedelta(days=days + 1),
        status=MilestoneStatus.IN_PROGRESS,
        approval=MilestoneApproval(required=True, status=status, **approval),  # type: ignore[arg-type]
    )


def rich_release(release_id: str, on: date = DAY, squads: list[str] | None = None) -> Release:
    """A blocked gate, a pending, a rejected and an open milestone: every part of a summary."""
    gates = [
        QualityGate(gate_name="Security", gate_status=GateStatus.BLOCKED, comment="CVE open"),
        QualityGate(
            gate_name="Sign-off",
            order=1,
            gate_status=GateStatus.IN_PROGRESS,
            milestones=[
                milestone("go", 3, ApprovalStatus.PENDING, requested_at=T0),
                milestone(
                    "uat",
                    1,
                    ApprovalStatus.REJECTED,
                    approver_user_id="u1",
                    approver_username="arjun",
                    approved_at=T0,
                    comment="Not yet",
                ),
            ],
        ),
    ]
    product = ReleaseProduct(
        application_id="pay", product_id="pay-api", product_name="Pay API", quality_gates=gates
    )
    return Release(
        release_id=release_id,
        release_name=f"Train {release_id}",
        release_date=on,
        squad_ids=squads or ["payments"],
        products=[product],
        created_by="someone",
        created_at=T0,
    )


async def test_a_listed_card_is_the_card_of_the_stored_release(world: World) -> None:
    stored = await world.repos.releases.add(rich_release("REL-1"))

    (listed,) = await world.repos.releases.page(squads=None, query=None, after=None, limit=0)
    (dated,) = await world.repos.releases.dated_between(start=DAY, end=DAY, squads=None)

    assert listed == dated == card_of(stored)
    assert listed.summary == summarize(stored)
    assert len(listed.summary.blockers) == 1 and listed.summary.pending_approvals
    assert listed.summary.rejected_approvals[0].milestone.approval.comment == "Not yet"


@pytest.mark.skipif(bool(os.environ.get("MONGO_TEST_URI")), reason="reads the embedded engine")
async def test_lists_and_digests_read_cards_not_whole_releases(
    storage_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = storage_world
    await world.repos.releases.add(rich_release("REL-1"))
    copied: list[list[str]] = []
    copy: Any = mongomock.collection.Collection._copy_only_fields

    def recording(self: Any, doc: Any, fields: Any, container: Any) -> Any:
        found = copy(self, doc, dict(fields) if fields else fields, container)
        copied.append(sorted(found))
        return found

    monkeypatch.setattr(mongomock.collection.Collection, "_copy_only_fields", recording)
    await world.repos.releases.page(squads=None, query="train", after=None, limit=10)
    await world.repos.releases.dated_between(start=DAY, end=DAY, squads=None)

    card = ["_id", DERIVED, "release_date", "release_id", "release_name", "release_type"]
    assert copied == [sorted([*card, "squad_ids", "break_glass", SUMMARY])] * 2


async def test_a_release_stored_without_a_current_summary_is_summarized_when_read(
    storage_world: World,
) -> None:
    """As an older version stored it (or one still running beside this one)."""
    world = storage_world
    stored = await world.repos.releases.add(rich_release("REL-1"))
    await world.repos.releases.add(rich_release("REL-2"))
    await world.mongo["releases"].update_one(
        {"release_id": "REL-1"}, {"$unset": {SUMMARY: "", DERIVED: ""}}
    )

    listed = await world.repos.releases.page(squads=None, query=None, after=None, limit=0)

    assert [card.release_id for card in listed] == ["REL-2", "REL-1"]
    assert listed[1] == card_of(stored)


async def test_a_digest_details_its_first_releases_and_counts_the_others(
    fake_world: World,
) -> None:
    decoded: list[str] = []

    def card(n: int) -> ReleaseCard:
        release = rich_release(f"REL-{n:03d}", DAY + timedelta(days=n % 7))
        summary = summarize(release)

        def decode() -> ReadinessSummary:
            decoded.append(release.release_id)
            return summary

        head = card_of(release)
        return ReleaseCard(
            id=head.id,
            release_id=head.release_id,
            release_name=head.release_name,
            release_date=head.release_date,
            release_type=head.release_type,
            squad_ids=head.squad_ids,
            summary=decode,
        )

    cards = [card(n) for n in range(DETAILED + 30)]
    manager = await fake_world.actor("rhea", Permission.CAN_VIEW_ALL)

    digest = compose_digest(cards, manager, DAY, DigestWindow())
    payload = digest_message(digest, ZoneInfo("UTC")).to_dict()

    assert len(digest.entries) == DETAILED and digest.hidden == 30
    assert sorted(decoded) == sorted(e.release.release_id for e in digest.entries)
    assert [e.release.release_date for e in digest.entries] == sorted(
        e.release.release_date for e in digest.entries
    )
    shown = sum(1 for b in payload["blocks"] if b["type"] == "section" and "REL-" in str(b))
    more = payload["blocks"][-1]["elements"][0]["text"]
    assert f"… and {DETAILED + 30 - shown} more releases" in more
    assert f"({DETAILED + 30} releases from" in payload["text"]
