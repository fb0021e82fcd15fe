"""The commands behind `./ddrc`: run, prepare dbt, roll back (and pin), list incidents.

Runs are recorded in a Dagster instance under `$DDRC_HOME/dagster` (or `DAGSTER_HOME`),
so `./ddrc ui` started on the same home shows them afterwards.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg

from ddrc_platform.core.names import PIPELINE_JOB, PUBLISH_KEY, ROLLBACK_JOB
from ddrc_platform.settings import Settings, load_settings
from ddrc_platform.transform.project import (
    TARGETS,
    dbt_project,
    dbt_vars,
    prepare_manifest,
    vars_args,
)


def execute(settings: Settings, job_name: str, **kwargs: object) -> dg.ExecuteInProcessResult:
    """Run one job of the definitions in this process, recorded in the instance the UI reads."""
    from ddrc_platform.definitions import build_definitions

    home = settings.run_dagster_home
    home.mkdir(parents=True, exist_ok=True)
    instance = dg.DagsterInstance.local_temp(tempdir=str(home))
    job = build_definitions(settings).resolve_job_def(job_name)
    return job.execute_in_process(instance=instance, raise_on_error=False, **kwargs)


def run(settings: Settings, select: str | None) -> int:
    started = time.perf_counter()
    selection = None if select is None else [dg.AssetKey.from_user_string(select)]
    result = execute(settings, PIPELINE_JOB, asset_selection=selection)
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
    from ddrc_platform.publish.document import content_hash
    from ddrc_platform.resources import build_publisher

    publisher = build_publisher(settings)
    current, pin = publisher.current(), publisher.pin()
    live = f"-{content_hash(current)[:12]}.json" if current else None
    for name in publisher.versions():
        marks = [
            "live" if live and name.endswith(live) else "",
            "pinned" if pin and pin.version == name else "",
        ]
        print(" ".join([name, *filter(None, marks)]))
    print(pin.describe() if pin else "not pinned")
    return 0


def rollback(settings: Settings, to: str | None, release: bool) -> int:
    """The job `ddrc_rollback`, run here: the same code, record and pin as from the UI."""
    config = {"to": to, "release": release}
    result = execute(
        settings,
        ROLLBACK_JOB,
        run_config={"ops": {"rollback_publication": {"config": config}}},
    )
    for event in result.all_events:
        if event.is_step_failure:
            print(f"rollback: {event.step_failure_data.error.message.strip()}", file=sys.stderr)
    if not result.success:
        return 1
    from ddrc_platform.resources import build_publisher

    pin = build_publisher(settings).pin()
    print(f"rolled back: {pin.describe()}" if pin else "released: publishing goes ahead")
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
    commands.add_parser("versions", help="list published versions, oldest first")
    back = commands.add_parser("rollback", help="make an earlier published version live again")
    back.add_argument("--to", help="history version name (default: the previous public one)")
    back.add_argument("--release", action="store_true", help="lift the pin: publishing resumes")
    incidents_cmd = commands.add_parser("incidents", help="open and recent incidents")
    incidents_cmd.add_argument("show", nargs="?", choices=["show"], help="show one incident")
    incidents_cmd.add_argument("id", nargs="?", help="incident id (as listed)")
    args = parser.parse_args(argv)
    if args.command == "incidents" and bool(args.show) != bool(args.id):
        parser.error("usage: ./ddrc incidents [show ID]")
    if args.command == "prepare":
        sys.exit(prepare(args.targets or list(TARGETS)))
    settings = load_settings()
    if args.command == "run":
        sys.exit(run(settings, args.select))
    if args.command == "dbt":
        sys.exit(dbt(settings, args.args))
    if args.command == "versions":
        sys.exit(versions(settings))
    if args.command == "incidents":
        from ddrc_platform.incidents.cli import incidents

        sys.exit(incidents(settings.incident_store_path, args.id))
    sys.exit(rollback(settings, args.to, args.release))


if __name__ == "__main__":
    main()
