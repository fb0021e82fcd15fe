"""Names every stage shares: asset keys, groups, owners, check names, time (Snowflake's
objects: `core/snowflake_names.py`).

Each is defined here once, so a key used by the publisher, the sensor and the runbooks
cannot drift apart.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import dagster as dg

SUMMARY_KEY = dg.AssetKey(["summary", "ddrc_metrics_summary"])
PUBLISH_KEY = dg.AssetKey(["publish", "ddrc_metrics_json"])
HISTORY_MODEL = "metric_history"  # the daily-partitioned dbt model
HISTORY_KEY = dg.AssetKey(["marts", HISTORY_MODEL])
# the history's one parent: a build of it builds today's history in the same dbt invocation
HISTORY_PARENT = dg.AssetKey(["intermediate", "int_pipeline__metrics_by_load_date"])
PARTITION_TAG = "dagster/partition"  # the tag Dagster gives a run of one partition

OWNERS = ["team:ddrc-data-engineering"]
INGESTION_GROUP = "ingestion"
TRANSFORM_GROUP = "transform"
PUBLISH_GROUP = "publish"
PUBLISH_POOL = "ddrc_publish"

SCHEMA_CONTRACT_CHECK = "schema_contract"
JUMP_CHECK = "no_unacknowledged_jumps"
VERIFY_CHECK = "published_file_matches_summary"
GATE_CHECK = "blocking_checks_passed"

PIPELINE_JOB = "ddrc_pipeline"
RECONCILE_SCHEDULE = "ddrc_daily_reconcile"
# one run that may publish at a time (the instances' tag concurrency limit)
PUBLISHES_TAG = {"ddrc/publishes": "true"}
ROLLBACK_JOB = "ddrc_rollback"
INCIDENT_SENSOR = "ddrc_incidents"
AUTOMATION_SENSOR = "ddrc_automation"
WATCH_SENSOR_PREFIX = "watch_"  # the sensors that read change signals
WATCH_SENSOR = WATCH_SENSOR_PREFIX + "sources"  # every source our loaders read

PACIFIC_NAME = "America/Los_Angeles"
PACIFIC = ZoneInfo(PACIFIC_NAME)


# The first day a dated snapshot exists for: the day after the fires broke out (also the
# sample data's day zero).
FIRST_LOAD_DATE = date(2025, 1, 8)


def daily_partitions(start: date) -> dg.DailyPartitionsDefinition:
    """One partition per Pacific day from `start`, the `_LOAD_DATE` of a snapshot.

    `end_offset=1` makes today's partition exist while the day is still running (a load
    belongs to its day). The start is the deployment's (`partitions.first_partition_day`).
    """
    return dg.DailyPartitionsDefinition(
        start_date=start.isoformat(), timezone=PACIFIC_NAME, end_offset=1
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


def pacific_date(moment: datetime) -> date:
    """The day a load belongs to: the team and the agencies work on Pacific time."""
    return moment.astimezone(PACIFIC).date()


def partition_key(day: date) -> str:
    """The daily partition key of a load date."""
    return day.isoformat()
