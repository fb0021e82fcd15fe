"""The resources of this deployment and how its runs execute, on one screen (`resources.py`)."""

import dagster as dg

from ddrc_platform.build import current


@dg.definitions
def resources() -> dg.Definitions:
    build = current()
    return dg.Definitions(
        resources=build.resources,
        # Every deployment runs a run's steps in its one process. Locally DuckDB allows one
        # writer process; everywhere a step's own process would load the definitions again,
        # as long as a run's start (8-12 s measured, `./ddrc bench` latency) for steps of
        # 1-30 s, while a run's loads are few and their fetches already concurrent.
        executor=dg.in_process_executor,
    )
