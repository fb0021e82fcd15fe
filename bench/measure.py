"""One measurement in a fresh process, so peak memory (ru_maxrss) belongs to it alone.

    python -m bench.measure ingest   --scale 10 --mode live
    python -m bench.measure pipeline --scale 10
    python -m bench.measure definitions
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
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

BENCH_NOW = datetime(2025, 6, 2, 19, 30, tzinfo=UTC)


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

    from ddrc_platform.ingest.assets import build_raw_assets
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
    from ddrc_platform.definitions import build_definitions

    with tempfile.TemporaryDirectory() as tmp:
        settings = settings_for(Path(tmp), scale, {})
        started = time.perf_counter()
        defs = build_definitions(settings, clock=lambda: BENCH_NOW)
        result = defs.resolve_job_def(PIPELINE_JOB).execute_in_process(
            instance=dg.DagsterInstance.ephemeral()
        )
        wall = time.perf_counter() - started
        steps = step_seconds(result)
        # dbt alone, on the same data, as a team without Dagster would run it
        dbt = Path(sys.executable).parent / "dbt"
        project = Path(__file__).resolve().parent.parent / "ddrc_dbt"
        started = time.perf_counter()
        subprocess.run(
            [
                str(dbt),
                "build",
                "--project-dir",
                str(project),
                "--profiles-dir",
                str(project),
                "--target",
                "local",
                "--target-path",
                str(Path(tmp) / "dbt-alone"),
            ],
            env={**os.environ, "DDRC_HOME": str(settings.home)},
            check=True,
            capture_output=True,
        )
        dbt_alone = time.perf_counter() - started
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


def definitions() -> dict:
    def timed(code: str) -> float:
        runs = []
        for _ in range(3):
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    f"import time; t=time.perf_counter(); {code}; print(time.perf_counter()-t)",
                ],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "DDRC_HOME": tempfile.mkdtemp()},
            )
            runs.append(float(out.stdout.strip().splitlines()[-1]))
        return min(runs)

    return {
        "import_dagster_seconds": timed("import dagster, dagster_dbt"),
        "definitions_seconds": timed("import ddrc_platform.definitions as d; d.defs()"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.measure")
    parser.add_argument("what", choices=["ingest", "pipeline", "definitions"])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--mode", choices=["sample", "live"], default="sample")
    args = parser.parse_args()
    if args.what == "ingest":
        result = ingest(args.scale, args.mode)
    elif args.what == "pipeline":
        result = pipeline(args.scale)
    else:
        result = definitions()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
