"""A realistic day of edits, replayed against the stand-ins through the automation.

The day (issue 19, item 5): EPA edits its layer every 10 minutes in business hours
(8:00-17:00 Pacific), Pasadena hourly in business hours, USACE's four syncs a day, one
Malibu change, three Airtable entries. What it costs in dbt is set against the seed's
design: a full `dbt build` every hour.

The clock is simulated: the sensors and the automation see `now` through the
definitions' clock and `evaluation_time`, each ticks when its interval is due, and the
runs they request execute in process at that moment. Through business hours every tick
is replayed; outside them the clock jumps from one event to the next.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc

from ddrc_platform.core.names import PACIFIC

BUSINESS = (time(8), time(17))
USACE_SYNCS = (time(2, 15), time(8, 15), time(14, 15), time(20, 15))
MALIBU_CHANGE = time(11, 5)
AIRTABLE_ENTRIES = (time(9, 35), time(13, 35), time(16, 5))
RECONCILE = time(6, 27)  # the daily reconcile (defs/automation/triggers.py)
SETTLE = timedelta(minutes=8)  # outside business hours, ticks replayed after an event


@dataclass(frozen=True, order=True)
class Edit:
    at: datetime  # aware, UTC or Pacific
    source: str  # "epa", "pasadena", "usace", "malibu", "airtable"


def _at(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=PACIFIC)


def business_hours(day: date) -> tuple[datetime, datetime]:
    return _at(day, BUSINESS[0]), _at(day, BUSINESS[1])


def edit_schedule(day: date) -> list[Edit]:
    """The day's edits in time order: EPA every 10 minutes and Pasadena hourly (at :25)
    in business hours, USACE four syncs, Malibu once, three Airtable entries."""
    start, end = business_hours(day)
    epa = [Edit(start + timedelta(minutes=m), "epa") for m in range(0, _minutes(start, end), 10)]
    pasadena = [
        Edit(start + timedelta(hours=h, minutes=25), "pasadena")
        for h in range(_minutes(start, end) // 60)
    ]
    others = [Edit(_at(day, t), "usace") for t in USACE_SYNCS]
    others += [Edit(_at(day, MALIBU_CHANGE), "malibu")]
    others += [Edit(_at(day, t), "airtable") for t in AIRTABLE_ENTRIES]
    return sorted(epa + pasadena + others)


def _minutes(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() // 60)


def tick_moments(day: date, step: timedelta, events: list[datetime]) -> list[datetime]:
    """Every `step` through business hours and for `SETTLE` after each event outside them
    (the new day's first tick, the reconcile, night edits), in order, without repeats."""
    start, end = business_hours(day)
    moments = set(_steps(start, end + SETTLE, step))
    for event in events:
        first = start + step * -((start - event) // step)  # the first tick at or after it
        moments.update(_steps(first, first + SETTLE, step))
    return sorted(moments)


def _steps(start: datetime, end: datetime, step: timedelta) -> Iterator[datetime]:
    while start < end:
        yield start
        start += step


@dataclass
class Sources:
    """What the stand-ins serve, edited in place: each edit moves the source's change
    signal (an ArcGIS layer's last edit, USACE's newest row version, Malibu's payload,
    Airtable's newest modified entry) and a value the metrics read."""

    live: object  # stand_ins.sources.LiveSources
    layers: dict[str, object]  # table name -> LayerData, as served now
    malibu: dict
    airtable: list[dict]
    made: list[Edit] = field(default_factory=list)

    def apply(self, edit: Edit) -> None:
        n = len(self.made) + 1
        if edit.source in ("epa", "pasadena", "usace"):
            self._edit_layer(edit.source, n, edit.at)
        elif edit.source == "malibu":
            self._edit_malibu()
        else:
            self._edit_airtable(n, edit.at)
        self.made.append(edit)

    def _edit_layer(self, name: str, n: int, at: datetime) -> None:
        from ddrc_platform.ingest.sources.arcgis import LayerData
        from stand_ins.sources import LAYER_PATHS

        layer = self.layers[name]
        column, values = LAYER_EDITS[name]
        table = _toggled(layer.table, column, values, n)
        metadata = copy.deepcopy(layer.metadata)
        stamp = int(at.timestamp() * 1000)
        if "editingInfo" in metadata:
            metadata["editingInfo"]["lastEditDate"] = stamp
        else:  # a MapServer layer: its newest row version is its signal
            table = _stamped(table, "GDB_FROM_DATE", n, stamp)
        self.layers[name] = LayerData(metadata, table)
        self.live.arcgis.set_layer(LAYER_PATHS[name], self.layers[name])

    def _edit_malibu(self) -> None:
        points = self.malibu["FireRebuildPoints"]
        changed = next(p for p in points if p["type"] == "InPlanning")
        changed["type"] = "PermitIssued"
        self.live.malibu.set_endpoints(self.malibu)

    def _edit_airtable(self, n: int, at: datetime) -> None:
        record = self.airtable[n % len(self.airtable)]
        record["fields"]["Metric"] = record["fields"]["Metric"] + 1
        stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        record["fields"]["Date Metric Modified"] = stamp
        self.live.airtable.set_records(self.airtable)


# the value an edit moves, between two values the source already serves
LAYER_EDITS = {
    "epa": ("PublicStatus", ("Phase 1 In Progress", "Phase 1 Complete")),
    "pasadena": ("PERMIT_STATUS", ("In Review", "Issued")),
    "usace": ("roe_status", ("in_review", "approved")),
}


def _row(table: pa.Table, n: int) -> int:
    return (n * 7919) % table.num_rows


def _toggled(table: pa.Table, column: str, values: tuple[str, str], n: int) -> pa.Table:
    """Row `n`'s `column` moved to the other of `values`."""
    position = table.schema.get_field_index(column)
    cells = table[column].to_pylist()
    row = _row(table, n)
    cells[row] = values[1] if cells[row] == values[0] else values[0]
    return table.set_column(position, column, pa.array(cells, table[column].type))


def _stamped(table: pa.Table, column: str, n: int, stamp_ms: int) -> pa.Table:
    """Row `n`'s `column` (epoch milliseconds) set past the newest: a new row version."""
    position = table.schema.get_field_index(column)
    cells = table[column].to_pylist()
    cells[_row(table, n)] = max(stamp_ms, (pc.max(table[column]).as_py() or 0) + 1)
    return table.set_column(position, column, pa.array(cells, table[column].type))


@dataclass
class Tally:
    """What the day cost: runs, dbt invocations and seconds, events, and when it published."""

    runs: dict[str, int] = field(default_factory=dict)  # by kind: load, downstream, reconcile
    dbt_seconds: list[float] = field(default_factory=list)  # one per dbt invocation
    events: int = 0
    published: list[datetime] = field(default_factory=list)
    by_hour: dict[int, dict[str, float]] = field(default_factory=dict)

    def add(self, kind: str, at: datetime, steps: dict[str, float], events: int, key: str) -> None:
        self.runs[kind] = self.runs.get(kind, 0) + 1
        dbt = [seconds for step, seconds in steps.items() if step.startswith("ddrc_dbt")]
        self.dbt_seconds += dbt
        self.events += events
        if key in steps:
            self.published.append(at)
        hour = self.by_hour.setdefault(
            at.astimezone(PACIFIC).hour, {"runs": 0, "dbt_invocations": 0, "dbt_seconds": 0.0}
        )
        hour["runs"] += 1
        hour["dbt_invocations"] += len(dbt)
        hour["dbt_seconds"] += sum(dbt)


def publish_delays(edits: list[Edit], published: list[datetime]) -> list[float | None]:
    """For each edit, the seconds until the public file was next published (None: never)."""
    delays: list[float | None] = []
    for edit in edits:
        after = [p for p in published if p >= edit.at]
        delays.append((min(after) - edit.at).total_seconds() if after else None)
    return delays


class Replay:
    """The daemon's part, on the simulated clock `now`: each sensor ticks when due and the
    runs it requests execute in process at that moment (one run per partition, as the
    automation sensor asks for them with `emit_backfills=False`)."""

    def __init__(self, defs: dg.Definitions, instance: dg.DagsterInstance, settings, now: list):
        from ddrc_platform.core.names import WATCH_SENSOR

        self.defs, self.instance, self.now = defs, instance, now
        self.job = defs.resolve_implicit_global_asset_job_def()
        self.watchers = [s for s in defs.sensors if s.name == WATCH_SENSOR]
        self.cursors: dict[str, str | None] = {}
        self.automation_cursor = None
        self.due = {"watch": now[0], "automation": now[0]}
        self.intervals = {
            "watch": timedelta(seconds=settings.watch.watch_seconds),
            "automation": timedelta(seconds=settings.watch.automation_seconds),
        }
        self.tally = Tally()

    def execute(
        self, kind: str, keys, partition: str | None, tags: dict | None = None, job=None
    ) -> None:
        from bench.measure import step_seconds
        from ddrc_platform.core.names import PUBLISH_KEY

        result = (job or self.job).execute_in_process(
            instance=self.instance, partition_key=partition, asset_selection=keys, tags=tags
        )
        publish = "__".join(PUBLISH_KEY.path)
        self.tally.add(kind, self.now[0], step_seconds(result), len(result.all_events), publish)

    def bootstrap(self) -> None:
        """The home of the day before, built as the daemon builds an empty one: every
        source loads, then the automation runs until it asks for nothing; then a new tally."""
        self.watch()
        for _ in range(8):  # bounded: a wave that keeps requesting is a finding, not a hang
            if not self.automate():
                break
        self.tally = Tally()

    def reconcile(self, partition: str) -> None:
        from ddrc_platform.core.names import PIPELINE_JOB

        job = self.defs.resolve_job_def(PIPELINE_JOB)
        self.execute("reconcile", None, partition, {"ddrc/trigger": "reconcile"}, job)

    def tick(self) -> None:
        """The sensors that are due at `now`: the watch sensors, then the automation."""
        for sensor, run in (("watch", self.watch), ("automation", self.automate)):
            if self.now[0] >= self.due[sensor]:
                run()
                self.due[sensor] = self.now[0] + self.intervals[sensor]

    def watch(self) -> None:
        for sensor in self.watchers:
            context = dg.build_sensor_context(
                instance=self.instance, cursor=self.cursors.get(sensor.name), definitions=self.defs
            )
            data = sensor.evaluate_tick(context)
            self.cursors[sensor.name] = data.cursor
            for request in data.run_requests or []:
                tags = {**request.tags, "dagster/sensor_name": sensor.name}
                self.execute("load", request.asset_selection, request.partition_key, tags)

    def automate(self) -> int:
        """One automation tick and its runs; returns how many runs it requested."""
        result = dg.evaluate_automation_conditions(
            defs=self.defs,
            instance=self.instance,
            cursor=self.automation_cursor,
            evaluation_time=self.now[0],
        )
        self.automation_cursor = result.cursor
        requested = {
            r.key: result.get_requested_partitions(r.key)
            for r in result.results
            if isinstance(r.key, dg.AssetKey) and r.true_subset.size
        }
        runs = runs_by_partition(requested)
        for partition, keys in runs.items():
            self.execute("downstream", keys, partition)
        return len(runs)


def runs_by_partition(requested: dict) -> dict[str | None, list]:
    """One run per requested partition; unpartitioned assets join the run of the only
    partition when there is one (as Dagster groups a tick's requests), else run alone."""
    runs: dict[str | None, list] = {}
    for key, partitions in requested.items():
        for partition in partitions:
            runs.setdefault(partition, []).append(key)
    partitioned = [p for p in runs if p is not None]
    if None in runs and len(partitioned) == 1:
        runs[partitioned[0]] += runs.pop(None)
    return runs
