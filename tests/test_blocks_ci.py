"""A gate's CI run where people read the gate: `status` and the history (pure tests)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from blocks.history import history_message
from blocks.status import release_status_message
from core.models.release import CiResult, CiStatus, GateStatus, QualityGate, Release
from core.models.timeline import EventActor, TargetPath, TimelineEvent
from core.rules.readiness import summarize
from tests.test_blocks_status import TZ, all_text, assert_within_limits, huge_release

T0 = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
RUN = "https://ci.example.com/runs/7?a=1&b=2"


def with_run(release: Release, result: CiResult) -> Release:
    for product in release.products:
        for gate in product.quality_gates:
            gate.ci_result = result
    return release


def run(**fields: object) -> CiResult:
    return CiResult.model_validate(
        {"status": CiStatus.PASSED, "reported_at": T0, "reported_by": "ci", **fields}
    )


def status_text(release: Release) -> str:
    rendered = assert_within_limits(release_status_message(release, summarize(release), {}, TZ))
    return "\n".join(all_text(rendered))


def test_a_gate_line_links_its_last_run_and_shows_its_commit() -> None:
    release = with_run(huge_release(1, 1, 0), run(url=RUN, commit="3f2a9c1e77d0b5aa"))
    assert "· <https://ci.example.com/runs/7?a=1&amp;b=2|CI run> `3f2a9c1e77d0`" in status_text(
        release
    )


def test_a_run_without_a_link_shows_its_commit_and_one_without_either_nothing() -> None:
    assert "· CI `abc1234`" in status_text(with_run(huge_release(1, 1, 0), run(commit="abc1234")))
    assert "CI" not in status_text(with_run(huge_release(1, 1, 0), run()))


def test_many_gates_with_the_longest_links_stay_within_limits() -> None:
    longest = "https://ci.example.com/" + "&" * 1970
    release = with_run(huge_release(60, 8, 1), run(url=longest, commit="c" * 100))
    text = status_text(release)
    assert "<https://ci.example.com/&amp;" not in text  # too long to link: the label only
    assert "CI run" in text


def _reported(after: dict[str, object]) -> TimelineEvent:
    release = huge_release(1, 1, 0)
    gate: QualityGate = release.products[0].quality_gates[0]
    return TimelineEvent(
        release_oid=release.id,
        release_id=release.release_id,
        actor=EventActor(user_id="u1", username="ci-bot"),
        action="gate.reported",
        target=TargetPath(product_id=release.products[0].product_id, gate_name=gate.gate_name),
        before={"gate_status": GateStatus.IN_PROGRESS.value},
        after=after,
        comment="all <green>",
        at=T0,
    )


def test_the_history_links_the_run_and_escapes_whatever_was_stored() -> None:
    release = huge_release(1, 1, 0)
    release.release_date = date(2030, 3, 1)
    good = _reported({"gate_status": "PASSED", "ci_url": RUN, "ci_commit": "abc1234"})
    odd = _reported({"gate_status": "PASSED", "ci_url": "javascript:alert(1)|<@U1>"})

    text = "\n".join(all_text(history_message(release, [good, odd], TZ).to_dict()))

    assert "*ci-bot* reported a CI result" in text
    assert f"CI run: <{RUN.replace('&', '&amp;')}|{RUN.replace('&', '&amp;')}>" in text
    assert "commit: `abc1234`" in text
    assert "status: `IN_PROGRESS` → `PASSED`" in text
    assert "> all &lt;green&gt;" in text
    assert "CI run: javascript:alert(1)|&lt;@U1&gt;" in text
    assert "<javascript" not in text
