"""Rule 4: the readiness summary, by example and as properties over random releases."""

from collections.abc import Iterable
from datetime import date, timedelta

from hypothesis import given, settings, strategies as st

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
from core.rules.readiness import Blocker, MilestoneRef, Readiness, ReadinessSummary, summarize
from tests.support import T0

MS = MilestoneStatus
GS = GateStatus


def _milestone(
    key: str,
    start_hour: int = 0,
    status: MilestoneStatus = MS.NOT_STARTED,
    approval: ApprovalStatus = ApprovalStatus.NOT_REQUIRED,
) -> Milestone:
    start = T0 + timedelta(hours=start_hour)
    return Milestone(
        milestone_key=key,
        milestone_name=key.title(),
        environment=Environment.UAT,
        start_date=start,
        end_date=start + timedelta(hours=1),
        status=status,
        approval=MilestoneApproval(
            required=approval is not ApprovalStatus.NOT_REQUIRED, status=approval
        ),
    )


def _gate(
    name: str,
    status: GateStatus = GS.NOT_STARTED,
    *,
    required: bool = True,
    milestones: Iterable[Milestone] = (),
    comment: str | None = None,
    order: int = 0,
) -> QualityGate:
    return QualityGate(
        gate_name=name,
        gate_status=status,
        required=required,
        milestones=list(milestones),
        comment=comment,
        order=order,
    )


def _release(*products: list[QualityGate]) -> Release:
    return Release(
        release_id="REL-2026.12",
        release_name="December",
        release_date=date(2026, 12, 10),
        created_by="rhea",
        created_at=T0,
        products=[
            ReleaseProduct(
                application_id="app", product_id=f"p{n}", product_name=f"P{n}", quality_gates=gates
            )
            for n, gates in enumerate(products)
        ],
    )


def _keys(refs: Iterable[MilestoneRef]) -> list[str]:
    return [r.milestone.milestone_key for r in refs]


def test_counts_every_gate_status_across_products() -> None:
    summary = summarize(
        _release(
            [_gate("Scan", GS.PASSED), _gate("Perf", GS.IN_PROGRESS)],
            [_gate("Scan", GS.PASSED), _gate("Smoke", GS.WAIVED, comment="flaky")],
        )
    )

    assert summary.total_gates == 4
    assert summary.counts[GS.PASSED] == 2
    assert summary.counts[GS.IN_PROGRESS] == 1
    assert summary.counts[GS.WAIVED] == 1
    assert summary.counts[GS.FAILED] == 0


def test_blockers_are_blocked_or_failed_gates_and_blocked_milestones() -> None:
    summary = summarize(
        _release(
            [
                _gate("Scan", GS.FAILED, comment="2 highs"),
                _gate("Perf", GS.PASSED, milestones=[_milestone("load", status=MS.BLOCKED)]),
                _gate("Smoke", GS.BLOCKED),
                _gate("Docs", GS.IN_PROGRESS, milestones=[_milestone("rev", status=MS.DONE)]),
            ]
        )
    )

    assert summary.has_blockers
    assert summary.readiness is Readiness.BLOCKED
    assert set(summary.blockers) == {
        Blocker("p0", "Scan", "FAILED", None, "2 highs", product_name="P0"),
        Blocker("p0", "Perf", "BLOCKED", "load", product_name="P0", milestone_name="Load"),
        Blocker("p0", "Smoke", "BLOCKED", product_name="P0"),
    }


def test_next_milestones_are_the_five_earliest_not_done() -> None:
    summary = summarize(
        _release(
            [
                _gate("Scan", milestones=[_milestone(f"s{h}", h * 10) for h in (6, 2, 4)]),
                _gate(
                    "Perf",
                    milestones=[
                        _milestone("done-first", 0, MS.DONE),
                        _milestone("p1", 10, MS.BLOCKED),
                        _milestone("p3", 30, MS.IN_PROGRESS),
                        _milestone("p5", 50),
                    ],
                ),
            ]
        )
    )

    assert _keys(summary.next_milestones) == ["p1", "s2", "p3", "s4", "p5"]


def test_pending_approvals_are_the_pending_milestones_only() -> None:
    milestones = [
        _milestone(f"m-{status.value.lower()}", n, approval=status)
        for n, status in enumerate(ApprovalStatus)
    ]

    summary = summarize(_release([_gate("Scan", milestones=milestones)]))

    assert _keys(summary.pending_approvals) == ["m-pending"]


def test_rejected_approvals_stay_in_the_summary_without_blocking_it() -> None:
    milestones = [
        _milestone(f"m-{status.value.lower()}", n, approval=status)
        for n, status in enumerate(ApprovalStatus)
    ]

    summary = summarize(_release([_gate("Scan", GS.PASSED, milestones=milestones)]))

    assert _keys(summary.rejected_approvals) == ["m-rejected"]
    assert summary.readiness is Readiness.READY  # shown, not a blocker (rule 4 unchanged)


