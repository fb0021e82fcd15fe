"""The commands behind `./ddrc`: run the pipeline, prepare dbt, roll the public file back.

Runs are recorded in a Dagster instance under `$DDRC_HOME/dagster` (or `DAGSTER_HOME`),
so `./ddrc ui` started on the same home shows them afterwards.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import yaml

from ddrc_platform.core.names import PIPELINE_JOB, PUBLISH_KEY
from ddrc_platform.settings import Settings, load_settings
from ddrc_platform.transform.project import (
    TARGETS,
    dbt_project,
    dbt_vars,
    prepare_manifest,
    vars_args,
)


def instance_config(settings: Settings) -> Path:
    """The local Dagster instance's dagster.yaml, with run monitoring on.

    Under `./ddrc ui` the daemon then stops a run still going after DDRC_MAX_RUN_SECONDS
    (a source trickling its answer, a lock never released), and the incident sensor
    reports it as hung. Settings already in the file are kept.
    """
    home = settings.run_dagster_home
    home.mkdir(parents=True, exist_ok=True)
    path = home / "dagster.yaml"
    config = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
    config.setdefault(
        "run_monitoring",
        {"enabled": True, "max_runtime_seconds": int(settings.max_run_seconds)},
    )
    config.setdefault("telemetry", {"enabled": False})
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run(settings: Settings, select: str | None) -> int:
    from ddrc_platform.definitions import build_definitions

    started = time.perf_counter()
    defs = build_definitions(settings)
    home = instance_config(settings).parent
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


def dbt(settings: Settings, args: list[str]) -> int:
    """dbt by hand, with the vars the pipeline gives it (profiles.yml reads them)."""
    objects = settings.snowflake.objects if settings.snowflake else None
    variables = dbt_vars(settings.deployment.value, settings.home, objects)
    project = dbt_project(settings.deployment.value)
    command = [
        str(Path(sys.executable).parent / "dbt"),
        *args,
        "--project-dir",
        str(project.project_dir),
        "--profiles-dir",
        str(project.profiles_dir),
        "--target",
        settings.deployment.value,
        "--target-path",
        str(settings.dbt_target_path),
        *vars_args(variables),
    ]
    return subprocess.call(command)


def versions(settings: Settings) -> int:
    from ddrc_platform.resources import build_publisher

    print("\n".join(build_publisher(settings).versions()) or "(none)")
    return 0


def rollback(settings: Settings, to: str | None) -> int:
    from ddrc_platform.publish.rollback import RollbackError
    from ddrc_platform.publish.rollback import rollback as restore
    from ddrc_platform.resources import build_publisher

    try:
        restored = restore(build_publisher(settings), to, datetime.now(UTC))
    except RollbackError as error:
        print(f"rollback: {error}", file=sys.stderr)
        return 1
    print(f"rolled back: {restored} is live again")
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="./ddrc")
    commands = parser.add_subparsers(dest="command", required=True)
    runner = commands.add_parser("run", help="materialize the whole graph in-process")
    runner.add_argument("--select", help="one asset key, e.g. raw/epa/public_status_assessment")
    preparer = commands.add_parser("prepare", help="prepare the dbt manifests")
    preparer.add_argument("--target", action="append", choices=TARGETS, dest="targets")
    dbt_cmd = commands.add_parser("dbt", help="run dbt by hand on this deployment's warehouse")
    dbt_cmd.add_argument("args", nargs=argparse.REMAINDER)
    commands.add_parser("instance", help="write the local Dagster instance's dagster.yaml")
    commands.add_parser("versions", help="list published versions, oldest first")
    back = commands.add_parser("rollback", help="make an earlier published version live again")
    back.add_argument("--to", help="history version name (default: the one before the live one)")
    args = parser.parse_args(argv)
    if args.command == "prepare":
        sys.exit(prepare(args.targets or list(TARGETS)))
    settings = load_settings()
    if args.command == "run":
        sys.exit(run(settings, args.select))
    if args.command == "dbt":
        sys.exit(dbt(settings, args.args))
    if args.command == "instance":
        print(instance_config(settings))
        sys.exit(0)
    if args.command == "versions":
        sys.exit(versions(settings))
    sys.exit(rollback(settings, args.to))


if __name__ == "__main__":
    main()
