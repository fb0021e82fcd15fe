"""A sensor per watched source: it loads the source when its change signal moves.

The sensor body only translates: the signal is read and the run decided in
`ingest/signals.py`.
"""

from collections.abc import Callable
from datetime import datetime

import dagster as dg

from ddrc_platform.build import current
from ddrc_platform.core.catalog import RawTable
from ddrc_platform.core.names import WATCH_SENSOR_PREFIX, pacific_date, utc_now
from ddrc_platform.ingest.signals import load_on_change, read_signature, watched_tables
from ddrc_platform.settings import Settings


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
        load = load_on_change(table, pacific_date(now), seen, context.cursor)
        if load is None:
            return dg.SkipReason(f"unchanged: {seen}")
        context.update_cursor(load.cursor)
        return dg.RunRequest(
            run_key=load.run_key,
            partition_key=load.partition_key,
            tags={"ddrc/trigger": "change", "ddrc/source": table.name},
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
