"""What people read, block by block (pure tests): times on the reader's clock, counts in
words, people and parts of a release by name, rejections with who and why."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from blocks.approvals import already_decided_text
from blocks.digest import digest_message, digest_text
from blocks.history import event_entry, history_message
from blocks.status import release_status_message
from blocks.text import EveryReader, plural, span, when, zone_label
from core.models.rbac import User
from core.models.release import (
    ApprovalStatus,
    AttachmentRef,
    Environment,
    GateStatus,
    Milestone,
    MilestoneApproval,
    MilestoneStatus,
    QualityGate,
    Release,
    ReleaseProduct,
    Runbook,
)
from core.models.timeline import EventActor, TargetPath, TimelineEvent
from core.rules.approvals import AlreadyDecided
from core.rules.digest import Digest, DigestEntry
from core.rules.readiness import summarize

T0 = datetime(2030, 3, 1, 14, 30, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
OBJECT_ID = re.compile(r"\b[0-9a-f]{24}\b")

ARJUN = User(username="arjun", full_name="Arjun Mehta", email="arjun@example.com", created_at=T0)
RHEA = User(username="rhea", full_name="Rhea Kapoor", email="rhea@example.com", created_at=T0)
PEOPLE = {ARJUN.id: ARJUN, RHEA.id: RHEA}


def _milestone(key: str, name: str, **extra: object) -> Milestone:
    return Milestone.model_validate(
        {
            "milestone_key": key,
            "milestone_name": name,
            "environment": Environment.STAGE,
            "start_date": T0,
            "end_date": T0 + timedelta(hours=3),
            **extra,
        }
    )


def _release(*gates: QualityGate) -> Release:
    return Release(
        release_id="REL-2030.03",
        release_name="March",
        release_date=date(2030, 3, 20),
        products=[
            ReleaseProduct(
                application_id="ledger",
                product_id="payments-ledger",
                product_name="Ledger Service",
                quality_gates=list(gates),
            )
        ],
        runbooks=[Runbook(runbook_name="Cutover", created_by=RHEA.id, created_at=T0)],
        attachment_refs=[
            AttachmentRef(
                attachment_id="6a0e3f4b5c6d7e8f90a1b2c3",
                label="UAT evidence",
                added_by=RHEA.id,
                added_at=T0,
            )
        ],
        created_by=RHEA.id,
        created_at=T0,
    )


def _rejected() -> Milestone:
    return _milestone(
        "uat-signoff",
        "UAT sign-off",
        approval=MilestoneApproval(
            required=True,
            status=ApprovalStatus.REJECTED,
            approver_user_id=ARJUN.id,
            approver_username="arjun",
            approved_at=T0,
            comment="Evidence for the\nrefunds is missing",
        ),
    )


def _texts(rendered: dict[str, object]) -> str:
    found: list[str] = [str(rendered["text"])]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text"):
                found.append(str(node["text"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(rendered["blocks"])
    return "\n".join(found)


# --- the helpers ----------------------------------------------------------------------------


def test_plural_says_one_gate_and_two_gates() -> None:
    assert plural(1, "gate") == "1 gate"
    assert plural(2, "gate") == "2 gates"
    assert plural(0, "approval") == "0 approvals"
    assert plural(3, "person", "people") == "3 people"


def test_a_zone_reads_as_a_place() -> None:
    assert zone_label(NEW_YORK) == "New York time"
    assert zone_label(ZoneInfo("America/Argentina/Buenos_Aires")) == "Buenos Aires time"
    assert zone_label(ZoneInfo("UTC")) == "UTC"
    assert zone_label(ZoneInfo("Etc/GMT+5")) == "GMT+5"


def test_one_readers_time_is_in_their_zone_and_says_which() -> None:
    assert when(T0, NEW_YORK) == "Fri 01 Mar 09:30 (New York time)"
    assert when(T0, KOLKATA) == "Fri 01 Mar 20:00 (Kolkata time)"
    assert when(T0, NEW_YORK, zone=False) == "Fri 01 Mar 09:30"
    assert span(T0, T0 + timedelta(hours=3), NEW_YORK) == "Fri 01 Mar 09:30 → 12:30 (New York time)"
    assert span(T0, T0 + timedelta(hours=6), KOLKATA) == (
        "Fri 01 Mar 20:00 → Sat 02 Mar 02:00 (Kolkata time)"
    )


def test_a_channels_times_are_slack_dates_each_reader_sees_in_their_own_zone() -> None:
    assert when(T0, EveryReader(KOLKATA)) == (
        f"<!date^{int(T0.timestamp())}^{{date_short_pretty}} at {{time}}"
        "|Fri 01 Mar 20:00 (Kolkata time)>"
    )


# --- status and digest ----------------------------------------------------------------------


def test_status_keeps_a_rejection_with_who_when_and_why() -> None:
    release = _release(QualityGate(gate_name="UAT", milestones=[_rejected()]))

    text = _texts(release_status_message(release, summarize(release), PEOPLE, NEW_YORK).to_dict())

    assert (
        ":x: Ledger Service / UAT / UAT sign-off — *rejected* by Arjun Mehta · "
        f"{when(T0, EveryReader(NEW_YORK))} · “Evidence for the refunds is missing”"
    ) in text
    assert "*Not ready* — 0 of 1 gate passed" in text


def test_status_names_a_blocked_milestone_and_counts_one_blocker() -> None:
    gate = QualityGate(
        gate_name="Regression",
        gate_status=GateStatus.IN_PROGRESS,
        milestones=[_milestone("hotfix-stage", "Hotfix on stage", status=MilestoneStatus.BLOCKED)],
    )
    release = _release(gate)

    text = _texts(release_status_message(release, summarize(release), {}, NEW_YORK).to_dict())

    assert "*Blocked* — 1 blocker" in text
    assert ":no_entry: Ledger Service / Regression / Hotfix on stage is *BLOCKED*" in text


def test_the_digest_tells_two_blockers_of_one_gate_apart() -> None:
    gate = QualityGate(
        gate_name="Regression",
        gate_status=GateStatus.FAILED,
        comment="3 tests fail",
        milestones=[_milestone("hotfix-stage", "Hotfix on stage", status=MilestoneStatus.BLOCKED)],
    )
    release = _release(gate)
    entry = DigestEntry(release, summarize(release))
    digest = Digest(date(2030, 3, 1), date(2030, 2, 26), date(2030, 3, 15), [entry])

    message = digest_message(digest, KOLKATA).to_dict()
    text = _texts(message)

    assert (
        "blockers: Regression (FAILED), Regression / Hotfix on stage (BLOCKED)" in message["text"]
    )
    assert "(1 release from 2030-02-26 to 2030-03-15)" in message["text"]
    assert ":no_entry: Ledger Service / Regression is *FAILED* — 3 tests fail" in text
    assert ":no_entry: Ledger Service / Regression / Hotfix on stage is *BLOCKED*" in text
    assert f":calendar: {when(T0, EveryReader(KOLKATA))} Hotfix on stage" in text


def test_the_digest_text_counts_one_approval_and_a_rejection() -> None:
    pending = _milestone(
        "stage-signoff",
        "Stage sign-off",
        approval=MilestoneApproval(required=True, status=ApprovalStatus.PENDING),
    )
    release = _release(QualityGate(gate_name="UAT", milestones=[_rejected(), pending]))
    entry = DigestEntry(release, summarize(release))

    text = digest_text(Digest(date(2030, 3, 1), date(2030, 2, 26), date(2030, 3, 15), [entry]))

    assert "1 approval rejected; 1 approval pending" in text


# --- approvals and history ------------------------------------------------------------------


def test_a_late_click_reads_who_decided_on_the_readers_clock() -> None:
    milestone = _rejected()
    milestone.approval.status = ApprovalStatus.APPROVED

    text = already_decided_text(AlreadyDecided(milestone), KOLKATA)

    assert text == (
        ":information_source: *UAT sign-off* was already approved by arjun at "
        "Fri 01 Mar 20:00 (Kolkata time). Nothing changed."
    )


def _event(action: str, target: TargetPath, **change: object) -> TimelineEvent:
    return TimelineEvent.model_validate(
        {
            "release_oid": "0" * 24,
            "release_id": "REL-2030.03",
            "actor": EventActor(user_id=RHEA.id, username="rhea"),
            "action": action,
            "target": target,
            "at": T0,
            **change,
        }
    )


def test_history_shows_people_and_parts_by_name_never_ids() -> None:
    release = _release(QualityGate(gate_name="UAT", milestones=[_rejected()]))
    runbook = release.runbooks[0]
    events = [
        _event(
            "approval.rejected",
            TargetPath(product_id="payments-ledger", gate_name="UAT", milestone_key="uat-signoff"),
            before={"status": "PENDING"},
            after={"status": "REJECTED", "approver_user_id": ARJUN.id},
        ),
        _event(
            "gate.updated",
            TargetPath(product_id="payments-ledger", gate_name="UAT"),
            before={"owner_id": RHEA.id, "required": True},
            after={"owner_id": "6a0e3f4b5c6d7e8f90a1b2ff", "required": False},
        ),
        _event("runbook.added", TargetPath(runbook_id=runbook.runbook_id), after={"tasks": 1}),
        _event(
            "attachment.linked",
            TargetPath(attachment_id="6a0e3f4b5c6d7e8f90a1b2c3"),
            after={"file_name": "uat.pdf", "label": "UAT evidence"},
        ),
        _event(
            "change.created",
            TargetPath(),
            after={"change_id": "CHG1", "ctasks": [{"ctask_id": "CTASK1"}, {"ctask_id": "CTASK2"}]},
        ),
    ]
    assert events[0].user_ids() == {RHEA.id, ARJUN.id}

    rendered = history_message(release, events, NEW_YORK, people=PEOPLE).to_dict()
    text = _texts(rendered)

    assert "times are New York time · 5 events shown" in text
    assert (
        "*Fri 01 Mar 09:30* · *Rhea Kapoor* rejected · Ledger Service / UAT / UAT sign-off\n"
        "status: `PENDING` → `REJECTED`\napprover: Arjun Mehta"
    ) in text
    assert "owner: Rhea Kapoor → someone no longer known" in text
    assert "required: yes → no" in text
    assert "*Rhea Kapoor* added a runbook · Cutover" in text
    assert "*Rhea Kapoor* attached a file · UAT evidence" in text
    assert "CTASKs: `CTASK1, CTASK2`" in text
    assert not OBJECT_ID.search(text), text


def test_history_without_names_falls_back_to_what_the_event_recorded() -> None:
    release = _release()
    event = _event(
        "milestone.updated",
        TargetPath(product_id="gone-product", gate_name="Old", milestone_key="old-key"),
        before={"start_date": T0.isoformat()},
        after={"start_date": (T0 + timedelta(days=1)).isoformat()},
    )

    entry = event_entry(event, KOLKATA, release)

    assert entry.startswith("*Fri 01 Mar 20:00* · *rhea* updated a milestone · gone-product / Old")
    assert "start: Fri 01 Mar 20:00 → Sat 02 Mar 20:00" in entry
