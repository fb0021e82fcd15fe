"""Jobs and schedules: when the graph runs."""

from __future__ import annotations

from typing import Any

import dagster as dg

from ddrc_platform.deployment import Settings

PIPELINE_JOB = "ddrc_pipeline"
PACIFIC = "America/Los_Angeles"

ddrc_pipeline = dg.define_asset_job(
    PIPELINE_JOB,
    selection=dg.AssetSelection.all(),
    description="Loads every source, builds the dbt project and publishes ddrc-metrics.json.",
    tags={"ddrc/publishes": "true"},
)

hourly_pipeline = dg.ScheduleDefinition(
    name="ddrc_pipeline_hourly",
    job=ddrc_pipeline,
    cron_schedule="27 * * * *",  # production's cadence
    execution_timezone=PACIFIC,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Hourly at minute 27, Pacific time, as production has always run.",
)


def build_automation(settings: Settings) -> dict[str, Any]:
    return {"jobs": [ddrc_pipeline], "schedules": [hourly_pipeline]}
