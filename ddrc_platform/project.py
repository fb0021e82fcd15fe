"""The dbt project, alone in its module so the manifest can be prepared at image build:

uv run dagster-dbt project prepare-and-package --file ddrc_platform/project.py
"""

from __future__ import annotations

from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "ddrc_dbt"

# The target is chosen per deployment by the DbtCliResource; the profile's default
# target follows DDRC_DEPLOYMENT so the CLI above parses for the deployment it builds.
ddrc_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
