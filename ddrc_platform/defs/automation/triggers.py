"""When the graph runs: on change (sensors + automation), once a day (reconcile), by hand.

- A source's sensor (`ingest/signals.py`) loads it when it changed; the automation sensor
  below then runs what lies downstream (dbt models, summary, checks, publish) by each
  asset's automation condition. A cycle in which nothing changed starts no run.
- The daily reconcile runs the whole job for today's partition at 06:27 Pacific, after the
  agencies' nightly rebuilds. It earns its place three ways: it loads the sources that
  cannot tell us they changed (page feedback locally; an Airtable entry deleted without
  a newer one), it makes sure every day has its snapshot even when a signal was missed, and it
  confirms the public file once a day (freshness).
- The job `ddrc_pipeline` is also what `./ddrc run` runs: one partition per run (the
  reconcile, `./ddrc run`). It leaves out `marts/metric_history`, whose day the latest
  state's dbt invocation builds; a history range is backfilled from the history's own
  asset, one run for the range (its single-run policy).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import dagster as dg

from ddrc_platform.build import current
from ddrc_platform.core.names import (
    AUTOMATION_SENSOR,
    HISTORY_KEY,
    PACIFIC_NAME,
    PIPELINE_JOB,
    PUBLISHES_TAG,
    RECONCILE_SCHEDULE,
    pacific_date,
    partition_key,
)
from ddrc_platform.defs.incidents.asset_page import graph_keys, incident_check_keys
from ddrc_platform.settings import Settings


def pipeline_job(by_hand: Sequence[dg.AssetCheckKey]) -> dg.UnresolvedAssetJobDefinition:
    """`by_hand`: checks no pipeline run pays for (the asset pages' incident checks)."""
    return dg.define_asset_job(
        PIPELINE_JOB,
        # the history's day is built by the latest state's dbt invocation (one dbt start);
        # its own definition is for backfills
        selection=dg.AssetSelection.all()
        - dg.AssetSelection.assets(HISTORY_KEY)
        - dg.AssetSelection.checks(*by_hand),
        description="Loads every source (today's snapshot), builds the dbt project (today's "
        "history partition with it) and publishes ddrc-metrics.json.",
        tags=PUBLISHES_TAG,
    )


def reconcile_request(scheduled_at: datetime) -> dg.RunRequest:
    """The reconcile's run: the partition of the (Pacific) day it was scheduled for."""
    return dg.RunRequest(
        partition_key=partition_key(pacific_date(scheduled_at)), tags={"ddrc/trigger": "reconcile"}
    )


def build_schedule_defs(settings: Settings, by_hand: Sequence[dg.AssetCheckKey]) -> dg.Definitions:
    """The job, the daily reconcile and the automation sensor; running by themselves in
    dev/prd, and on a laptop off until turned on in the UI."""
    running = settings.reacts_by_default
    ddrc_pipeline = pipeline_job(by_hand)

    @dg.schedule(
        name=RECONCILE_SCHEDULE,
        job=ddrc_pipeline,
        cron_schedule="27 6 * * *",
        execution_timezone=PACIFIC_NAME,
        default_status=dg.DefaultScheduleStatus.RUNNING
        if running
        else dg.DefaultScheduleStatus.STOPPED,
        description="Daily at 06:27 Pacific, after the nightly rebuilds: every source's "
        "snapshot of the day, whatever the change signals said (see "
        "defs/automation/triggers.py).",
    )
    def ddrc_daily_reconcile(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        return reconcile_request(context.scheduled_execution_time)

    automation = dg.AutomationConditionSensorDefinition(
        AUTOMATION_SENSOR,
        target=dg.AssetSelection.all(),
        default_status=dg.DefaultSensorStatus.RUNNING
        if running
        else dg.DefaultSensorStatus.STOPPED,
        minimum_interval_seconds=settings.watch.automation_seconds,
        run_tags={**PUBLISHES_TAG, "ddrc/trigger": "automation"},
        emit_backfills=False,  # plain runs: what changed is small, one run per partition
        description="Runs what lies downstream of a change (dbt models, summary, checks, "
        "publish), each asset by its automation condition.",
    )
    return dg.Definitions(
        jobs=[ddrc_pipeline], schedules=[ddrc_daily_reconcile], sensors=[automation]
    )


@dg.definitions
def automation() -> dg.Definitions:
    build = current()
    return build_schedule_defs(build.settings, incident_check_keys(graph_keys(build)))
