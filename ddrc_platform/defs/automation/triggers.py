"""When the graph runs: the pipeline job, the daily reconcile and the automation sensor."""

import dagster as dg

from ddrc_platform.build import current
from ddrc_platform.jobs import build_schedule_defs


@dg.definitions
def automation() -> dg.Definitions:
    return build_schedule_defs(current().settings)
