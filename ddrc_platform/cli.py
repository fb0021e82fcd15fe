"""The commands behind `./ddrc`: run, prepare dbt, roll back (and pin), list incidents.

Runs are recorded in a Dagster instance under `$DDRC_HOME/dagster` (or `DAGSTER_HOME`),
so `./ddrc ui` started on the same home shows them afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import yaml

from ddrc_platform.core.names import (
    PIPELINE_JOB,
    ROLLBACK_JOB,
    pacific_date,
    partition_key,
    utc_now,
)
from ddrc_platform.definitions import build_definitions, enter
from ddrc_platform.settings import Settings, load_settings
from ddrc_platform.transform.project import (
    TARGETS,
    dbt_project,
    dbt_vars,
    prepare_manifest,
    vars_args,
)

# the commands that load the definitions: `enter` prepares the process for them, once
LOADS_DEFINITIONS = ("run", "rollback")


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
    # DuckDB allows one writer process: locally, runs the sensors start queue one at a time
    config.setdefault("run_queue", {"max_concurrent_runs": 1})
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def execute(
    settings: Settings,
    job_name: str,
    loggers: dict[str, dg.LoggerDefinition] | None = None,
    **kwargs: object,
) -> dg.ExecuteInProcessResult:
    """Run one job of the definitions in this process, recorded in the instance the UI reads."""
    home = instance_config(settings).parent
    instance = dg.DagsterInstance.local_temp(tempdir=str(home))
    job = build_definitions(settings).resolve_job_def(job_name)
    if loggers:
        job = job.with_logger_defs(loggers)
        kwargs["run_config"] = {"loggers": {name: {} for name in loggers}}
    return job.execute_in_process(instance=instance, raise_on_error=False, **kwargs)


def run(settings: Settings, select: str | None, verbose: bool = False) -> int:
    """The whole graph in this process; one line per step, the full log in a file."""
    from ddrc_platform.console import RunConsole, console_logger, warnings_into

    started = time.perf_counter()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    console = RunConsole(settings.home / "logs" / f"run-{stamp}.log")
    print(f"ddrc run: {settings.deployment.value} deployment, {settings.sources.value} sources")
    loggers = {"ddrc_console": console_logger(console)}
    if verbose:
        loggers["console"] = dg.colored_console_logger
    selection = None if select is None else [dg.AssetKey.from_user_string(select)]
    # what libraries print (dbt's own progress lines) and warn goes to the log files, not
    # the screen; the warnings are summed up after the run
    with (
        warnings_into(console),
        console.log_path.with_suffix(".out").open("w") as raw,
        contextlib.redirect_stdout(sys.stdout if verbose else raw),
        contextlib.redirect_stderr(sys.stderr if verbose else raw),
    ):
        today = partition_key(pacific_date(utc_now()))  # the snapshot (and history) of today
        result = execute(
            settings, PIPELINE_JOB, loggers, asset_selection=selection, partition_key=today
        )
    console.finish()
    seconds = time.perf_counter() - started
    for warning in console.warning_summary():
        print(f"  warning   {warning}")
    if not result.success:
        print(f"\nFAILED in {seconds:.1f} s (run {result.run_id})")
        for failure in console.failures or ["the run failed before any step"]:
            print(f"  {failure[:300]}")
        print(f"full log: {console.log_path}")
        return 1
    print(f"\ndone in {seconds:.1f} s (run {result.run_id})")
    print(f"  warehouse   {settings.warehouse_path}")
    print(f"  published   {settings.publish_dir / 'ddrc-metrics.json'}")
    print(f"  full log    {console.log_path}")
    print("look at it:")
    print("  ./ddrc ui                                     the Dagster UI, this run included")
    print("  uv run streamlit run dashboards/app.py        the dashboard")
    return 0


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
    """The job `ddrc_rollback`, run here: the same code, record and pin as from the UI.

    Dagster's log goes to a file: a refusal (an unknown version, a path) is one line on
    stderr, its reason first, not a page of wrapper text and stack traces.
    """
    config = {"to": to, "release": release}
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    log_path = settings.home / "logs" / f"rollback-{stamp}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with (
        log_path.open("w") as log,
        contextlib.redirect_stdout(log),
        contextlib.redirect_stderr(log),
    ):
        result = execute(
            settings,
            ROLLBACK_JOB,
            run_config={"ops": {"rollback_publication": {"config": config}}},
        )
    if not result.success:
        print(f"rollback {failure_reason(result)} (full log: {log_path})", file=sys.stderr)
        return 1
    from ddrc_platform.resources import build_publisher

    pin = build_publisher(settings).pin()
    print(f"rolled back: {pin.describe()}" if pin else "released: publishing goes ahead")
    return 0


def failure_reason(result: dg.ExecuteInProcessResult) -> str:
    """`refused: <why>` for a refusal of the rollback itself, `failed: <class>: <why>` for
    anything else: the innermost cause of the step failure, Dagster's wrapper left out."""
    from ddrc_platform.publish.rollback import RollbackError

    errors = [e.step_failure_data.error for e in result.all_events if e.is_step_failure]
    if not errors:
        return f"failed before its step ran (run {result.run_id})"
    error = errors[0]
    while error.cause is not None:
        error = error.cause
    line = (error.message.strip().splitlines() or [""])[0]
    reason = line.split(f"{error.cls_name}: ", 1)[-1]
    if error.cls_name == RollbackError.__name__:
        return f"refused: {reason}"
    return f"failed: {error.cls_name}: {reason}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="./ddrc")
    commands = parser.add_subparsers(dest="command", required=True)
    runner = commands.add_parser("run", help="materialize the whole graph in-process")
    runner.add_argument("--select", help="one asset key, e.g. raw/epa/public_status_assessment")
    runner.add_argument("--verbose", action="store_true", help="Dagster's full log on screen")
    preparer = commands.add_parser("prepare", help="prepare the dbt manifests")
    preparer.add_argument("--target", action="append", choices=TARGETS, dest="targets")
    dbt_cmd = commands.add_parser("dbt", help="run dbt by hand on this deployment's warehouse")
    dbt_cmd.add_argument("args", nargs=argparse.REMAINDER)
    commands.add_parser("instance", help="write the local Dagster instance's dagster.yaml")
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
    if args.command in LOADS_DEFINITIONS:
        enter(settings)
    if args.command == "run":
        sys.exit(run(settings, args.select, args.verbose))
    if args.command == "dbt":
        sys.exit(dbt(settings, args.args))
    if args.command == "instance":
        print(instance_config(settings))
        sys.exit(0)
    if args.command == "versions":
        sys.exit(versions(settings))
    if args.command == "incidents":
        from ddrc_platform.incidents.cli import incidents

        sys.exit(incidents(settings.incident_store_location, args.id))
    sys.exit(rollback(settings, args.to, args.release))


if __name__ == "__main__":
    main()
