"""The databases, roles and warehouses of each Snowflake environment, named once.

The loaders, dbt and Terraform use the same names by construction (a test reads the
Terraform and compares). Apart from `core/names.py` and free of Dagster, so the check that
the dbt manifests are current (`transform/manifests.py`) starts in a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class SnowflakeObjects:
    """The databases, roles and warehouses of one Snowflake environment (dev or prd)."""

    raw_database: str
    transform_database: str
    analytics_database: str
    loader_role: str
    transformer_role: str
    reporter_role: str
    loader_warehouse: str
    transformer_warehouse: str
    reporter_warehouse: str


def snowflake_objects(environment: str, overrides: Mapping[str, str] = {}) -> SnowflakeObjects:
    """`RAW_DDRC_DEV`, `LOADER_DEV`, `LOADING_DEV`, ...; each overridable by `DDRC_SNOWFLAKE_*`."""
    suffix = environment.upper()

    def name(variable: str, default: str) -> str:
        return overrides.get(f"DDRC_SNOWFLAKE_{variable}") or f"{default}_{suffix}"

    return SnowflakeObjects(
        raw_database=name("RAW_DATABASE", "RAW_DDRC"),
        transform_database=name("TRANSFORM_DATABASE", "TRANSFORM_DDRC"),
        analytics_database=name("ANALYTICS_DATABASE", "ANALYTICS_DDRC"),
        loader_role=name("LOADER_ROLE", "LOADER"),
        transformer_role=name("TRANSFORMER_ROLE", "TRANSFORMER"),
        reporter_role=name("REPORTER_ROLE", "REPORTER"),
        loader_warehouse=name("LOADER_WAREHOUSE", "LOADING"),
        transformer_warehouse=name("TRANSFORMER_WAREHOUSE", "TRANSFORMING"),
        reporter_warehouse=name("REPORTER_WAREHOUSE", "REPORTING"),
    )
