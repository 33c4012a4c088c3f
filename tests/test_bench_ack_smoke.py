"""The ack benchmark's machinery with a few requests: every kind is measured on both apps
and answered right, the table is printed, and the exit code says whether the ratio target
was met; never its timings."""

from __future__ import annotations

from collections import Counter

import pytest

from scripts.bench.bench_ack import KINDS, Cell, main
from scripts.bench.bot_vs_bare import Side


def test_a_quick_run_prints_the_table_and_fails_an_impossible_target(
    capsys: pytest.CaptureFixture[str],
) -> None:
    impossible = ["--max-ratio", "0.0001", "--max-ratio-stored", "0.0002"]
    code = main(["--quick", "--requests", "8", "--warmup", "2", *impossible])

    out = capsys.readouterr().out
    assert code == 1
    table = out[out.index("Time to HTTP 200") : out.index("Targets missed")]
    for kind in KINDS:
        assert f"\n{kind} " in table, kind
    misses = out[out.index("Targets missed") :].splitlines()[1:]
    assert len(misses) == len(KINDS)  # one per kind at concurrency 8: the ratio, nothing else
    for kind, miss in zip(KINDS, misses, strict=True):
        assert miss.startswith(f"  - {kind} at concurrency 8: ack p99 "), miss
        stored = KINDS[kind].request == "submission"  # its own target: it stores first
        assert ("(target ≤ 0.0002x)" if stored else "(target ≤ 0.0001x)") in miss


def _cell(bare_p99: float, bot_p99: float) -> Cell:
    return Cell(
        "approve", 32, bare=Side([bare_p99] * 10, Counter({"200": 10})), bot=Side([bot_p99] * 10)
    )


def test_a_ratio_within_the_threshold_is_met() -> None:
    assert _cell(20.0, 30.0).misses(1.5) == []


def test_a_slow_ack_a_failed_request_and_a_wrong_answer_are_each_named() -> None:
    cell = _cell(20.0, 31.0)
    cell.bot.statuses = Counter({"200": 9, "500": 1})
    cell.wrong = ["approve-c32-r0-3: no answer"]

    assert cell.misses(1.5) == [
        "approve at concurrency 32: ack p99 31.0 ms, 1.55x the bare Bolt app's 20.0 ms "
        "(target ≤ 1.5x)",
        "approve at concurrency 32: the bot answered {'500': 1} (not 200)",
        "approve at concurrency 32: 1 of the bot's answers missing or wrong "
        "(first: approve-c32-r0-3: no answer)",
    ]
