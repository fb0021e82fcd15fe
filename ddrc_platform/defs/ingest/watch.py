"""One sensor reads every watched source's change signal and loads what moved in one run.

The sensor body only translates: each signal is read and each load decided in
`ingest/signals.py` (`load_on_change`, from this sensor's earlier runs: a failed load is
retried with backoff until the source answers; why a run key and not a retry policy: see
there), and the loads due at one tick are gathered into one run there (`burst`).
"""

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import dagster as dg

from ddrc_platform.build import current
from ddrc_platform.core.catalog import RawTable
from ddrc_platform.core.names import WATCH_SENSOR, pacific_date, utc_now
from ddrc_platform.ingest.signals import (
    Attempt,
    Load,
    burst,
    load_on_change,
    read_signature,
    watched_tables,
)
from ddrc_platform.settings import Settings

CHANGES_TAG = "ddrc/changes"  # {source: the change its load was for}: attempts count by it
SOURCES_TAG = "ddrc/sources"  # the sources a run loads, space-separated (runs list filter)
RECENT_ATTEMPTS = 50  # enough to count a day's retries at the capped backoff


def _materialized(instance: dg.DagsterInstance, run_id: str) -> set[dg.AssetKey]:
    return {
        entry.dagster_event.asset_key
        for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        if entry.dagster_event and entry.dagster_event.asset_key
    }


def attempts(instance: dg.DagsterInstance, tables: Sequence[RawTable]) -> dict[str, list[Attempt]]:
    """Each source's recent loads by this sensor, oldest first. In a failed run, only the
    sources whose asset did not materialize failed (the others loaded)."""
    records = instance.get_run_records(
        filters=dg.RunsFilter(tags={"dagster/sensor_name": WATCH_SENSOR}), limit=RECENT_ATTEMPTS
    )
    keys = {t.name: t.asset_key for t in tables}
    found: dict[str, list[Attempt]] = {name: [] for name in keys}
    for record in reversed(records):
        run = record.dagster_run
        loaded = _materialized(instance, run.run_id) if run.is_failure else None
        ended = datetime.fromtimestamp(record.end_time, UTC) if run.is_finished else None
        for name, change in json.loads(run.tags.get(CHANGES_TAG, "{}")).items():
            if name in found:
                failed = loaded is not None and keys[name] not in loaded
                found[name].append(Attempt(change=change, failed=failed, ended=ended))
    return found


def build_watch_sensor(
    tables: Sequence[RawTable], settings: Settings, clock: Callable[[], datetime] = utc_now
) -> dg.SensorDefinition:
    by_name = {t.name: t for t in tables}

    @dg.sensor(
        name=WATCH_SENSOR,
        asset_selection=[t.asset_key for t in tables],
        minimum_interval_seconds=settings.watch.watch_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING
        if settings.reacts_by_default
        else dg.DefaultSensorStatus.STOPPED,
        description="Reads every source's change signal (see "
        "`ddrc_platform/ingest/signals.py`) and loads the sources that moved, together in one "
        "run; what lies downstream follows by automation.",
    )
    def watch(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        now = clock()
        cursors = json.loads(context.cursor or "{}")
        earlier = attempts(context.instance, tables)
        seen: dict[str, str] = {}
        loads: dict[str, Load] = {}
        for name, table in by_name.items():
            seen[name], error = read_signature(table, settings, now)
            if error is not None:
                context.log.warning(f"{name}: change signal unreadable: {error}")
            load = load_on_change(
                table, pacific_date(now), seen[name], cursors.get(name), earlier[name], now
            )
            if load is not None:
                loads[name] = load
                cursors[name] = load.cursor
        context.update_cursor(json.dumps(cursors, sort_keys=True))
        run = burst(loads, earlier)
        if run is None:
            return dg.SkipReason("unchanged: " + ", ".join(f"{n} {s}" for n, s in seen.items()))
        return dg.RunRequest(
            run_key=run.run_key,
            partition_key=run.partition_key,
            asset_selection=[by_name[name].asset_key for name in run.sources],
            tags={
                "ddrc/trigger": "change",
                SOURCES_TAG: " ".join(run.sources),
                CHANGES_TAG: json.dumps(run.changes, sort_keys=True),
            },
        )

    return watch


@dg.definitions
def watch() -> dg.Definitions:
    build = current()
    return dg.Definitions(
        sensors=[build_watch_sensor(watched_tables(build.settings), build.settings, build.clock)]
    )
