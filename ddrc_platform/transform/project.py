"""The dbt project, alone in its module: one DbtProject per dbt target, and its manifest.

Each target gets its own manifest (`ddrc_dbt/target/<target>/manifest.json`) because dev
and prd name different Snowflake databases. Preparing a manifest (`dbt parse`, no warehouse
connection) is an explicit step at the entries: the image build and `./ddrc prepare` /
`./ddrc test` prepare every target, `./ddrc run` and the definitions' `defs()` entry their
own. Building the definitions only reads a prepared manifest (`require_manifest`).
"""

from __future__ import annotations

import fcntl
import functools
import json
import shutil
from collections.abc import Callable
from functools import cache
from pathlib import Path

from dagster_dbt import DbtProject

from ddrc_platform.integrations.dagster_dbt import DdrcDbtCliResource
from ddrc_platform.transform.children import guarded_command
from ddrc_platform.transform.documentation import documentation_gaps
from ddrc_platform.transform.manifests import (
    DBT_PROJECT_DIR,
    FINGERPRINT_FILE,
    MANIFEST_FILE,
    PARTIAL_PARSE_FILE,
    dbt_vars,
    manifest_problem,
    parse_args,
    project_fingerprint,
    shared_parse_folder,
)


class ManifestNotPrepared(RuntimeError):
    """No manifest for a target, or one parsed from other project files; says what to run."""


class UndocumentedProject(RuntimeError):
    """The project declares a node or a column without saying what it is."""


def dbt_project(
    target: str, target_path: Path | None = None, variables: dict[str, str] | None = None
) -> DbtProject:
    """The project for `target`; with a home's target path and vars, that home's parse."""
    path = target_path or shared_parse_folder(target)
    return _dbt_project(DBT_PROJECT_DIR, target, path, tuple(parse_args(target, variables)))


@cache
def _dbt_project(
    project_dir: Path, target: str, target_path: Path, parse: tuple[str, ...]
) -> DbtProject:
    """Once per process for the same inputs: each DbtProject reads dbt_project.yml, and
    one load asks for the same project up to four times (~30 ms each)."""
    return DbtProject(
        project_dir=project_dir,
        profiles_dir=project_dir,
        target=target,
        target_path=target_path,
        prepare_project_cli_args=list(parse),
    )


def _fingerprint(project: DbtProject, variables: dict[str, str] | None = None) -> str:
    return project_fingerprint(Path(project.project_dir), parse_args(project.target, variables))


def prepare_manifest(
    project: DbtProject,
    variables: dict[str, str] | None = None,
    parse: Callable[[DbtProject], None] | None = None,
    warm: Path | None = None,
) -> Path:
    """Parse the project when its manifest is missing or out of date; return the manifest.

    A parse is where the project's documentation is checked (`transform/documentation.py`):
    an undocumented node fails the image build and `./ddrc prepare`, not a pipeline run.
    `dbt parse` starts as the runs start dbt (warm from the server in `warm`).

    Not `prepare_if_dev()`: that re-parses in every process that loads the code
    (each step of a multiprocess run), which multiplied a tiny run's time by four.
    """
    manifest = Path(project.manifest_path)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    # one parser at a time: test workers and code servers may start together
    with (manifest.parent / ".prepare.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        fingerprint = _fingerprint(project, variables)
        if manifest_problem(manifest, fingerprint):
            (parse or functools.partial(_parse, variables=variables, warm=warm))(project)
            if gaps := documentation_gaps(json.loads(manifest.read_text())):
                raise UndocumentedProject(
                    "document these in the dbt project's yml files:\n  " + "\n  ".join(gaps)
                )
            (manifest.parent / FINGERPRINT_FILE).write_text(fingerprint + "\n")
    return manifest


def prepare_home(
    target: str,
    variables: dict[str, str],
    home: Path,
    target_path: Path,
    warm: Path | None = None,
) -> Path:
    """A home's dbt folder, holding a parse made with the vars its every run passes.

    dbt parses partially only from a parse made with the same vars and the same profile.
    Neither names the home (dbt runs in it, `children.py`), so the shared parse serves
    every home: it is copied in (a full parse cost a new home 7 s). Parsed here only where
    a home's vars differ from the shared parse's (Snowflake names set by hand). Once per
    project change; every run, backfill and `./ddrc dbt` of the home then parses partially
    from it (load dates reach dbt through its environment and never force a parse).
    """

    def parse(project: DbtProject) -> None:
        if variables != dbt_vars(target):
            _parse(project, variables, warm, home)
            return
        source = Path(prepare_manifest(dbt_project(target), warm=warm)).parent
        for name in (MANIFEST_FILE, PARTIAL_PARSE_FILE):
            shutil.copyfile(source / name, target_path / name)

    return prepare_manifest(dbt_project(target, target_path, variables), variables, parse)


def _parse(
    project: DbtProject,
    variables: dict[str, str] | None,
    warm: Path | None,
    home: Path | None = None,
) -> None:
    """`dbt parse` into the project's target path, with the dbt beside this Python (not the
    first `dbt` on PATH, as dagster-dbt's preparer), started as the runs start it: in
    `home` (the project folder when none: a parse connects to nothing), warm from `warm`."""
    executable, flags = guarded_command(home or Path(project.project_dir), warm)
    dbt = DdrcDbtCliResource(
        project_dir=project, dbt_executable=executable, global_config_flags=flags
    )
    target_path = Path(project.manifest_path).parent
    dbt.cli(parse_args(project.target, variables), target_path=target_path).wait()


def require_manifest(project: DbtProject) -> Path:
    """The prepared manifest, read only: fails with one line saying what to run."""
    manifest = Path(project.manifest_path)
    if problem := manifest_problem(manifest, _fingerprint(project)):
        raise ManifestNotPrepared(
            f"the dbt manifest for target '{project.target}' ({manifest}) {problem}: "
            f"run `./ddrc prepare --target {project.target}`"
        )
    return manifest


# the embedded default, for `dagster-dbt project prepare-and-package --file` and dbt tooling
ddrc_dbt_project = dbt_project("local")
