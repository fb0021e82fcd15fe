"""Change signals and the sensors that load a changed source: cheap, once per change, and
honest about a source that cannot be read. Against the stand-ins (live) and sample data."""

from __future__ import annotations

import copy
import datetime as dt

import dagster as dg
import pytest

from ddrc_platform.core import catalog
from ddrc_platform.core.names import pacific_date
from ddrc_platform.defs.ingest.raw import build_raw_asset
from ddrc_platform.defs.ingest.watch import attempts, build_watch_sensor
from ddrc_platform.ingest import sample
from ddrc_platform.ingest.signals import (
    RETRY_CAP,
    RETRY_FIRST,
    UNREADABLE,
    Attempt,
    Load,
    burst,
    load_on_change,
    retry_delay,
    signature,
    watched_tables,
)
from ddrc_platform.ingest.sources.arcgis import LayerData
from ddrc_platform.warehouse.duckdb import DuckDBWarehouse
from stand_ins.base import Fault
from stand_ins.sources import LAYER_PATHS, serve_sample_sources

NOW = dt.datetime(2025, 6, 2, 19, 30, tzinfo=dt.UTC)
DAY = dt.date(2025, 6, 2)
SCALE = 0.05


def tick(sensor: dg.SensorDefinition, cursor: str | None, settings):
    """One evaluation of EPA's sensor, in definitions that hold the loader it targets."""
    defs = dg.Definitions(
        assets=[build_raw_asset(catalog.EPA, settings, "duckdb")],
        sensors=[sensor],
        resources={"warehouse": DuckDBWarehouse(path=str(settings.warehouse_path))},
    )
    instance = dg.DagsterInstance.ephemeral()
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
    return sensor.evaluate_tick(context)


@pytest.fixture
def live(make_settings):
    """Live settings whose partitions start a month before DAY: its past days are in range."""
    with serve_sample_sources(day=DAY, scale=SCALE) as sources:
        env = {**sources.env, "DDRC_SAMPLE_SCALE": str(SCALE), "DDRC_LIVE_SINCE": "2025-05-01"}
        yield sources, make_settings(**env)


def test_a_sensor_loads_once_per_change_and_once_per_day(make_settings):
    settings = make_settings(DDRC_SAMPLE_SCALE=str(SCALE))
    now = [NOW]
    sensor = build_watch_sensor((catalog.EPA,), settings, clock=lambda: now[0])
    first = tick(sensor, None, settings)
    (request,) = first.run_requests
    assert request.partition_key == "2025-06-02"
    assert request.asset_selection == [catalog.EPA.asset_key]
    again = tick(sensor, first.cursor, settings)
    assert again.run_requests == [] and "unchanged" in again.skip_message
    now[0] = NOW + dt.timedelta(days=1)  # a new day: the layer's nightly rebuild
    (tomorrow,) = tick(sensor, first.cursor, settings).run_requests
    assert tomorrow.partition_key == "2025-06-03"
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED  # locally: off until turned on


def test_a_first_tick_loads_every_source_in_one_run(make_settings):
    """A deployment's first tick (an empty home): one load run, not one per source."""
    settings = make_settings(DDRC_SAMPLE_SCALE=str(SCALE))
    tables = watched_tables(settings)
    sensor = build_watch_sensor(tables, settings, clock=lambda: NOW)
    defs = dg.Definitions(
        assets=[build_raw_asset(t, settings, "duckdb") for t in tables],
        resources={"warehouse": DuckDBWarehouse(path=str(settings.warehouse_path))},
    )
    instance = dg.DagsterInstance.ephemeral()
    context = dg.build_sensor_context(instance=instance, cursor=None, definitions=defs)
    (request,) = sensor.evaluate_tick(context).run_requests
    assert set(request.asset_selection) == {t.asset_key for t in tables}
    assert request.partition_key == "2025-06-02"
    assert request.tags["ddrc/sources"].split() == sorted(t.name for t in tables)


