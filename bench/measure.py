"""One measurement in a fresh process, so peak memory (ru_maxrss) belongs to it alone.

    python -m bench.measure ingest   --scale 10 --mode live
    python -m bench.measure pipeline --scale 10
    python -m bench.measure definitions
    python -m bench.measure change   --scale 1      # change-driven runs against a full run
    python -m bench.measure backfill --days 30      # a history backfill after a rule change
    python -m bench.measure latency --edits 3       # change -> public file through the daemon
    python -m bench.measure day --scale 0.1         # a day of edits (simulated clock), 0:00-9:00
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH_NOW = datetime(2025, 6, 2, 19, 30, tzinfo=UTC)
CYCLES = 5  # no-change cycles timed


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def stand_ins(scale: float):
    """The sample sources served by a separate process (so serving does not share our GIL)."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stand_ins",
            "--scale",
            str(scale),
            "--day",
            BENCH_NOW.date().isoformat(),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        env = json.loads(process.stdout.readline())
        yield env
    finally:
        process.terminate()
        process.wait(timeout=30)


def settings_for(home: Path, scale: float, extra: dict[str, str]):
    from ddrc_platform.settings import load_settings

    return load_settings({"DDRC_HOME": str(home), "DDRC_SAMPLE_SCALE": str(scale), **extra})


def step_seconds(result) -> dict[str, float]:
    return {
        e.step_key: e.event_specific_data.duration_ms / 1000
        for e in result.all_events
        if e.is_step_success
    }


def ingest(scale: float, mode: str) -> dict:
    import dagster as dg

    from ddrc_platform.defs.ingest.raw import build_raw_assets
    from ddrc_platform.warehouse.duckdb import DuckDBWarehouse

    with (
        tempfile.TemporaryDirectory() as tmp,
        stand_ins(scale) if mode == "live" else _nothing() as env,
    ):
        settings = settings_for(Path(tmp), scale, env or {})
        started = time.perf_counter()
        result = dg.materialize(
            build_raw_assets(settings, "duckdb", clock=lambda: BENCH_NOW),
            resources={"warehouse": DuckDBWarehouse(path=str(settings.warehouse_path))},
            instance=dg.DagsterInstance.ephemeral(),
        )
        wall = time.perf_counter() - started
    sources = {}
    for event in result.get_asset_materialization_events():
        meta = event.step_materialization_data.materialization.metadata
        sources[event.asset_key.to_user_string()] = {
            "rows": meta["dagster/row_count"].value,
            "seconds": meta["load_seconds"].value,
            "rows_per_second": meta["rows_per_second"].value,
        }
    return {"wall_seconds": wall, "peak_mb": peak_mb(), "sources": sources}


@contextmanager
def _nothing():
    yield None


def pipeline(scale: float) -> dict:
    import dagster as dg

    from ddrc_platform.core.names import PIPELINE_JOB
    from ddrc_platform.definitions import build_definitions, kept_for_the_process

    with tempfile.TemporaryDirectory() as tmp:
        settings = settings_for(Path(tmp), scale, {})
        started = time.perf_counter()
        defs = kept_for_the_process(build_definitions(settings, clock=lambda: BENCH_NOW))
        result = defs.resolve_job_def(PIPELINE_JOB).execute_in_process(
            instance=dg.DagsterInstance.ephemeral(),
            partition_key=BENCH_NOW.date().isoformat(),  # Pacific: the same day at 19:30 UTC
        )
        wall = time.perf_counter() - started
        steps = step_seconds(result)
        dbt_alone = dbt_build_alone(settings, tmp)
    rows = sum(
        e.step_materialization_data.materialization.metadata["dagster/row_count"].value
        for e in result.get_asset_materialization_events()
        if e.asset_key.path[0] == "raw"
    )
    return {
        "wall_seconds": wall,
        "load_seconds": sum(v for k, v in steps.items() if k.startswith("raw__")),
        "dbt_seconds": steps.get("ddrc_dbt", 0.0),
        "publish_seconds": steps.get("publish__ddrc_metrics_json", 0.0),
        "dbt_alone_seconds": dbt_alone,
        "raw_rows": rows,
        "peak_mb": peak_mb(),
    }


