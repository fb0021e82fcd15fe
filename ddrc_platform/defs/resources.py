"""The resources of this deployment and how its runs execute, on one screen (`resources.py`)."""

import dagster as dg

from ddrc_platform.build import current
from ddrc_platform.settings import Deployment


@dg.definitions
def resources() -> dg.Definitions:
    build = current()
    return dg.Definitions(
        resources=build.resources,
        # DuckDB allows one writer process: run the steps of a local run in one process
        executor=dg.in_process_executor if build.settings.deployment is Deployment.LOCAL else None,
    )
