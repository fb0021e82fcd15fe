"""What a load and a change signal decide, tested as plain functions: no Dagster run.

The loader asset and the watch sensors (`ddrc_platform/defs/ingest/`) only translate these
decisions; `test_ingestion.py` and `test_signals.py` prove that wiring end to end.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pyarrow as pa
import pytest

from ddrc_platform.core import catalog
from ddrc_platform.ingest import signals
from ddrc_platform.ingest.delivery import DeliveryRefusedError, decide_delivery
from ddrc_platform.ingest.fetch import Fetched
from ddrc_platform.ingest.load import (
    PastDayRefusedError,
    describe,
    keep,
    load_day,
    loaded_here,
    receive,
    snapshot_digest,
    source_kind,
    with_snapshot_columns,
)
from ddrc_platform.ingest.signals import (
    UNREADABLE,
    arcgis_signature,
    edit_field_name,
    load_on_change,
    read_signature,
    watched_tables,
)
from ddrc_platform.ingest.sources.http import SourceError
from ddrc_platform.settings import FivetranSettings, Secret, SourceMode
from ddrc_platform.warehouse.duckdb import DuckDBWarehouse

NOW = dt.datetime(2025, 6, 3, 5, 30, tzinfo=dt.UTC)  # 22:30 Pacific on June 2
DAY = dt.date(2025, 6, 2)
EDITED = dt.datetime(2025, 6, 2, 12, 0, tzinfo=dt.UTC)


def with_fivetran(settings):
    fivetran = FivetranSettings("acct", Secret("K", "k", True), Secret("S", "s", True))
    return dataclasses.replace(settings, fivetran=fivetran)


# -- which day a load is the snapshot of ------------------------------------------------------
def test_without_a_partition_the_load_is_of_today_in_pacific_time():
    assert load_day(catalog.EPA, None, SourceMode.LIVE, NOW) == DAY


def test_a_past_day_loads_from_sample_data_but_is_refused_from_a_live_source():
    assert load_day(catalog.EPA, "2025-05-01", SourceMode.SAMPLE, NOW) == dt.date(2025, 5, 1)
    assert load_day(catalog.EPA, "2025-06-02", SourceMode.LIVE, NOW) == DAY
    with pytest.raises(PastDayRefusedError) as refused:
        load_day(catalog.EPA, "2025-06-01", SourceMode.LIVE, NOW)
    assert "cannot load the past day 2025-06-01 from the live source" in str(refused.value)
    assert "today's partition is 2025-06-02" in str(refused.value)
    assert "DDRC_SOURCES=sample" in str(refused.value)


# -- what the loader shows --------------------------------------------------------------------
def test_sample_data_is_shown_as_made_by_python_and_a_live_source_by_its_kind():
    assert source_kind(catalog.EPA, SourceMode.SAMPLE) == "python"
    assert source_kind(catalog.EPA, SourceMode.LIVE) == "arcgis"
    assert "built-in sample data" in describe(catalog.EPA, SourceMode.SAMPLE)
    live = describe(catalog.EPA, SourceMode.LIVE)
    assert f"[the live source]({catalog.EPA.source_url})" in live
    assert "Dated snapshots" in live
    feedback = describe(catalog.PAGE_FEEDBACK, SourceMode.LIVE)  # no public endpoint
    assert "built-in sample data" in feedback and "Current state keyed by record id" in feedback


# -- which tables our loaders land and which our sensors watch --------------------------------
def test_fivetran_takes_its_tables_off_our_loaders_and_sensors(make_settings):
    local = make_settings()
    assert loaded_here(local) == catalog.RAW_TABLES
    assert catalog.AIRTABLE_METRICS in watched_tables(local)
    assert catalog.PAGE_FEEDBACK not in watched_tables(local)  # no signal: the reconcile loads it
    deployed = with_fivetran(local)
    assert set(loaded_here(deployed)) == set(catalog.RAW_TABLES) - set(catalog.FIVETRAN_TABLES)
    assert not set(watched_tables(deployed)) & set(catalog.FIVETRAN_TABLES)


# -- what a delivery decides ------------------------------------------------------------------
def test_an_empty_or_collapsed_delivery_is_refused_unless_acknowledged():
    with pytest.raises(DeliveryRefusedError, match="delivered no rows"):
        decide_delivery(catalog.EPA, 0, 100, {})
    with pytest.raises(DeliveryRefusedError, match="more than its limit of 20%"):
        decide_delivery(catalog.EPA, 79, 100, {})
    decide_delivery(catalog.EPA, 80, 100, {})  # within EPA's limit
    decide_delivery(catalog.EPA, 0, 100, {"epa": {0}})  # a reviewed acknowledgement
    decide_delivery(catalog.EPA, 5, None, {})  # nothing kept yet: nothing to shrink from


def test_a_delivery_is_received_with_its_contract_report(make_settings, tmp_path):
    settings = make_settings(DDRC_SAMPLE_SCALE="0.05")
    warehouse = DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))
    delivery = receive(catalog.USACE, settings, warehouse, DAY, NOW)
    assert delivery.fetched.table.num_rows > 0
    assert delivery.report.missing == () and delivery.report.undocumented == ()


# -- how a snapshot is stamped and kept -------------------------------------------------------
def test_a_snapshot_is_stamped_with_its_day_its_load_time_and_the_layer_edit():
    fetched = Fetched(pa.table({"OBJECTID": [1, 2]}), last_edit=EDITED)
    stamped = with_snapshot_columns(catalog.EPA, fetched, DAY, NOW)
    assert stamped.column_names == ["OBJECTID", *catalog.EPA.system_columns[1:]]
    row = stamped.to_pylist()[0]
    assert row[catalog.LAST_EDIT_DATE] == EDITED.replace(tzinfo=None)  # naive UTC
    assert row[catalog.LOAD_DATE] == DAY
    assert row[catalog.LOADED_AT] == NOW.replace(tzinfo=None)
    malibu = with_snapshot_columns(catalog.MALIBU_PALISADES_PERMITS_ISSUED, fetched, DAY, NOW)
    assert catalog.LAST_EDIT_DATE not in malibu.column_names  # the endpoints report none


def test_only_the_same_rows_with_the_same_edit_time_make_a_reload_a_no_op():
    rows = pa.table({"OBJECTID": [1, 2]})
    same = snapshot_digest(Fetched(rows, last_edit=EDITED))
    assert snapshot_digest(Fetched(rows, last_edit=EDITED)) == same
    assert snapshot_digest(Fetched(rows, last_edit=EDITED + dt.timedelta(minutes=1))) != same
    assert snapshot_digest(Fetched(rows.slice(0, 1), last_edit=EDITED)) != same


def test_a_snapshot_replaces_its_day_and_a_current_state_its_records(tmp_path):
    warehouse = DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))
    permits = Fetched(pa.table({"PERMITTYPE": ["a", "b"], "PALISADESPERMITS": [1, 2]}))
    table = catalog.MALIBU_PALISADES_PERMITS_ISSUED
    first = keep(table, warehouse, permits, DAY, NOW)
    assert first.result.rows == 2 and catalog.LOAD_DATE in first.data.column_names
    again = keep(table, warehouse, permits, DAY, NOW)
    assert again.result.unchanged and warehouse.last_kept_rows(table) == 2

    feedback = catalog.sample_data(catalog.PAGE_FEEDBACK, scale=0.05, day=DAY)
    kept = keep(catalog.PAGE_FEEDBACK, warehouse, Fetched(feedback), DAY, NOW)
    assert kept.data is feedback and kept.result.rows == feedback.num_rows


# -- the change signal and the run it asks for ------------------------------------------------
def test_a_layer_signature_is_its_edit_time_else_its_count_and_newest_edit():
    edited = {"editingInfo": {"lastEditDate": int(EDITED.timestamp() * 1000)}}
    assert arcgis_signature(catalog.USACE, edited, lambda: 1, lambda f: 2) == (
        f"edited {EDITED.isoformat()}"
    )
    metadata = {"fields": [{"name": "gdb_from_date"}]}  # the case changed between deliveries
    assert edit_field_name(metadata, "GDB_FROM_DATE") == "gdb_from_date"
    assert arcgis_signature(catalog.USACE, metadata, lambda: 7, lambda f: f"max({f})") == (
        "count 7, newest gdb_from_date max(gdb_from_date)"
    )
    assert arcgis_signature(catalog.EPA, {"fields": []}, lambda: 7, lambda f: 0) == "count 7"


def test_a_signature_loads_once_per_change_and_a_snapshot_once_more_per_day():
    first = load_on_change(catalog.EPA, DAY, "edited x", None)
    assert first is not None
    assert (first.cursor, first.run_key, first.partition_key) == (
        "2025-06-02 edited x",
        "epa 2025-06-02 edited x",
        "2025-06-02",
    )
    assert load_on_change(catalog.EPA, DAY, "edited x", first.cursor) is None
    tomorrow = load_on_change(catalog.EPA, DAY + dt.timedelta(days=1), "edited x", first.cursor)
    assert tomorrow is not None and tomorrow.partition_key == "2025-06-03"


def test_a_current_state_table_loads_on_a_change_whatever_the_day():
    first = load_on_change(catalog.AIRTABLE_METRICS, DAY, "rec1@t", None)
    assert first is not None and first.partition_key is None
    assert first.run_key == "airtable_metrics rec1@t"
    assert (
        load_on_change(catalog.AIRTABLE_METRICS, DAY + dt.timedelta(days=3), "rec1@t", first.cursor)
        is None
    )


def test_an_unreadable_signal_is_a_signature_of_its_own(make_settings, monkeypatch):
    def broken(table, settings, now):
        raise SourceError("EPA", "https://example.test/layer", "HTTP 503")

    monkeypatch.setattr(signals, "signature", broken)
    seen, error = read_signature(catalog.EPA, make_settings(), NOW)
    assert seen == UNREADABLE and isinstance(error, SourceError)
    load = load_on_change(catalog.EPA, DAY, seen, None)
    assert load is not None and UNREADABLE in load.run_key


# -- samples register with the catalog ----------------------------------------------------------
def test_a_table_without_a_registered_sample_says_where_samples_come_from():
    unknown = dataclasses.replace(catalog.EPA, name="not_registered")
    with pytest.raises(LookupError, match="ddrc_platform/ingest/sample/"):
        catalog.sample_data(unknown, scale=0.05, day=DAY)