def test_live_signals_move_with_the_source_and_only_then(live):
    sources, settings = live
    epa = signature(catalog.EPA, settings, NOW)
    assert epa.startswith("edited 2025-06-02")
    usace = signature(catalog.USACE, settings, NOW)
    assert usace.startswith("count ") and ", newest GDB_FROM_DATE " in usace  # no edit time
    points = signature(catalog.MALIBU_FIRE_REBUILD_POINTS, settings, NOW)
    airtable = signature(catalog.AIRTABLE_METRICS, settings, NOW)
    assert signature(catalog.EPA, settings, NOW) == epa  # unchanged: the same signature

    layer = sample.arcgis_layer("epa", scale=SCALE, day=DAY)
    metadata = copy.deepcopy(layer.metadata)
    metadata["editingInfo"]["lastEditDate"] += 60_000
    sources.arcgis.set_layer(LAYER_PATHS["epa"], LayerData(metadata, layer.table))
    assert signature(catalog.EPA, settings, NOW) != epa

    endpoints = sample.malibu_endpoints(scale=SCALE, day=DAY)
    endpoints["FireRebuildPoints"][0]["type"] = "PermitIssued"
    sources.malibu.set_endpoints(endpoints)
    assert signature(catalog.MALIBU_FIRE_REBUILD_POINTS, settings, NOW) != points

    records = sample.airtable_records(scale=SCALE, day=DAY)
    newest = copy.deepcopy(records[0])
    newest["id"] = "recNEWENTRY000001"
    newest["fields"]["Date Created"] = "2099-01-01T00:00:00.000Z"
    sources.airtable.set_records([*records, newest])
    assert signature(catalog.AIRTABLE_METRICS, settings, NOW) != airtable


def test_a_layer_without_edit_time_signals_an_edit_that_keeps_the_count(live):
    """USACE's MapServer reports no `editingInfo`: an edited parcel keeps the count but adds
    a newer row version (GDB_FROM_DATE); the field's case has changed between deliveries."""
    sources, settings = live
    before = signature(catalog.USACE, settings, NOW)
    layer = sample.arcgis_layer("usace", scale=SCALE, day=DAY)
    column = layer.table.schema.get_field_index("GDB_FROM_DATE")
    stamps = layer.table["GDB_FROM_DATE"].to_pylist()
    stamps[0] = max(s for s in stamps if s is not None) + 60_000  # one parcel edited
    edited = layer.table.set_column(column, "gdb_from_date", [stamps])
    metadata = copy.deepcopy(layer.metadata)
    for field in metadata["fields"]:
        if field["name"] == "GDB_FROM_DATE":
            field["name"] = "gdb_from_date"
    sources.arcgis.set_layer(LAYER_PATHS["usace"], LayerData(metadata, edited))
    after = signature(catalog.USACE, settings, NOW)
    assert after.split(",")[0] == before.split(",")[0]  # the same count
    assert after != before and ", newest gdb_from_date " in after


def test_an_unreadable_signal_still_loads_once_so_the_failure_is_seen(live):
    sources, settings = live
    sources.arcgis.fail_always(LAYER_PATHS["epa"], Fault.status(503, "Service Unavailable"))
    sensor = build_watch_sensor((catalog.EPA,), settings, clock=lambda: NOW)
    first = tick(sensor, None, settings)
    (request,) = first.run_requests
    assert "unreadable" in request.run_key
    assert tick(sensor, first.cursor, settings).run_requests == []  # not again until it answers


