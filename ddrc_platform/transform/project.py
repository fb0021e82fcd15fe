"""The dbt project, alone in its module: one DbtProject per dbt target.

Each target gets its own manifest (`ddrc_dbt/target/<target>/manifest.json`) because dev
and prd name different Snowflake databases. Prepare them all at image build with
`uv run python -m ddrc_platform.cli prepare` (parse only: no warehouse connection).
"""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

from dagster_dbt import DbtProject

from ddrc_platform.core.names import SnowflakeObjects, snowflake_objects

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent.parent / "ddrc_dbt"
TARGETS = ("local", "dev", "prd")


def dbt_vars(target: str, home: Path, objects: SnowflakeObjects | None = None) -> dict[str, str]:
    """What profiles.yml and the sources read with `var(...)`: where the warehouse is.

    Passed on dbt's command line rather than through the environment, so a run never
    mutates `os.environ`, and the Snowflake names come from `core.names` alone.
    """
    if target == "local":
        return {"ddrc_home": str(home)}
    objects = objects or snowflake_objects(target)
    return {
        "snowflake_role": objects.transformer_role,
        "snowflake_warehouse": objects.transformer_warehouse,
        "snowflake_database": objects.transform_database,
        "snowflake_analytics_database": objects.analytics_database,
        "snowflake_raw_database": objects.raw_database,
    }


def vars_args(variables: dict[str, str]) -> list[str]:
    return ["--vars", json.dumps(variables, sort_keys=True)]


def dbt_project(target: str) -> DbtProject:
    # the manifest holds relation names only: the local file's location does not matter
    parse = ["parse", "--quiet", *vars_args(dbt_vars(target, Path(".ddrc")))]
    return DbtProject(
        project_dir=DBT_PROJECT_DIR,
        profiles_dir=DBT_PROJECT_DIR,
        target=target,
        target_path=Path("target") / target,
        prepare_project_cli_args=parse,
    )


def _project_files_newer_than(project: DbtProject, moment: float) -> bool:
    for folder in ("models", "macros", "seeds", "tests", "snapshots"):
        for path in (Path(project.project_dir) / folder).rglob("*"):
            if path.is_file() and path.stat().st_mtime > moment:
                return True
    return any(
        (Path(project.project_dir) / name).stat().st_mtime > moment
        for name in ("dbt_project.yml", "profiles.yml")
    )


def prepare_manifest(project: DbtProject) -> Path:
    """Parse the project once, when there is no manifest or a project file is newer.

    Not `prepare_if_dev()`: that re-parses in every process that loads the code
    (each step of a multiprocess run), which multiplied a tiny run's time by four.
    """
    manifest = Path(project.manifest_path)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    # one parser at a time: test workers and code servers may start together
    with (manifest.parent / ".prepare.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not manifest.exists() or _project_files_newer_than(project, manifest.stat().st_mtime):
            project.preparer.prepare(project)
    return manifest


# the embedded default, for `dagster-dbt project prepare-and-package --file` and dbt tooling
ddrc_dbt_project = dbt_project("local")
