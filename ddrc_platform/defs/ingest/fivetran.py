"""dev/prd: the Fivetran-synced raw tables, their polling sensor and the workspace resource.

The local deployment loads those tables itself (`raw.py`) and never imports
dagster-fivetran: it is imported here only when Fivetran is configured.
"""

import dagster as dg

from ddrc_platform.build import current


@dg.definitions
def fivetran() -> dg.Definitions:
    settings = current().settings
    if settings.fivetran is None:
        return dg.Definitions()
    from ddrc_platform.ingest.fivetran import (
        FIVETRAN_RESOURCE_KEY,
        build_fivetran_assets,
        build_fivetran_sensor,
        build_fivetran_workspace,
    )

    workspace = build_fivetran_workspace(settings.fivetran)
    return dg.Definitions(
        assets=build_fivetran_assets(workspace),
        sensors=[build_fivetran_sensor(workspace, settings.watch.watch_seconds)],
        resources={FIVETRAN_RESOURCE_KEY: workspace},
    )
