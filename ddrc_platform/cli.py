"""The commands behind `./ddrc`: run, reload a source, prepare dbt, roll back (and pin),
list incidents. Their verbs and flags are `core/commands.py`'s, the names runbooks use.

Runs are recorded in a Dagster instance under `$DDRC_HOME/dagster` (or `DAGSTER_HOME`),
so `./ddrc ui` started on the same home shows them afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import operator
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from ddrc_platform.core import catalog, commands
from ddrc_platform.core.names import (
    PIPELINE_JOB,
    ROLLBACK_JOB,
    pacific_date,
    partition_key,
    utc_now,
)
from ddrc_platform.definitions import build_definitions, enter
from ddrc_platform.incidents.classify import platform_fault
from ddrc_platform.instance import instance_config
from ddrc_platform.settings import Settings, load_settings
from ddrc_platform.transform.assets import home_dbt_vars
from ddrc_platform.transform.children import guarded_command
from ddrc_platform.transform.manifests import TARGETS, vars_args
from ddrc_platform.transform.project import dbt_project, prepare_home, prepare_manifest

# the commands that load the definitions: `enter` prepares the process for them, once
LOADS_DEFINITIONS = (commands.RUN, commands.RELOAD, commands.ROLLBACK)


class UnknownSource(ValueError):
    """`./ddrc reload` named no raw table; the message lists the ones there are."""


def source_key(source: str) -> dg.AssetKey:
    """A raw table as a responder names it: its catalog path (`epa/public_status_assessment`)
    or its asset key (`raw/epa/public_status_assessment`)."""
    keys = {t.asset_key.to_user_string(): t.asset_key for t in catalog.RAW_TABLES}
    name = source.strip().strip("/")
    found = keys.get(name) or keys.get(commands.RAW_PREFIX + name)
    if found is None:
        valid = ", ".join(sorted(commands.source_name(k) for k in keys))
        raise UnknownSource(f"unknown source {source!r}; one of: {valid}")
    return found


def selection_of(select: str) -> dg.AssetSelection:
    """`--select`: asset keys separated by commas, each with a trailing `+` for it and
    everything below it (how runbooks ask to rerun a model and what it feeds)."""
    parts = [part.strip() for part in select.split(",") if part.strip()]
    if not parts:
        raise ValueError(f"--select {select!r} names no asset")
    chosen = []
    for part in parts:
        one = dg.AssetSelection.assets(
            dg.AssetKey.from_user_string(part.removesuffix(commands.DOWNSTREAM))
        )
        chosen.append(one.downstream() if part.endswith(commands.DOWNSTREAM) else one)
    return functools.reduce(operator.or_, chosen)


def execute(
    settings: Settings,
    job_name: str,
    loggers: dict[str, dg.LoggerDefinition] | None = None,
    selection: dg.AssetSelection | None = None,
    **kwargs: object,
) -> dg.ExecuteInProcessResult:
    """Run one job of the definitions in this process, recorded in the instance the UI reads."""
    home = instance_config(settings).parent
    instance = dg.DagsterInstance.local_temp(tempdir=str(home))
    defs = build_definitions(settings)
    job = defs.resolve_job_def(job_name)
    if selection is not None:
        known = set(job.asset_layer.executable_asset_keys)
        try:
            chosen = selection.resolve(defs.resolve_asset_graph())
        except dg.DagsterInvalidSubsetError as exc:  # a key spelt wrong: say which, briefly
            raise ValueError(str(exc).split(" were selected", 1)[0] + " are no assets") from exc
        kwargs["asset_selection"] = sorted(chosen & known, key=str)
    if loggers:
        job = job.with_logger_defs(loggers)
        kwargs["run_config"] = {"loggers": {name: {} for name in loggers}}
    return job.execute_in_process(instance=instance, raise_on_error=False, **kwargs)


def run(
    settings: Settings,
    selection: dg.AssetSelection | None,
    verbose: bool = False,
    what: str = commands.RUN,
) -> int:
    """The graph (or a selection of it) in this process, today's partition; one line per
    step, the full log in a file."""
    from ddrc_platform.console import RunConsole, console_logger, warnings_into

    started = time.perf_counter()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    console = RunConsole(settings.home / "logs" / f"run-{stamp}.log")
    print(f"ddrc {what}: {settings.deployment.value} deployment, {settings.sources.value} sources")
    loggers = {"ddrc_console": console_logger(console)}
    if verbose:
        loggers["console"] = dg.colored_console_logger
    # what libraries print (dbt's own progress lines) and warn goes to the log files, not
    # the screen; the warnings are summed up after the run
    with (
        warnings_into(console),
        console.log_path.with_suffix(".out").open("w") as raw,
        contextlib.redirect_stdout(sys.stdout if verbose else raw),
        contextlib.redirect_stderr(sys.stderr if verbose else raw),
    ):
        today = partition_key(pacific_date(utc_now()))  # the snapshot (and history) of today
        result = execute(settings, PIPELINE_JOB, loggers, selection=selection, partition_key=today)
    console.finish()
    seconds = time.perf_counter() - started
    for warning in console.warning_summary():
        print(f"  warning   {warning}")
    if not result.success:
        print(f"\nFAILED in {seconds:.1f} s (run {result.run_id})")
        causes = {fault[1] for f in console.failures if (fault := platform_fault(f))}
        for cause in sorted(causes):  # the platform's own fault first: it explains the rest
            print(f"  {cause}")
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


def prepare(targets: list[str], warm: Path | None) -> int:
    """Parse the dbt project for each target (no warehouse connection): image build time."""
    for target in targets:
        print(f"{target}: {prepare_manifest(dbt_project(target), warm=warm)}")
    return 0


def dbt(settings: Settings, args: list[str]) -> int:
    """dbt by hand, started as the runs start it: in the home (the profile's DuckDB file is
    relative), with the vars the pipeline gives it, from the home's parse, warm."""
    variables = home_dbt_vars(settings)
    prepare_home(
        settings.deployment.value,
        variables,
        settings.home,
        settings.dbt_target_path,
        settings.dbt_warm,
    )
    project = dbt_project(settings.deployment.value)
    executable, flags = guarded_command(settings.home, settings.dbt_warm)
    command = [
        executable,
        *flags,
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
    """The history of the public file, the live version and the pin marked."""
    from ddrc_platform.publish.document import content_hash
    from ddrc_platform.publish.rollback import listing
    from ddrc_platform.resources import build_publisher

    publisher = build_publisher(settings)
    current = publisher.current()
    live = content_hash(current) if current else None
    for line in listing(publisher.versions(), live, publisher.pin()):
        print(line)
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


def parser() -> argparse.ArgumentParser:
    """The verbs and flags, named as `core/commands.py` spells them for the runbooks."""
    top = argparse.ArgumentParser(prog=commands.DDRC)
    verbs = top.add_subparsers(dest="command", required=True)
    runner = verbs.add_parser(commands.RUN, help="materialize the whole graph in-process")
    runner.add_argument(
        commands.SELECT,
        help="asset keys, comma-separated; KEY+ adds what lies below it, "
        "e.g. 'marts/metric_summary+'",
    )
    runner.add_argument("--verbose", action="store_true", help="Dagster's full log on screen")
    reloader = verbs.add_parser(
        commands.RELOAD, help="reload one source (today) and rerun what lies below it"
    )
    reloader.add_argument("source", help="e.g. epa/public_status_assessment")
    reloader.add_argument("--verbose", action="store_true", help="Dagster's full log on screen")
    preparer = verbs.add_parser("prepare", help="prepare the dbt manifests")
    preparer.add_argument("--target", action="append", choices=TARGETS, dest="targets")
    dbt_cmd = verbs.add_parser(commands.DBT, help="run dbt by hand on this deployment's warehouse")
    dbt_cmd.add_argument("args", nargs=argparse.REMAINDER)
    verbs.add_parser(commands.VERSIONS, help="list published versions, oldest first")
    back = verbs.add_parser(commands.ROLLBACK, help="make an earlier published version live")
    back.add_argument(commands.TO, help="history version name (default: the previous one)")
    back.add_argument(
        commands.RELEASE, action="store_true", help="lift the pin: publishing resumes"
    )
    incidents_cmd = verbs.add_parser(commands.INCIDENTS, help="open and recent incidents")
    incidents_cmd.add_argument("show", nargs="?", choices=["show"], help="show one incident")
    incidents_cmd.add_argument("id", nargs="?", help="incident id (as listed)")
    return top


def selected(args: argparse.Namespace) -> dg.AssetSelection | None:
    """What `run --select` or `reload SOURCE` asks for; None: the whole graph."""
    if args.command == commands.RELOAD:
        return dg.AssetSelection.assets(source_key(args.source)).downstream()
    return None if args.select is None else selection_of(args.select)


def main(argv: list[str] | None = None) -> None:
    top = parser()
    args = top.parse_args(argv)
    if args.command == commands.INCIDENTS and bool(args.show) != bool(args.id):
        top.error("usage: ./ddrc incidents [show ID]")
    if args.command == "prepare":
        sys.exit(prepare(args.targets or list(TARGETS), load_settings().dbt_warm))
    if args.command in (commands.RUN, commands.RELOAD):
        try:
            selection = selected(args)
        except ValueError as exc:  # an unknown source, an empty selection
            top.exit(2, f"{top.prog} {args.command}: {exc}\n")
    settings = load_settings()
    if args.command in LOADS_DEFINITIONS:
        enter(settings, runs_dbt=args.command != commands.ROLLBACK)
    if args.command in (commands.RUN, commands.RELOAD):
        what = args.command if args.command == commands.RUN else f"{args.command} {args.source}"
        try:
            sys.exit(run(settings, selection, args.verbose, what))
        except ValueError as exc:
            top.exit(2, f"{top.prog} {args.command}: {exc}\n")
        except Exception as exc:  # the platform's own (full disk, corrupt file): one line
            if (fault := platform_fault(f"{type(exc).__name__}: {exc}")) is None:
                raise
            top.exit(1, f"{top.prog} {args.command} failed: {fault[1]}\n")
    if args.command == commands.DBT:
        sys.exit(dbt(settings, args.args))
    if args.command == commands.VERSIONS:
        sys.exit(versions(settings))
    if args.command == commands.INCIDENTS:
        from ddrc_platform.incidents.cli import incidents

        sys.exit(incidents(settings.incident_store_location, args.id))
    sys.exit(rollback(settings, args.to, args.release))


if __name__ == "__main__":
    main()
