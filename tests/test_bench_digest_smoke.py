"""The digest benchmark's functions at a tiny size: its invariants, never its timings."""

from __future__ import annotations

from scripts.bench.bench_digest import (
    CHANNEL_TIMES,
    SHIPPED,
    Limits,
    Variant,
    build_messages,
    digest_world,
    fan_out,
    measure_digest_run,
    parse_args,
)

EMBEDDED = "mongomock://"


async def test_a_digest_run_costs_the_same_round_trips_for_more_releases() -> None:
    runs = []
    for releases in (6, 30):
        async with digest_world(EMBEDDED, releases) as world:
            runs.append(await measure_digest_run(world, 1))

    small, large = runs
    assert small.trips == large.trips == 4
    # Every channel subscription and 18 of the 20 managers (one off, one at 11:00) are due.
    assert len(small.jobs) == len(large.jobs) == len(CHANNEL_TIMES) + 18
    assert max(len(j.digest.entries) for j in large.jobs) == 30
    for message in build_messages(large.jobs):  # slack_sdk validated every block
        assert message["blocks"] and len(message["text"]) <= 3000


async def test_rate_limited_reminders_arrive_once_each_with_the_shipped_client() -> None:
    limits = Limits(rate=20, burst=1, open_rate=None)

    result = await fan_out(EMBEDDED, 10, limits, SHIPPED)

    assert result.due == result.delivered == result.posts == 10
    assert result.lost == 0 and result.duplicates == 0
    assert result.rejected["chat.postMessage"] > 0  # the fake's bucket really refused some
    assert result.recorded == 10  # each reminder DM kept for later updates


async def test_a_client_paced_under_the_limit_is_never_refused_and_loses_nothing() -> None:
    # Requests paced at exactly R may reach the server closer together than they left;
    # a small margin and a bucket of 2 absorb that.
    limits = Limits(rate=20, burst=2, open_rate=None)

    result = await fan_out(EMBEDDED, 10, limits, Variant("paced", pace=(18, 1)))

    assert result.delivered == 10 and result.lost == 0 and result.duplicates == 0
    assert not result.rejected


def test_quick_and_default_options() -> None:
    assert parse_args(["--quick"]).quick
    args = parse_args(["--rate", "50", "--burst", "5", "--open-rate", "20"])
    assert (args.rate, args.burst, args.open_rate, args.quick) == (50, 5, 20, False)