def test_a_past_raw_partition_fails_at_once_in_live_mode(live, tmp_path):
    sources, settings = live
    asset = build_raw_asset(catalog.EPA, settings, "duckdb", clock=lambda: NOW)
    served = len(sources.arcgis.requests_to(LAYER_PATHS["epa"]))
    result = dg.materialize(
        [asset],
        partition_key="2025-06-01",
        resources={"warehouse": DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.user_failure_data.description
    assert "cannot load the past day 2025-06-01 from the live source" in message
    assert "DDRC_SOURCES=sample" in message
    assert len(sources.arcgis.requests_to(LAYER_PATHS["epa"])) == served  # no request made


# -- recovery: a failed load is retried with backoff until the source answers ---------------

KEY = "2025-06-02 edited x"


def failed_at(minutes: int, change: str = KEY) -> Attempt:
    return Attempt(change, failed=True, ended=NOW + dt.timedelta(minutes=minutes))


def test_a_failed_load_is_retried_after_a_backoff_that_doubles_up_to_a_cap():
    assert [retry_delay(n) for n in (1, 2, 3)] == [RETRY_FIRST, RETRY_FIRST * 2, RETRY_FIRST * 4]
    assert retry_delay(30) == RETRY_CAP
    tries = [failed_at(0)]
    assert load_on_change(catalog.EPA, DAY, "edited x", KEY, tries, NOW) is None
    early = NOW + RETRY_FIRST - dt.timedelta(seconds=1)
    assert load_on_change(catalog.EPA, DAY, "edited x", KEY, tries, early) is None
    retry = load_on_change(catalog.EPA, DAY, "edited x", KEY, tries, NOW + RETRY_FIRST)
    assert retry is not None
    assert retry.run_key == "epa 2025-06-02 edited x (attempt 2)"  # a key the failure left free
    assert (retry.cursor, retry.partition_key) == (KEY, "2025-06-02")
    twice = [failed_at(0), failed_at(5)]
    second = NOW + dt.timedelta(minutes=5) + RETRY_FIRST
    assert load_on_change(catalog.EPA, DAY, "edited x", KEY, twice, second) is None
    third = load_on_change(catalog.EPA, DAY, "edited x", KEY, twice, second + RETRY_FIRST)
    assert third is not None and third.run_key.endswith("(attempt 3)")


def test_a_load_that_succeeded_or_still_runs_is_not_retried():
    later = NOW + dt.timedelta(hours=5)
    for last in (Attempt(KEY, failed=False, ended=NOW), Attempt(KEY, failed=False, ended=None)):
        tries = [failed_at(-9), last]
        assert load_on_change(catalog.EPA, DAY, "edited x", KEY, tries, later) is None
    other = [failed_at(0, change="2025-06-02 edited y")]  # another change's failure
    assert load_on_change(catalog.EPA, DAY, "edited x", KEY, other, later) is None


def test_a_signature_back_after_an_outage_loads_again_under_its_next_number():
    """Loaded, then unreadable (that load failed), then the same signature: the daemon has
    seen `epa 2025-06-02 edited x`, so the reload needs the next attempt's key."""
    tries = [
        Attempt(KEY, failed=False, ended=NOW),
        failed_at(60, change=f"2025-06-02 {UNREADABLE}"),
    ]
    back = load_on_change(catalog.EPA, DAY, "edited x", f"2025-06-02 {UNREADABLE}", tries, NOW)
    assert back is not None and back.run_key == "epa 2025-06-02 edited x (attempt 2)"
    running = [*tries, Attempt(KEY, failed=False, ended=None)]
    lost = load_on_change(catalog.EPA, DAY, "edited x", f"2025-06-02 {UNREADABLE}", running, NOW)
    assert lost is not None and lost.run_key == back.run_key  # a lost cursor: the same key


def test_a_load_that_failed_is_retried_by_the_sensor_until_the_source_answers(live, tmp_path):
    """Issue 18: the signals read, EPA's load fails (503 on the layer's query) in the run it
    shares with Pasadena's; only EPA's attempt is spent, so only EPA is retried after the
    backoff, under the next attempt's key."""
    sources, settings = live
    sources.arcgis.fail_always(f"{LAYER_PATHS['epa']}/query", Fault.status(503, "Unavailable"))
    clock = [dt.datetime.now(dt.UTC)]
    tables = (catalog.EPA, catalog.PASADENA)
    sensor = build_watch_sensor(tables, settings, clock=lambda: clock[0])
    assets = [build_raw_asset(t, settings, "duckdb", clock=lambda: clock[0]) for t in tables]
    warehouse = DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))
    defs = dg.Definitions(assets=assets, sensors=[sensor], resources={"warehouse": warehouse})
    instance = dg.DagsterInstance.ephemeral()

    def run(cursor: str | None) -> tuple[str | None, list[dg.AssetKey], bool | None]:
        context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
        result = sensor.evaluate_tick(context)
        if not result.run_requests:
            return result.cursor or cursor, [], None
        (request,) = result.run_requests  # every source due at this tick: one run
        tags = {
            **request.tags,
            "dagster/sensor_name": sensor.name,
            "dagster/run_key": request.run_key,
        }
        done = dg.materialize(
            assets,
            selection=request.asset_selection,
            partition_key=request.partition_key,
            resources={"warehouse": warehouse},
            instance=instance,
            tags=tags,
            raise_on_error=False,
        )
        return result.cursor, list(request.asset_selection), done.success

    cursor, loaded, ok = run(None)
    assert set(loaded) == {catalog.EPA.asset_key, catalog.PASADENA.asset_key} and ok is False
    counted = attempts(instance, tables)
    assert [a.failed for a in counted["epa"]] == [True]
    assert [a.failed for a in counted["pasadena"]] == [False]  # it loaded in the failed run
    assert run(cursor)[2] is None  # within the backoff: not again yet
    sources.arcgis.heal()
    clock[0] = dt.datetime.now(dt.UTC) + RETRY_FIRST  # the runs end on the real clock
    cursor, loaded, ok = run(cursor)
    assert loaded == [catalog.EPA.asset_key] and ok is True  # only EPA, under a fresh key
    (last,) = instance.get_run_records(limit=1)
    assert last.dagster_run.tags["dagster/run_key"].endswith("(attempt 2)")
    # loaded: past any backoff, nothing is retried. The tick is only evaluated: past
    # midnight in California (this clock runs ahead of the real one) the new day's loads
    # are due, for a partition Dagster does not know yet on the real clock
    retried_on = pacific_date(clock[0])
    clock[0] += RETRY_CAP + dt.timedelta(minutes=1)
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
    requests = sensor.evaluate_tick(context).run_requests
    assert not [r.run_key for r in requests if "(attempt" in (r.run_key or "")]
    if pacific_date(clock[0]) == retried_on:
        assert requests == []


def test_the_loads_due_at_one_tick_make_one_run_without_what_already_runs():
    epa = Load(
        "2025-06-02 edited a", "epa 2025-06-02 edited a", "2025-06-02", "2025-06-02 edited a"
    )
    airtable = Load("n@1", "airtable_metrics n@1", None, "n@1")
    usace = Load(
        "2025-06-02 count 3", "usace 2025-06-02 count 3", "2025-06-02", "2025-06-02 count 3"
    )
    running = {"usace": [Attempt("2025-06-02 count 3", failed=False, ended=None)]}
    run = burst({"usace": usace, "epa": epa, "airtable_metrics": airtable}, running)
    assert run is not None
    assert run.sources == ("airtable_metrics", "epa")  # USACE's load of it already runs
    assert run.run_key == "airtable_metrics n@1; epa 2025-06-02 edited a"
    assert run.partition_key == "2025-06-02"  # the snapshots' day; Airtable is unpartitioned
    assert run.changes == {"airtable_metrics": "n@1", "epa": "2025-06-02 edited a"}
    assert burst({"usace": usace}, running) is None
    only_current = burst({"airtable_metrics": airtable}, {})
    assert only_current is not None and only_current.partition_key is None
