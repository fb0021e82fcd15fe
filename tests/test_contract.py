"""The schema contract (issue 17 items 2 and 3) as plain functions: names and kinds.

A documented column gone or of another kind is refused, naming it, the declared and the
delivered kind; a rename is told as one; a name becomes a column every warehouse holds.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from ddrc_platform.core import catalog
from ddrc_platform.core.catalog import Kind
from ddrc_platform.ingest.contract import (
    MAX_COLUMN_NAME,
    SchemaContractError,
    check_columns,
    column_names,
    delivered_kinds,
    enforce,
)
from ddrc_platform.ingest.fetch import fetch
from ddrc_platform.ingest.sources import airtable

NOW = dt.datetime(2025, 6, 2, 19, 30, tzinfo=dt.UTC)
TEXT, NUMBER = frozenset({Kind.TEXT}), frozenset({Kind.NUMBER})


def declared(table: catalog.RawTable) -> dict[str, frozenset[Kind]]:
    return {c: frozenset({table.column_kind(c)}) for c in table.columns}


def test_missing_columns_fail_and_new_ones_are_reported_whatever_their_case():
    lower = {c.lower(): k for c, k in declared(catalog.USACE).items()}
    report = check_columns(catalog.USACE, {**lower, "NEW_FIELD": TEXT})
    assert report.missing == () and report.undocumented == ("NEW_FIELD",) and not report.refused
    enforce(report)  # a new column alone is kept
    broken = declared(catalog.USACE)
    del broken["ROE_STATUS"]
    with pytest.raises(SchemaContractError) as error:
        enforce(check_columns(catalog.USACE, broken))
    assert "missing documented columns: ROE_STATUS" in str(error.value)
    assert "USACE.PARCEL_DEBRIS_REMOVAL" in str(error.value)
    assert "the kept data stays" in str(error.value)


def test_a_type_change_is_refused_naming_the_field_the_old_and_the_new_type():
    delivered = {**declared(catalog.PASADENA), "PERMIT_STATUS": NUMBER, "ID": TEXT}
    report = check_columns(
        catalog.PASADENA, delivered, source_types={"permit_status": "esriFieldTypeDouble"}
    )
    assert report.refused and report.missing == ()
    assert [c.column for c in report.changed] == ["ID", "PERMIT_STATUS"]
    with pytest.raises(SchemaContractError) as error:
        enforce(report)
    message = str(error.value)
    assert "PERMIT_STATUS was text, now number (esriFieldTypeDouble)" in message
    assert "ID was number, now text" in message


def test_a_column_with_no_value_says_nothing_about_its_kind():
    data = pa.table({"PERMITTYPE": ["SFR"], "PALISADESPERMITS": pa.array([None], pa.string())})
    table = catalog.MALIBU_PALISADES_PERMITS_ISSUED
    assert check_columns(table, delivered_kinds(data)).refused is False
    # unless the source typed it (an ArcGIS field list does)
    typed = check_columns(table, delivered_kinds(data, typed=True))
    assert [str(c) for c in typed.changed] == ["PALISADESPERMITS was number, now text"]


def test_mixed_kinds_in_one_column_are_a_change():
    delivered = {**declared(catalog.AIRTABLE_METRICS), "METRIC": NUMBER | TEXT}
    (change,) = check_columns(catalog.AIRTABLE_METRICS, delivered).changed
    assert str(change) == "METRIC was number, now number and text"


def test_a_rename_is_told_as_one_gone_and_one_appeared():
    delivered = declared(catalog.PASADENA)
    delivered["INSPECTOR"] = delivered.pop("PERMIT_STATUS")
    report = check_columns(catalog.PASADENA, delivered)
    assert report.refused
    assert "PERMIT_STATUS is gone, INSPECTOR appeared" in report.summary
    assert "missing documented columns: PERMIT_STATUS" in report.summary
    assert "new undocumented columns: INSPECTOR" in report.summary


def test_an_omitted_airtable_field_is_empty_alone_and_gone_when_a_new_one_appeared():
    table = catalog.AIRTABLE_METRICS
    delivered = {**declared(table), "AS_OF_LABEL": frozenset()}
    assert not check_columns(table, delivered, omitted=["AS_OF_LABEL"]).refused
    renamed = check_columns(table, {**delivered, "AS_OF_TEXT": TEXT}, omitted=["AS_OF_LABEL"])
    assert renamed.missing == ("AS_OF_LABEL",)
    assert "AS_OF_LABEL is gone, AS_OF_TEXT appeared" in renamed.summary


def test_column_names_are_upper_case_and_every_warehouse_can_hold_them():
    long = "x" * 300
    names = column_names(["apn", "Größe", "select", "O'Brien; --", long], catalog.EPA.columns)
    assert names["apn"] == "APN" and names["Größe"] == "GRÖSSE" and names["select"] == "SELECT"
    assert names["O'Brien; --"] == "O'BRIEN; --"
    assert len(names[long]) == MAX_COLUMN_NAME and names[long].startswith("X" * 200)
    assert column_names([long], ())[long] == names[long]  # the same name every delivery
    assert names[long] != column_names(["x" * 301], ())["x" * 301]


def test_names_that_differ_only_by_case_keep_their_own_columns_or_are_refused():
    twins = column_names(["Note", "NOTE", "note"], catalog.EPA.columns)
    assert len(set(twins.values())) == 3 and all(c.startswith("NOTE_") for c in twins.values())
    with pytest.raises(SchemaContractError, match="'APN', 'apn' all mean APN"):
        column_names(["APN", "apn"], catalog.EPA.columns)


def test_airtable_value_kinds_see_text_served_as_numbers_and_numbers_as_text():
    records = [
        {"id": "rec1", "fields": {"Metric": 5, "Metric Modified By": "Sam", "Date Created": "x"}},
        {"id": "rec2", "fields": {"Metric": "7", "Metric Modified By": 42, "Topic": [3]}},
    ]
    kinds = airtable.value_kinds(records)
    assert kinds["METRIC"] == NUMBER | TEXT
    assert kinds["METRIC_MODIFIED_BY"] == NUMBER | TEXT
    assert kinds["DATE_CREATED"] == frozenset({Kind.TIMESTAMP})
    assert kinds["TOPIC"] == NUMBER  # a lookup's one-item list has its item's kind
    assert kinds["ID"] == TEXT


def test_airtable_fields_that_collide_keep_their_own_columns():
    records = [{"id": "rec1", "fields": {"Note A": "one", "note_a": "two", "Metric": 1}}]
    table = airtable.records_to_table(records, NOW)
    notes = sorted(c for c in table.column_names if c.startswith("NOTE_A"))
    assert len(notes) == 2 and sorted(table.column(c)[0].as_py() for c in notes) == ["one", "two"]


@pytest.mark.parametrize("table", catalog.RAW_TABLES, ids=lambda t: t.name)
def test_every_sample_delivery_matches_its_declaration(table, make_settings):
    """The declared kinds are the ones the sources deliver (sample data mirrors them)."""
    fetched = fetch(table, make_settings(DDRC_SAMPLE_SCALE="0.05"), day=NOW.date(), now=NOW)
    report = check_columns(
        table, fetched.column_kinds, fetched.system_fields, omitted=fetched.omitted
    )
    assert (report.missing, report.changed, report.undocumented) == ((), (), ())


def test_a_fivetran_sync_reporting_a_documented_column_gone_breaks_the_contract():
    """The column list a sync reports, in the shape dagster-fivetran gives it."""
    from dagster_fivetran.utils import get_column_schema_for_columns

    from ddrc_platform.ingest.fivetran import synced_contract

    def reported(*names: str) -> dict:
        listed = {n: {"name_in_destination": n, "enabled": True} for n in names}
        return {"dagster/column_schema": get_column_schema_for_columns(listed)}

    table = catalog.PAGE_FEEDBACK
    names = [c.lower() for c in table.all_columns]
    assert not synced_contract(table.asset_key, reported(*names)).refused
    renamed = [n if n != "comments" else "comment_text" for n in names]
    report = synced_contract(table.asset_key, reported(*renamed))
    assert report.refused and "COMMENTS is gone, COMMENT_TEXT appeared" in report.summary
    assert synced_contract(catalog.EPA.asset_key, {}) is None  # no column list: nothing said
