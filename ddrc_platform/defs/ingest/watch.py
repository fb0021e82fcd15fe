"""A sensor per watched source: it loads the source when its change signal moves.

The sensor body only translates: the signal is read and the run decided in
`ingest/signals.py`, from this sensor's earlier runs (a failed load is retried with
backoff until the source answers; why a run key and not a retry policy: see there).
"""

from collections.abc import Callable
from datetime import UTC, datetime

import dagster as dg

from ddrc_platform.build import current
from ddrc_platform.core.catalog import RawTable
from ddrc_platform.core.names import WATCH_SENSOR_PREFIX, pacific_date, utc_now
from ddrc_platform.ingest.signals import (
    Attempt,
    load_on_change,
    read_signature,
    watched_tables,
)
from ddrc_platform.settings import Settings

CHANGE_TAG = "ddrc/change"  # the change a load was for: its attempts are counted by it
RECENT_ATTEMPTS = 50  # enough to count a day's retries at the capped backoff


def attempts(instance: dg.DagsterInstance, sensor_name: str) -> list[Attempt]:
    """This sensor's recent runs, oldest first, as the attempts the decision counts."""
    records = instance.get_run_records(
        filters=dg.RunsFilter(tags={"dagster/sensor_name": sensor_name}), limit=RECENT_ATTEMPTS
    )
    return [
        Attempt(
            change=r.dagster_run.tags.get(CHANGE_TAG, ""),
            failed=r.dagster_run.status is dg.DagsterRunStatus.FAILURE,
            ended=datetime.fromtimestamp(r.end_time, UTC)
            if r.end_time is not None and r.dagster_run.is_finished
            else None,
        )
        for r in reversed(records)
    ]


def build_watch_sensor(
    table: RawTable, settings: Settings, clock: Callable[[], datetime] = utc_now
) -> dg.SensorDefinition:
    @dg.sensor(
        name=WATCH_SENSOR_PREFIX + table.name,
        asset_selection=[table.asset_key],
        minimum_interval_seconds=settings.watch.watch_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING
        if settings.reacts_by_default
        else dg.DefaultSensorStatus.STOPPED,
        description=f"Loads {table.title} when its change signal moves (see "
        "`ddrc_platform/ingest/signals.py`); what lies downstream follows by automation.",
    )
    def watch(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        now = clock()
        seen, error = read_signature(table, settings, now)
        if error is not None:
            context.log.warning(f"{table.name}: change signal unreadable: {error}")
        earlier = attempts(context.instance, WATCH_SENSOR_PREFIX + table.name)
        load = load_on_change(table, pacific_date(now), seen, context.cursor, earlier, now)
        if load is None:
            return dg.SkipReason(f"unchanged: {seen}")
        context.update_cursor(load.cursor)
        return dg.RunRequest(
            run_key=load.run_key,
            partition_key=load.partition_key,
            tags={"ddrc/trigger": "change", "ddrc/source": table.name, CHANGE_TAG: load.change},
        )

    return watch


def build_watch_sensors(
    settings: Settings, clock: Callable[[], datetime] = utc_now
) -> list[dg.SensorDefinition]:
    return [build_watch_sensor(t, settings, clock) for t in watched_tables(settings)]


@dg.definitions
def watch() -> dg.Definitions:
    build = current()
    return dg.Definitions(sensors=build_watch_sensors(build.settings, build.clock))
