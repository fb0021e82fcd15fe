"""`python -m ddrc_platform.cli run`: the whole pipeline, in-process, on this deployment.

Runs are recorded in a Dagster instance under `$DDRC_HOME/dagster` (or `DAGSTER_HOME`),
so `dagster dev` started with the same DAGSTER_HOME shows them afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import dagster as dg

from ddrc_platform.automation import PIPELINE_JOB
from ddrc_platform.definitions import build_definitions
from ddrc_platform.deployment import load_settings
from ddrc_platform.project import TARGETS, dbt_project
from ddrc_platform.publish import PUBLISH_KEY
from ddrc_platform.transform import prepare_manifest


def run(select: str | None) -> int:
    settings = load_settings()
    started = time.perf_counter()
    defs = build_definitions(settings)
    home = Path(os.environ.get("DAGSTER_HOME") or settings.home / "dagster")
    home.mkdir(parents=True, exist_ok=True)
    instance = dg.DagsterInstance.local_temp(tempdir=str(home))
    job = defs.resolve_job_def(PIPELINE_JOB)
    selection = None if select is None else [dg.AssetKey.from_user_string(select)]
    result = job.execute_in_process(
        instance=instance, raise_on_error=False, asset_selection=selection
    )
    seconds = time.perf_counter() - started
    print(f"\nrun {result.run_id} {'succeeded' if result.success else 'FAILED'} in {seconds:.1f} s")
    print(f"deployment: {settings.deployment.value}, sources: {settings.sources.value}")
    print(f"warehouse:  {settings.warehouse_path}")
    for event in result.get_asset_materialization_events():
        mat = event.step_materialization_data.materialization
        if mat.asset_key == PUBLISH_KEY:
            meta = {k: v.value for k, v in mat.metadata.items()}
            print(f"published:  {meta.get('location', '(unchanged)')} [{meta.get('status')}]")
            print(f"            {meta.get('metric_count')} metrics, sha256 {meta['content_hash']}")
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                print(f"failed step {event.step_key}: {event.step_failure_data.error.message}")
    return 0 if result.success else 1


def prepare(targets: list[str]) -> int:
    """Parse the dbt project for each target (no warehouse connection): image build time."""
    for target in targets:
        print(f"{target}: {prepare_manifest(dbt_project(target))}")
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ddrc_platform.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    runner = commands.add_parser("run", help="materialize the whole graph in-process")
    runner.add_argument("--select", help="one asset key, e.g. raw/epa/public_status_assessment")
    preparer = commands.add_parser("prepare", help="prepare the dbt manifests")
    preparer.add_argument("--target", action="append", choices=TARGETS, dest="targets")
    args = parser.parse_args(argv)
    if args.command == "prepare":
        sys.exit(prepare(args.targets or list(TARGETS)))
    sys.exit(run(args.select))


if __name__ == "__main__":
    main()
