"""The dbt project: the latest state (summary included) and the daily metric history."""

import dagster as dg

from ddrc_platform.build import current


@dg.definitions
def transform() -> dg.Definitions:
    return dg.Definitions(assets=list(current().dbt_assets))
