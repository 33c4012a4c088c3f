"""The scale benchmark's machinery at a tiny size: it measures every operation, never its
timings; and how it judges figures against issue 10's targets."""

from __future__ import annotations

from scripts.bench.bench_scale import Cell, Probe, Report, SizeRun, bench, parse_args


async def test_every_operation_gets_figures_from_a_tiny_history() -> None:
    args = parse_args(
        ["--sizes", "50", "--requests", "3", "--warmup", "1", "--probe-seconds", "1"]
        + ["--profile", "list"]
    )

    report = await bench(args)

    (run,) = report.runs
    assert run.seeded["releases"] == 50 + 4  # the history and the demo's four releases
    assert len(report.names) == 7
    for name in report.names:
        cell = run.cells[name]
        assert cell.missed == [], (name, cell.missed)  # every answer came and passed its check
        assert len(cell.samples_ms) == 3 and min(cell.samples_ms) > 0, name
    assert run.probe is not None and run.probe.bare_ms and run.probe.bot_ms
    assert run.profile is not None and "list_releases" in run.profile["cumulative"]


def _report(small_ms: float, large_ms: float, probe_ratio: float = 1.0) -> Report:
    def run(size: int, ms: float, probe: Probe | None = None) -> SizeRun:
        return SizeRun(size, {}, {"list": Cell([ms] * 5)}, 1.0, probe)

    probe = Probe([10.0] * 10, [10.0 * probe_ratio] * 10, {}, 3, 0.1)
    runs = [run(1_000, small_ms), run(50_000, large_ms, probe)]
    return Report([1_000, 50_000], runs, "median", ["list"])


def test_flat_and_fast_figures_meet_the_targets() -> None:
    assert _report(40.0, 55.0).misses() == []


def test_growth_a_slow_answer_and_a_slow_ack_are_each_named() -> None:
    misses = _report(40.0, 61.0).misses()
    assert misses == ["list: median 1.5x from 1,000 to 50,000 (target ≤ 1.5x)"]

    misses = _report(100.0, 140.0, probe_ratio=2.0).misses()
    assert misses == ["ack probe at 50,000: p99 2.0x the bare Bolt ack (target ≤ 1.5x)"]

    slow = _report(900.0, 14_700.0).misses()
    assert slow[0].startswith("list: median 14,700 ms at 50,000")
    assert "16.3x" in slow[1]