def test_release_without_gates_is_not_ready() -> None:
    for release in (_release(), _release([])):
        summary = summarize(release)

        assert summary.total_gates == 0
        assert not summary.is_ready_for_approval
        assert summary.readiness is Readiness.NOT_READY


def test_waived_required_gate_counts_as_passed() -> None:
    summary = summarize(_release([_gate("Scan", GS.PASSED), _gate("Perf", GS.WAIVED)]))

    assert summary.all_required_gates_passed
    assert summary.readiness is Readiness.READY


def test_optional_gate_not_yet_passed_does_not_hold_the_release_back() -> None:
    summary = summarize(
        _release([_gate("Scan", GS.PASSED), _gate("Perf", GS.IN_PROGRESS, required=False)])
    )

    assert summary.is_ready_for_approval
    assert summary.readiness is Readiness.READY


def test_required_gate_in_progress_is_not_ready_but_not_blocked() -> None:
    summary = summarize(_release([_gate("Scan", GS.PASSED), _gate("Perf", GS.IN_PROGRESS)]))

    assert not summary.all_required_gates_passed
    assert not summary.has_blockers
    assert summary.readiness is Readiness.NOT_READY


# --- properties over random releases -------------------------------------------------


@st.composite
def releases(draw: st.DrawFn) -> Release:
    products = []
    for _ in range(draw(st.integers(0, 3))):
        gates = []
        for g in range(draw(st.integers(0, 4))):
            milestones = [
                _milestone(
                    f"m{m}",
                    draw(st.integers(0, 48)),
                    draw(st.sampled_from(MilestoneStatus)),
                    draw(st.sampled_from(ApprovalStatus)),
                )
                for m in range(draw(st.integers(0, 3)))
            ]
            gates.append(
                _gate(
                    f"g{g}",
                    draw(st.sampled_from(GateStatus)),
                    required=draw(st.booleans()),
                    milestones=milestones,
                    order=draw(st.integers(0, 3)),
                )
            )
        products.append(gates)
    return _release(*products)


def _all_gates(release: Release) -> list[QualityGate]:
    return [g for p in release.products for g in p.quality_gates]


def _all_milestones(release: Release) -> list[tuple[str, str, Milestone]]:
    return [
        (p.product_id, g.gate_name, m)
        for p in release.products
        for g in p.quality_gates
        for m in g.milestones
    ]


def _where(refs: Iterable[MilestoneRef]) -> set[tuple[str, str, str]]:
    return {(r.product_id, r.gate_name, r.milestone.milestone_key) for r in refs}


PROPERTY = settings(max_examples=150, deadline=None)


@PROPERTY
@given(releases())
def test_counts_add_up_to_the_number_of_gates(release: Release) -> None:
    summary = summarize(release)
    gates = _all_gates(release)

    assert sum(summary.counts.values()) == summary.total_gates == len(gates)
    for status in GateStatus:
        assert summary.counts[status] == sum(g.gate_status is status for g in gates)


def _expected_blockers(release: Release) -> bool:
    return any(g.gate_status in (GS.BLOCKED, GS.FAILED) for g in _all_gates(release)) or any(
        m.status is MS.BLOCKED for _, _, m in _all_milestones(release)
    )


@PROPERTY
@given(releases())
def test_ready_exactly_when_gated_required_gates_satisfied_and_nothing_blocks(
    release: Release,
) -> None:
    summary = summarize(release)
    gates = _all_gates(release)
    expected = (
        len(gates) > 0
        and all(g.gate_status in (GS.PASSED, GS.WAIVED) for g in gates if g.required)
        and not _expected_blockers(release)
    )

    assert summary.is_ready_for_approval is expected
    assert (summary.readiness is Readiness.READY) is expected


@PROPERTY
@given(releases())
def test_blocked_exactly_when_a_gate_or_milestone_blocks(release: Release) -> None:
    summary: ReadinessSummary = summarize(release)

    assert summary.has_blockers is _expected_blockers(release)
    assert (summary.readiness is Readiness.BLOCKED) is summary.has_blockers


@PROPERTY
@given(releases())
def test_next_milestones_are_the_earliest_open_ones_in_order(release: Release) -> None:
    summary = summarize(release)
    shown = [r.milestone for r in summary.next_milestones]
    open_ones = [m for _, _, m in _all_milestones(release) if m.status is not MS.DONE]

    assert all(m.status is not MS.DONE for m in shown)
    assert [m.start_date for m in shown] == sorted(m.start_date for m in shown)
    assert len(shown) == min(5, len(open_ones))
    assert sorted(m.start_date for m in shown) == sorted(m.start_date for m in open_ones)[:5]


@PROPERTY
@given(releases())
def test_pending_approvals_are_exactly_the_pending_ones(release: Release) -> None:
    summary = summarize(release)
    pending = {
        (product, gate, m.milestone_key)
        for product, gate, m in _all_milestones(release)
        if m.approval.status is ApprovalStatus.PENDING
    }

    assert _where(summary.pending_approvals) == pending
    assert len(summary.pending_approvals) == len(pending)
