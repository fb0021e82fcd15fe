"""The bench's day of edits (bench/day.py): its schedule, its ticks and what it counts."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from itertools import pairwise

from bench.day import (
    Edit,
    business_hours,
    edit_schedule,
    publish_delays,
    runs_by_partition,
    tick_moments,
)
from ddrc_platform.core.names import PACIFIC

DAY = date(2025, 6, 2)
MINUTE = timedelta(minutes=1)


def test_the_day_holds_the_issues_edits_in_time_order():
    edits = edit_schedule(DAY)
    assert Counter(e.source for e in edits) == {
        "epa": 54,  # every 10 minutes, 8:00-17:00
        "pasadena": 9,  # hourly in business hours
        "usace": 4,
        "malibu": 1,
        "airtable": 3,
    }
    assert edits == sorted(edits)
    start, end = business_hours(DAY)
    assert all(start <= e.at < end for e in edits if e.source in ("epa", "pasadena"))
    epa = [e.at for e in edits if e.source == "epa"]
    assert {b - a for a, b in pairwise(epa)} == {timedelta(minutes=10)}


def test_ticks_cover_business_hours_and_a_while_after_each_night_event():
    night = datetime(2025, 6, 2, 2, 15, 30, tzinfo=PACIFIC)
    moments = tick_moments(DAY, MINUTE, [night])
    start, end = business_hours(DAY)
    assert [m for m in moments if start <= m < end] == [start + MINUTE * i for i in range(540)]
    after = [m for m in moments if m < start]
    assert after[0] == datetime(2025, 6, 2, 2, 16, tzinfo=PACIFIC)  # the first tick after it
    assert len(after) == 8 and moments == sorted(set(moments))


def test_a_change_waits_for_the_next_publish_and_one_never_published_says_so():
    at = datetime(2025, 6, 2, 9, tzinfo=PACIFIC)
    edits = [Edit(at, "epa"), Edit(at + 2 * MINUTE, "epa"), Edit(at + 9 * MINUTE, "malibu")]
    published = [at + MINUTE, at + 3 * MINUTE]
    assert publish_delays(edits, published) == [60.0, 60.0, None]


def test_unpartitioned_assets_join_the_only_partitions_run():
    assert runs_by_partition({"a": {"2025-06-02"}, "b": {None}}) == {"2025-06-02": ["a", "b"]}
    two = runs_by_partition({"a": {"2025-06-01", "2025-06-02"}, "b": {None}})
    assert two == {"2025-06-01": ["a"], "2025-06-02": ["a"], None: ["b"]}
