"""When the graph runs, and how fresh each asset must be: the one place for both."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dagster as dg

from ddrc_platform.deployment import Deployment, Settings

PIPELINE_JOB = "ddrc_pipeline"
PACIFIC = "America/Los_Angeles"


def _window(warn_hours: float, fail_hours: float) -> dg.FreshnessPolicy:
    return dg.FreshnessPolicy.time_window(
        warn_window=timedelta(hours=warn_hours), fail_window=timedelta(hours=fail_hours)
    )


# Each source's own cadence, with slack for a missed night: a daily layer that has not
# loaded for a day warns, for two days fails. Airtable changes "as needed" (by hand).
DAILY = _window(26, 50)
FRESHNESS: dict[str, dg.FreshnessPolicy] = {
    "epa": DAILY,
    "usace": DAILY,
    "pasadena": DAILY,
    "malibu_fire_rebuild_points": DAILY,
    "malibu_palisades_permits_issued": DAILY,
    "malibu_overall_rebuild_stats": DAILY,
    "malibu_fire_rebuild_visit_points": DAILY,
    "airtable_metrics": _window(24 * 3, 24 * 7),
    "page_feedback": DAILY,
    # the hourly job confirms the public file every hour: 2 hours late warns, 6 fails
    "publish": _window(2, 6),
}

ddrc_pipeline = dg.define_asset_job(
    PIPELINE_JOB,
    selection=dg.AssetSelection.all(),
    description="Loads every source, builds the dbt project and publishes ddrc-metrics.json.",
    tags={"ddrc/publishes": "true"},
)


def build_automation(settings: Settings) -> dict[str, Any]:
    hourly = dg.ScheduleDefinition(
        name="ddrc_pipeline_hourly",
        job=ddrc_pipeline,
        cron_schedule="27 * * * *",  # production's cadence
        execution_timezone=PACIFIC,
        # a laptop should not start publishing by itself; dev and prd should
        default_status=dg.DefaultScheduleStatus.STOPPED
        if settings.deployment is Deployment.LOCAL
        else dg.DefaultScheduleStatus.RUNNING,
        description="Hourly at minute 27, Pacific time, as production has always run.",
    )
    return {"jobs": [ddrc_pipeline], "schedules": [hourly]}
