"""The dbt project, alone in its module: one DbtProject per dbt target.

Each target gets its own manifest (`ddrc_dbt/target/<target>/manifest.json`) because dev
and prd name different Snowflake databases. Prepare them all at image build with
`uv run python -m ddrc_platform.cli prepare` (parse only: no warehouse connection).
"""

from __future__ import annotations

from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "ddrc_dbt"
TARGETS = ("local", "dev", "prd")


def dbt_project(target: str) -> DbtProject:
    return DbtProject(
        project_dir=DBT_PROJECT_DIR,
        profiles_dir=DBT_PROJECT_DIR,
        target=target,
        target_path=Path("target") / target,
    )


# the embedded default, for `dagster-dbt project prepare-and-package --file` and dbt tooling
ddrc_dbt_project = dbt_project("local")
