"""When the graph runs: the pipeline job and its schedule."""

from __future__ import annotations

import dagster as dg

from ddrc_platform.core.names import PACIFIC_NAME, PIPELINE_JOB
from ddrc_platform.settings import Deployment, Settings

ddrc_pipeline = dg.define_asset_job(
    PIPELINE_JOB,
    selection=dg.AssetSelection.all(),
    description="Loads every source, builds the dbt project and publishes ddrc-metrics.json.",
    tags={"ddrc/publishes": "true"},
)


def build_schedule_defs(settings: Settings) -> dg.Definitions:
    hourly = dg.ScheduleDefinition(
        name="ddrc_pipeline_hourly",
        job=ddrc_pipeline,
        cron_schedule="27 * * * *",  # production's cadence
        execution_timezone=PACIFIC_NAME,
        # a laptop should not start publishing by itself; dev and prd should
        default_status=dg.DefaultScheduleStatus.STOPPED
        if settings.deployment is Deployment.LOCAL
        else dg.DefaultScheduleStatus.RUNNING,
        description="Hourly at minute 27, Pacific time, as production has always run.",
    )
    return dg.Definitions(jobs=[ddrc_pipeline], schedules=[hourly])