def peak_children_mb() -> float:
    """dbt runs in a subprocess: its peak memory is a child's."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def keep_snapshots(settings, days: int) -> None:
    """Copy today's snapshot of every snapshot table to the `days - 1` days before it, as
    a warehouse that has kept a snapshot a day for that long holds them."""
    from ddrc_platform.core import catalog
    from ddrc_platform.core.names import pacific_date
    from ddrc_platform.warehouse.base import LOADS_SCHEMA, LOADS_TABLE, quote
    from ddrc_platform.warehouse.duckdb import DuckDBWarehouse

    today = pacific_date(BENCH_NOW)
    loads = f"{quote(LOADS_SCHEMA)}.{quote(LOADS_TABLE)}"
    with DuckDBWarehouse(path=str(settings.warehouse_path)).connect() as con:
        for table in catalog.RAW_TABLES:
            if table.keeping is not catalog.Keeping.SNAPSHOT:
                continue
            target = f"{quote(table.schema)}.{quote(table.table)}"
            con.execute(
                f"insert into {target} select * exclude (d) replace "
                f"(cast(? as date) - cast(d as integer) as {quote(catalog.LOAD_DATE)}) "
                f"from {target}, range(1, ?) as days(d) where {quote(catalog.LOAD_DATE)} = ?",
                [today, days, today],
            )
            con.execute(
                f"insert into {loads} select table_path, cast(? as date) - cast(d as integer), "
                f"content_hash, row_count, loaded_at from {loads}, range(1, ?) as days(d) "
                "where table_path = ? and load_date = ?",
                [today, days, table.path, today],
            )


def dbt_build_alone(settings, tmp: str, warm: bool = False) -> float:
    """`dbt build` on the same warehouse, as a team without Dagster would run it (cold:
    dbt's imports paid by each build), or with `warm` through this platform's warm dbt. A
    first build parses the whole project; the second, timed, parses partially."""
    from ddrc_platform.transform.children import guarded_command

    project = Path(__file__).resolve().parent.parent / "ddrc_dbt"
    if warm:
        executable, flags = guarded_command(settings.home, settings.dbt_warm)
        start = [executable, *flags]
    else:
        start = [str(Path(sys.executable).parent / "dbt")]
    command = [
        *start,
        "build",
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target",
        "local",
        "--target-path",
        str(Path(tmp) / ("dbt-warm" if warm else "dbt-alone")),
        "--vars",
        "{}",
    ]
    # in the home, as the platform runs it: the profile's DuckDB file is relative
    subprocess.run(command, check=True, capture_output=True, cwd=settings.home)
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=settings.home)
    return time.perf_counter() - started


def median_run(run: Callable[[], tuple[float, dict]]) -> tuple[float, dict]:
    """The median of three runs: one run's figure moved by a second from run to run here."""
    return sorted((run() for _ in range(3)), key=lambda r: r[0])[1]


def change(scale: float) -> dict:
    """Change-driven work against a full run, all measured in this one process."""
    import dagster as dg

    from ddrc_platform.core.names import PIPELINE_JOB, WATCH_SENSOR_PREFIX, pacific_date
    from ddrc_platform.core.names import partition_key as key_of
    from ddrc_platform.definitions import build_definitions, kept_for_the_process

    with tempfile.TemporaryDirectory() as tmp:
        settings = settings_for(Path(tmp), scale, {})
        instance = dg.DagsterInstance.ephemeral()
        defs = kept_for_the_process(build_definitions(settings, clock=lambda: BENCH_NOW))
        job = defs.resolve_job_def(PIPELINE_JOB)
        day = key_of(pacific_date(BENCH_NOW))

        def full_run() -> tuple[float, dict[str, float]]:
            started = time.perf_counter()
            result = job.execute_in_process(instance=instance, partition_key=day)
            return time.perf_counter() - started, step_seconds(result)

        cold, _ = full_run()  # first run: dbt parses, DuckDB files are created
        full, steps = median_run(full_run)
        fetch = sum(v for k, v in steps.items() if k.startswith("raw__"))
        dbt_alone = dbt_build_alone(settings, tmp)

        # one tick of every sensor when nothing changed (after a first tick set the cursors)
        watchers = [s for s in defs.sensors if s.name.startswith(WATCH_SENSOR_PREFIX)]

        def tick(sensor, cursor):
            context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
            return sensor.evaluate_tick(context).cursor

        cursors = {s.name: tick(s, None) for s in watchers}
        automation = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, evaluation_time=BENCH_NOW
        )
        # the mean of five cycles: the collector's passes fall on some cycles and not others
        started = time.perf_counter()
        for _ in range(CYCLES):
            for sensor in watchers:
                tick(sensor, cursors[sensor.name])
            quiet = dg.evaluate_automation_conditions(
                defs=defs, instance=instance, cursor=automation.cursor, evaluation_time=BENCH_NOW
            )
        no_change = (time.perf_counter() - started) / CYCLES
        assert quiet.total_requested == 0, "a cycle with no change requested work"

        # Malibu changed: its loader, then automation ticks and the runs they request until
        # a tick requests nothing (today's history is built with the latest state)
        malibu = dg.AssetKey(["raw", "malibu", "fire_rebuild_points"])
        cursor = quiet.cursor

        def malibu_change() -> tuple[float, dict]:
            nonlocal cursor
            started = time.perf_counter()
            job.execute_in_process(instance=instance, partition_key=day, asset_selection=[malibu])
            keys, runs, dbt_starts = [], 1, 0
            for _ in range(4):
                # the automation's "today" is the bench's fixed day (the partition it loaded)
                requested = dg.evaluate_automation_conditions(
                    defs=defs, instance=instance, cursor=cursor, evaluation_time=BENCH_NOW
                )
                cursor = requested.cursor
                wave = [
                    r.key
                    for r in requested.results
                    if r.true_subset.size and isinstance(r.key, dg.AssetKey)
                ]
                if not wave:
                    break
                keys += wave
                result = job.execute_in_process(
                    instance=instance, partition_key=day, asset_selection=wave
                )
                runs += 1
                dbt_starts += len([s for s in step_seconds(result) if s.startswith("ddrc_dbt")])
            assert keys, "the Malibu change requested nothing downstream"
            seconds = time.perf_counter() - started
            return seconds, {"keys": keys, "runs": runs, "dbt_starts": dbt_starts}

        malibu_run, malibu_figures = median_run(malibu_change)

        keep_snapshots(settings, 365)
        year, _ = median_run(full_run)
    return {
        "scale": scale,
        "full_run_cold_seconds": cold,
        "full_run_seconds": full,
        "fetch_seconds": fetch,
        "dbt_alone_seconds": dbt_alone,
        "no_change_cycle_seconds": no_change,
        "malibu_change_seconds": malibu_run,
        "malibu_change_assets": sorted(k.to_user_string() for k in malibu_figures["keys"]),
        "malibu_change_runs": malibu_figures["runs"],
        "malibu_change_dbt_starts": malibu_figures["dbt_starts"],
        "full_run_365_days_seconds": year,
        "peak_mb": peak_mb(),
    }


