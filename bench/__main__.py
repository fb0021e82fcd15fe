"""Run every benchmark and print the figures.

    ./ddrc bench                 # scales 1, 10, 100
    ./ddrc bench --scales 1 10   # fewer
Each measurement runs in a fresh process (peak memory is per measurement).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

PHASES = ("queued", "process start", "to first step", "steps")


def measure(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.measure", *args],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"bench.measure {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 10, 100])
    parser.add_argument(
        "--skip",
        choices=["ingest", "pipeline", "change", "backfill", "day", "latency"],
        nargs="*",
        default=[],
    )
    parser.add_argument("--edits", type=int, default=3, help="EPA edits timed through the daemon")
    args = parser.parse_args()

    if "ingest" not in args.skip:
        print("## Ingestion (all raw assets, in-process executor)")
        for scale in args.scales:
            for mode in ("sample", "live"):
                r = measure("ingest", "--scale", str(scale), "--mode", mode)
                rows = sum(s["rows"] for s in r["sources"].values())
                print(
                    f"\nscale {scale:g}, {mode}: {rows:,} rows in {r['wall_seconds']:.1f} s "
                    f"wall, peak {r['peak_mb']:,.0f} MB"
                )
                for key, s in sorted(r["sources"].items()):
                    print(
                        f"  {key:42} {s['rows']:>10,} rows {s['seconds']:>8.2f} s "
                        f"{s['rows_per_second']:>12,} rows/s"
                    )

    if "pipeline" not in args.skip:
        print("\n## Whole pipeline (sample mode): load / dbt / publish, and dbt build alone")
        print(
            f"{'scale':>6} {'raw rows':>12} {'wall s':>8} {'load s':>8} {'dbt s':>8} "
            f"{'publish s':>10} {'dbt alone s':>12} {'peak MB':>8}"
        )
        for scale in args.scales:
            r = measure("pipeline", "--scale", str(scale))
            print(
                f"{scale:>6g} {r['raw_rows']:>12,} {r['wall_seconds']:>8.1f} "
                f"{r['load_seconds']:>8.1f} {r['dbt_seconds']:>8.1f} "
                f"{r['publish_seconds']:>10.2f} {r['dbt_alone_seconds']:>12.1f} "
                f"{r['peak_mb']:>8,.0f}"
            )
        d = measure("definitions")
        load, core = d["definitions_seconds"], d["import_dagster_dbt_core_seconds"]
        print(
            f"\nlocal definitions load: {load:.2f} s, "
            f"`import dagster, dagster_dbt`: {d['import_dagster_seconds']:.2f} s "
            f"(ratio {load / d['import_dagster_seconds']:.2f}), with dbt.graph.cli (what "
            f"@dbt_assets imports): {core:.2f} s (ratio {load / core:.2f}, target <= 1.2)"
        )

    if "change" not in args.skip:
        # scale 0.1: 365 kept days of every snapshot at scale 1 would be ~14M rows of polygons
        print("\n## Change-driven runs (sample mode, scale 0.1), measured in one process")
        c = measure("change", "--scale", "0.1")
        full = c["full_run_seconds"]
        rows = [
            ("full run (cold: dbt parse, new files)", c["full_run_cold_seconds"], None, None),
            ("full run (median of three)", full, None, None),
            (
                "no-change cycle (sensor ticks + automation, mean of 5)",
                c["no_change_cycle_seconds"],
                full,
                0.05,
            ),
            (
                "Malibu-only change (loader + automation + run, median)",
                c["malibu_change_seconds"],
                full,
                0.30,
            ),
            ("full run, 365 days of snapshots (median)", c["full_run_365_days_seconds"], full, 1.1),
            (
                "full run vs dbt build alone + fetch",
                full,
                c["dbt_alone_seconds"] + c["fetch_seconds"],
                1.3,
            ),
        ]
        for label, seconds, base, target in rows:
            ratio = f"{seconds / base:6.2f} (target <= {target})" if base else ""
            print(f"  {label:55} {seconds:7.2f} s  {ratio}")
        print(f"  dbt build alone {c['dbt_alone_seconds']:.2f} s, fetch {c['fetch_seconds']:.2f} s")
        print(f"  Malibu change ran: {', '.join(c['malibu_change_assets'])}")
        print(
            f"  Malibu change: {c['malibu_change_runs']} runs, "
            f"{c['malibu_change_dbt_starts']} dbt invocation(s) (target 1)"
        )

    if "backfill" not in args.skip:
        b = measure("backfill", "--days", "30", "--scale", "0.1")
        print(
            f"\n## History backfill after a rule change: {b['days']} days in one dbt run: "
            f"{b['wall_seconds']:.1f} s wall, peak {b['peak_mb']:,.0f} MB (Dagster process), "
            f"{b['peak_dbt_mb']:,.0f} MB (dbt)"
        )

    if "day" not in args.skip:
        day()
    if "latency" not in args.skip:
        print_latency(measure("latency", "--edits", str(args.edits), "--scale", "0.05"))


# hours replayed from 0:00 Pacific: the night's events, the reconcile and the first business
# hour (a whole day replays in about an hour on a shared 2-core machine)
DAY_HOURS = "9"


def day() -> None:
    d = measure("day", "--scale", "0.1", "--hours", DAY_HOURS)
    print(
        f"\n## A day of edits (live stand-ins, scale 0.1, simulated clock), 0:00-{DAY_HOURS}:00 "
        f"Pacific replayed ({d['wall_seconds']:.0f} s wall)"
    )
    print(
        f"  {d['changes']} changes: runs "
        + ", ".join(f"{n} {kind}" for kind, n in d["runs"].items())
        + f"; {d['dbt_invocations']} dbt invocations, "
        f"{d['dbt_seconds']:.1f} dbt s ({d['dbt_seconds_per_invocation']:.1f} s each), "
        f"{d['events']:,} events; {d['changes_never_published']} never published"
    )
    print(
        f"  change to public file: median {d['delay_median_seconds']:.0f} s, "
        f"max {d['delay_max_seconds']:.0f} s (simulated; tick granularity)"
    )
    for hour, h in sorted(d["by_hour"].items(), key=lambda item: int(item[0])):
        print(
            f"    {int(hour):02d}:00  {h['runs']:>3} runs {h['dbt_invocations']:>3} dbt "
            f"{h['dbt_seconds']:>7.1f} s"
        )
    hourly = d["hourly_design_seconds"]
    print(
        f"  hourly-rebuild design: 24 x {d['full_build_seconds']:.1f} s = {hourly:.0f} s; "
        f"the replayed hours took {d['dbt_seconds']:.0f} s of it ({d['ratio']:.2f})"
    )
    print(
        f"  EXTRAPOLATED whole day (+{d['changes_not_replayed']} changes at one dbt invocation "
        f"each, {d['dbt_seconds_per_invocation']:.1f} s): "
        f"{d['extrapolated_day_dbt_invocations']} invocations, "
        f"{d['extrapolated_day_dbt_seconds']:.0f} s, ratio {d['extrapolated_ratio']:.2f} "
        "(target <= 1.0)"
    )
    warm = 24 * d["warm_full_build_seconds"]
    print(
        f"  the same hourly design through this platform's warm dbt: 24 x "
        f"{d['warm_full_build_seconds']:.1f} s = {warm:.0f} s; the extrapolated day against it: "
        f"{d['extrapolated_day_dbt_seconds'] / warm:.2f} (the target is set against the cold one)"
    )


def print_latency(r: dict) -> None:
    delays = ", ".join(f"{s:.0f}" for s in r["change_to_public_seconds"])
    print(
        f"\n## Change -> public file through `./ddrc ui` (watch every {r['watch_seconds']} s, "
        f"automation every {r['automation_seconds']} s, stand-ins, scale 0.05)\n"
        f"  bootstrap of an empty home: {r['bootstrap_seconds']:.0f} s, {r['bootstrap_runs']} runs"
        f"\n  EPA edit -> public: median {r['median_seconds']:.0f} s (target <= 120; "
        f"each: {delays})"
    )
    for number, runs in enumerate(r["runs"], 1):
        dbt = sum(run["dbt_steps"] for run in runs)
        print(f"  edit {number}: {len(runs)} runs (target 2), {dbt} dbt invocation(s) (target 1)")
        for run in runs:
            parts = ", ".join(f"{k} {run[k]:.1f} s" for k in PHASES if k in run)
            print(
                f"    {run['trigger']:>10} run created {run['created_after_edit']:5.1f} s "
                f"after the edit: {parts}"
            )


if __name__ == "__main__":
    main()
