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
    parser.add_argument("--skip", choices=["ingest", "pipeline"], nargs="*", default=[])
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
        print(
            f"\nlocal definitions load: {d['definitions_seconds']:.2f} s, "
            f"`import dagster, dagster_dbt`: {d['import_dagster_seconds']:.2f} s, "
            f"ratio {d['definitions_seconds'] / d['import_dagster_seconds']:.2f} (target <= 1.2)"
        )


if __name__ == "__main__":
    main()