def backfill(days: int, scale: float) -> dict:
    """A `days`-long history backfill (one dbt run, as the UI launches it) after a rule change."""
    import dagster as dg

    from ddrc_platform.core.names import HISTORY_KEY, PIPELINE_JOB, pacific_date
    from ddrc_platform.core.names import partition_key as key_of
    from ddrc_platform.definitions import build_definitions, kept_for_the_process

    with tempfile.TemporaryDirectory() as tmp:
        settings = settings_for(Path(tmp), scale, {})
        instance = dg.DagsterInstance.ephemeral()
        defs = kept_for_the_process(build_definitions(settings, clock=lambda: BENCH_NOW))
        today = pacific_date(BENCH_NOW)
        defs.resolve_job_def(PIPELINE_JOB).execute_in_process(
            instance=instance, partition_key=key_of(today)
        )
        keep_snapshots(settings, days)
        before = peak_mb(), peak_children_mb()
        started = time.perf_counter()
        result = dg.materialize(
            [defs.resolve_assets_def(HISTORY_KEY)],  # bound to its resources already
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": key_of(today - timedelta(days=days - 1)),
                "dagster/asset_partition_range_end": key_of(today),
            },
        )
        wall = time.perf_counter() - started
        assert result.success
    return {
        "days": days,
        "wall_seconds": wall,
        "peak_mb": peak_mb(),
        "peak_dbt_mb": peak_children_mb(),
        "peak_mb_before_backfill": before[0],
    }


def day(scale: float, hours: float) -> dict:
    """A realistic day of edits (bench/day.py) through the sensors and the automation, on
    a simulated clock, against the seed's design: a full `dbt build` every hour."""
    import dagster as dg

    from bench.day import RECONCILE, Replay, Sources, edit_schedule, publish_delays, tick_moments
    from ddrc_platform.core import catalog
    from ddrc_platform.core.names import PACIFIC, pacific_date, partition_key
    from ddrc_platform.definitions import build_definitions, kept_for_the_process
    from ddrc_platform.ingest import sample
    from stand_ins.sources import serve_sample_sources

    today = pacific_date(BENCH_NOW)
    start = datetime.combine(today, datetime.min.time(), PACIFIC)
    end = start + timedelta(hours=hours)
    edits = [e for e in edit_schedule(today) if e.at < end]
    reconcile = datetime.combine(today, RECONCILE, PACIFIC)
    with tempfile.TemporaryDirectory() as tmp, serve_sample_sources(day=today, scale=scale) as live:
        since = {"DDRC_LIVE_SINCE": (today - timedelta(days=1)).isoformat()}
        settings = settings_for(Path(tmp), scale, {**live.env, **since})
        now = [start - timedelta(minutes=30)]
        defs = kept_for_the_process(build_definitions(settings, clock=lambda: now[0]))
        replay = Replay(defs, dg.DagsterInstance.ephemeral(), settings, now)
        replay.bootstrap()
        replay.due = dict.fromkeys(replay.due, start)
        sources = Sources(
            live,
            {t.name: catalog.sample_data(t, scale=scale, day=today) for t in catalog.ARCGIS_TABLES},
            sample.malibu_endpoints(scale=scale, day=today),
            sample.airtable_records(scale=scale, day=today),
        )
        step = timedelta(seconds=settings.watch.automation_seconds)
        started = time.perf_counter()
        for moment in tick_moments(today, step, [start, reconcile] + [e.at for e in edits]):
            if moment >= end:
                break
            now[0] = moment
            for edit in edits[len(sources.made) :]:
                if edit.at <= moment:
                    sources.apply(edit)
            if reconcile <= moment and "reconcile" not in replay.tally.runs:
                replay.reconcile(partition_key(today))
            replay.tick()
        wall = time.perf_counter() - started
        full = dbt_build_alone(settings, tmp)
        warm_full = dbt_build_alone(settings, tmp, warm=True)
    delays = publish_delays(edits, replay.tally.published)
    left = len(edit_schedule(today)) - len(edits)
    return {
        **day_figures(replay.tally, delays, full, hours, wall, left),
        "warm_full_build_seconds": warm_full,
    }


