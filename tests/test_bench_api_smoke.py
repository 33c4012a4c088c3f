"""The API benchmark's machinery with a few requests: both kinds are measured on both apps
and the bot's answers are right (a summary of the release; each gate report applied, not
replayed), the table is printed, and the exit code says whether the ratio targets were met;
never its timings."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from scripts.bench.bench_api import KINDS, Cell, Report, main
from scripts.bench.bot_vs_bare import Side


def test_a_quick_run_prints_the_table_and_fails_an_impossible_target(
    capsys: pytest.CaptureFixture[str],
) -> None:
    impossible = ["--max-ratio", "0.0001", "--max-ratio-write", "0.0002"]
    code = main(["--quick", "--requests", "8", "--warmup", "2", *impossible])

    out = capsys.readouterr().out
    assert code == 1
    table = out[out.index("Time to the whole answer") : out.index("Targets missed")]
    for kind in KINDS:
        assert f"\n{kind} " in table, kind
    # The bare app answers the bot's own summary: the same bytes.
    summary_row = next(line for line in table.splitlines() if line.startswith("summary "))
    sizes = re.search(r"\| (\d+)/(\d+) +\|", summary_row)
    assert sizes is not None and sizes[1] == sizes[2] and int(sizes[1]) > 500, summary_row
    misses = out[out.index("Targets missed") :].splitlines()[1:]
    # One per kind: the ratio, nothing else (every answer 200, none of the bot's wrong).
    assert len(misses) == len(KINDS), misses
    for kind, miss in zip(KINDS, misses, strict=True):
        assert miss.startswith(f"  - {kind} at concurrency 16: p99 "), miss
        target = "0.0002" if KINDS[kind].writes else "0.0001"
        assert f"(target ≤ {target}x)" in miss, miss


def _cell(kind: str, bare_p99: float, bot_p99: float) -> Cell:
    ok = Counter({"200": 10})
    return Cell(kind, 16, bare=Side([bare_p99] * 10, ok), bot=Side([bot_p99] * 10, ok.copy()))


def test_each_kind_is_judged_against_its_own_target() -> None:
    report = Report([_cell("summary", 10.0, 50.0), _cell("gate_result", 10.0, 500.0)], 6, (0, 0, 0))
    report.max_ratio_write = 60

    assert report.misses() == []
    report.max_ratio_write = 40
    assert report.misses() == [
        "gate_result at concurrency 16: p99 500.0 ms, 50.00x the bare aiohttp app's 10.0 ms "
        "(target ≤ 40x)"
    ]


def test_a_failed_request_and_a_wrong_answer_are_each_named() -> None:
    cell = _cell("gate_result", 10.0, 20.0)
    cell.bot.statuses = Counter({"200": 9, "409": 1})
    cell.bare.statuses = Counter({"200": 9, "500": 1})
    cell.wrong, cell.wrong_n = ["gate_result-c16-r0-3: answered as a replay"], 2

    assert cell.misses(60) == [
        "gate_result at concurrency 16: the bot answered {'409': 1} (not 200)",
        "gate_result at concurrency 16: the bare aiohttp app answered {'500': 1} (not 200)",
        "gate_result at concurrency 16: 2 of the bot's answers wrong "
        "(first: gate_result-c16-r0-3: answered as a replay)",
    ]