def day_figures(
    tally, delays: list, full_build: float, hours: float, wall: float, left: int
) -> dict:
    """`left`: the day's changes after the hours replayed; extrapolated at one dbt
    invocation each, at the replay's mean (no coalescing assumed: edits lie minutes apart)."""
    known = sorted(d for d in delays if d is not None)
    dbt = sum(tally.dbt_seconds)
    mean = dbt / len(tally.dbt_seconds) if tally.dbt_seconds else 0.0
    return {
        "hours_replayed": hours,
        "wall_seconds": wall,
        "changes": len(delays),
        "changes_not_replayed": left,
        "extrapolated_day_dbt_invocations": len(tally.dbt_seconds) + left,
        "extrapolated_day_dbt_seconds": dbt + left * mean,
        "extrapolated_ratio": (dbt + left * mean) / (24 * full_build),
        "changes_never_published": len(delays) - len(known),
        "delay_median_seconds": known[len(known) // 2] if known else None,
        "delay_max_seconds": known[-1] if known else None,
        "runs": tally.runs,
        "dbt_invocations": len(tally.dbt_seconds),
        "dbt_seconds": dbt,
        "dbt_seconds_per_invocation": mean,
        "events": tally.events,
        "full_build_seconds": full_build,
        "hourly_design_seconds": 24 * full_build,
        "ratio": dbt / (24 * full_build),
        "by_hour": tally.by_hour,
        "peak_mb": peak_mb(),
    }


def definitions() -> dict:
    """Each load in a fresh process, the three measurements interleaved (so load on the
    machine that drifts meanwhile falls on all three alike); the best of five of each, in
    one home (the first definitions load parses it)."""
    codes = {
        "import_dagster_seconds": "import dagster, dagster_dbt",
        # and the dbt-core selection modules `@dbt_assets` imports when it decorates
        "import_dagster_dbt_core_seconds": "import dagster, dagster_dbt, dbt.graph.cli",
        "definitions_seconds": "import ddrc_platform.definitions as d; d.defs()",
    }
    home = tempfile.mkdtemp()
    runs: dict[str, list[float]] = {name: [] for name in codes}
    for _ in range(5):
        for name, code in codes.items():
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    f"import time; t=time.perf_counter(); {code}; print(time.perf_counter()-t)",
                ],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "DDRC_HOME": home},
            )
            runs[name].append(float(out.stdout.strip().splitlines()[-1]))
    return {name: min(seconds) for name, seconds in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.measure")
    parser.add_argument(
        "what",
        choices=["ingest", "pipeline", "definitions", "change", "backfill", "day", "latency"],
    )
    parser.add_argument("--edits", type=int, default=3)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument(
        "--hours",
        type=float,
        default=9,  # the night, the reconcile, one business hour: ~10 min; 24 takes ~an hour
        help="day: hours replayed from 0:00 Pacific; the rest of the day is extrapolated",
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--mode", choices=["sample", "live"], default="sample")
    args = parser.parse_args()
    if args.what == "ingest":
        result = ingest(args.scale, args.mode)
    elif args.what == "pipeline":
        result = pipeline(args.scale)
    elif args.what == "change":
        result = change(args.scale)
    elif args.what == "backfill":
        result = backfill(args.days, args.scale)
    elif args.what == "day":
        result = day(args.scale, args.hours)
    elif args.what == "latency":
        from bench.latency import latency

        result = latency(args.edits, args.scale)
    else:
        result = definitions()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
