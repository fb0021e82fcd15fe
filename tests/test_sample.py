"""The sample data: deterministic, shaped like the wire, and rich enough for every rule."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from ddrc_platform.ingest import sample
from ddrc_platform.ingest.sources.arcgis import LayerData
from tests.reference_metrics import expected_metrics

PACIFIC = ZoneInfo("America/Los_Angeles")
DAYS = (date(2025, 5, 1), date(2025, 8, 21), date(2026, 3, 1))
SCALES = (0.05, 1.0)

layer = cache(sample.arcgis_layer)
malibu = cache(sample.malibu_endpoints)
airtable = cache(sample.airtable_records)
feedback = cache(sample.page_feedback_rows)

AIRTABLE_FIELDS = {
    "Metric",
    "Date Created",
    "Date Metric Modified",
    "Metric Modified By",
    "As Of Label",
    "As Of Date and Time",
    "Datetime Offset Number",
    "Datetime Offset Variable",
    "Metric Definition",
    "Metric Title for Interface",
    "Metric Machine Name (from Metric Definition)",
    "Metric Name (from Metric Definition)",
    "Metric Type (from Metric Definition)",
    "Metric Unit Label (from Metric Definition)",
    "Update Frequency (from Metric Definition)",
    "Topic (from Metric Definition)",
    "As Of Time (from Metric Definition)",
    "As Of Offset (from Metric Definition)",
    "Metric Contact Name (from Metric Definition)",
    "Metric Contact Email (from Metric Definition)",
}
ARRAY_FIELDS = {f for f in AIRTABLE_FIELDS if "(from " in f} | {"Metric Title for Interface"}
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def ipc_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def midnight_ms(day: date) -> int:
    """Pacific midnight that starts `day`: every event in that day's snapshot is before it."""
    return int(datetime.combine(day, time(), PACIFIC).timestamp() * 1000)


def counts(table: pa.Table, column: str) -> Counter:
    return Counter(table.column(column).to_pylist())


def metrics_on(day: date, scale: float = 0.05) -> dict[str, dict]:
    loaded = datetime.combine(day, time(19, 30), UTC)
    return expected_metrics(
        epa=layer("epa", scale=scale, day=day),
        usace=layer("usace", scale=scale, day=day),
        pasadena=layer("pasadena", scale=scale, day=day),
        malibu=malibu(scale=scale, day=day),
        airtable=airtable(scale=scale, day=day),
        usace_loaded_at=loaded,
        malibu_loaded_at=loaded,
    )


# -- determinism and identity ----------------------------------------------------------------
def test_same_inputs_give_identical_bytes():
    day = date(2025, 6, 2)
    for source in ("epa", "usace", "pasadena"):
        first = sample.arcgis_layer(source, scale=0.05, day=day)
        second = sample.arcgis_layer(source, scale=0.05, day=day)
        assert ipc_bytes(first.table) == ipc_bytes(second.table)
        assert json.dumps(first.metadata) == json.dumps(second.metadata)
    for make in (sample.malibu_endpoints, sample.airtable_records):
        assert json.dumps(make(scale=0.05, day=day)) == json.dumps(make(scale=0.05, day=day))
    assert ipc_bytes(sample.page_feedback_rows(scale=0.05, day=day)) == ipc_bytes(
        sample.page_feedback_rows(scale=0.05, day=day)
    )


def test_same_parcels_every_day_only_their_progress_changes():
    early, late = date(2025, 2, 10), date(2025, 9, 1)
    for source in ("epa", "usace", "pasadena"):
        before = layer(source, scale=0.05, day=early).table
        after = layer(source, scale=0.05, day=late).table
        assert before.num_rows <= after.num_rows  # permits accumulate; nothing disappears
        for column in (before.column_names[0], "geometry"):
            assert after.column(column).slice(0, before.num_rows).equals(before.column(column))
    assert before.num_rows < after.num_rows  # the Pasadena layer grew


def test_invalid_scale_or_day_is_refused():
    with pytest.raises(ValueError, match="scale"):
        sample.arcgis_layer("epa", scale=1000, day=date(2025, 6, 1))
    with pytest.raises(ValueError, match="starts on 2025-01-08"):
        sample.airtable_records(day=date(2025, 1, 1))


def test_sizes_follow_scale():
    day = date(2025, 8, 21)
    assert layer("epa", scale=1.0, day=day).table.num_rows == 20_000
    assert layer("usace", scale=1.0, day=day).table.num_rows == 15_000
    assert layer("epa", scale=0.05, day=day).table.num_rows == 1_000
    assert 2_000 < layer("pasadena", scale=1.0, day=day).table.num_rows <= 3_000
    assert 450 < len(malibu(scale=1.0, day=day)["FireRebuildPoints"]) <= 600
    assert 100 < len(airtable(scale=1.0, day=day)) < 200
    assert 3_000 < feedback(scale=1.0, day=day).num_rows <= 5_000


# -- ArcGIS wire shape -----------------------------------------------------------------------
ESRI_TO_ARROW = {
    "esriFieldTypeOID": pa.int64(),
    "esriFieldTypeInteger": pa.int64(),
    "esriFieldTypeDouble": pa.float64(),
    "esriFieldTypeString": pa.string(),
    "esriFieldTypeGlobalID": pa.string(),
    "esriFieldTypeDate": pa.int64(),
}


@pytest.mark.parametrize(
    ("source", "oid", "max_records", "edited"),
    [
        ("epa", "OBJECTID", 2000, True),
        ("usace", "OBJECTID", 1000, False),
        ("pasadena", "ID", 2000, True),
    ],
)
def test_layer_metadata_and_table_agree(source, oid, max_records, edited):
    day = date(2025, 6, 2)
    layer_sample = layer(source, scale=0.05, day=day)
    meta, table = layer_sample.metadata, layer_sample.table
    assert [f["name"] for f in meta["fields"]] + ["geometry"] == table.column_names
    for field in meta["fields"]:
        assert table.schema.field(field["name"]).type == ESRI_TO_ARROW[field["type"]]
        assert ("length" in field) == (
            field["type"] != "esriFieldTypeOID" and not field["type"].endswith("Double")
        )
    assert meta["objectIdField"] == oid and meta["fields"][0]["type"] == "esriFieldTypeOID"
    assert meta["maxRecordCount"] == max_records
    assert meta["type"] == "Feature Layer" and meta["id"] == 0
    assert meta["geometryType"] == "esriGeometryPolygon"
    assert meta["supportedQueryFormats"] == "JSON, geoJSON, PBF"
    assert meta["advancedQueryCapabilities"]["supportsPagination"] is True
    assert ("editingInfo" in meta) == edited
    if edited:
        edit = datetime.fromtimestamp(meta["editingInfo"]["lastEditDate"] / 1000, PACIFIC)
        assert edit.date() == day - timedelta(days=1) and 20 <= edit.hour < 22
    assert table.column(oid).to_pylist() == list(range(1, table.num_rows + 1))


def test_geometry_is_closed_counter_clockwise_geojson_near_the_fires():
    for source in ("epa", "usace", "pasadena"):
        for text in layer(source, scale=0.05, day=date(2025, 6, 2)).table["geometry"].to_pylist():
            geometry = json.loads(text)
            assert geometry["type"] == "Polygon"
            ring = geometry["coordinates"][0]
            assert ring[0] == ring[-1] and len(ring) == 5
            twice_area = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in pairwise(ring))
            assert twice_area > 0
            assert all(-119 < x < -118 and 33.9 < y < 34.6 for x, y in ring)


@pytest.mark.parametrize("day", DAYS)
def test_event_dates_are_epoch_ms_before_the_snapshot_day(day):
    for source in ("epa", "usace"):
        layer_sample = layer(source, scale=0.05, day=day)
        for field in layer_sample.metadata["fields"]:
            if field["type"] != "esriFieldTypeDate" or field["name"] == "GDB_TO_DATE":
                continue
            values = [v for v in layer_sample.table.column(field["name"]).to_pylist() if v]
            assert all(midnight_ms(date(2025, 1, 7)) < v < midnight_ms(day) for v in values)
    usace = layer("usace", scale=0.05, day=day).table
    assert set(usace.column("GDB_TO_DATE").to_pylist()) == {253_402_300_799_000}


# -- every category the metric rules hinge on ------------------------------------------------
@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("day", DAYS)
def test_epa_categories(scale, day):
    table = layer("epa", scale=scale, day=day).table
    assert set(counts(table, "FireName")) == {
        "Eaton",
        "Palisades",
        "Hurst",
        "Kenneth",
        "Sunset",
        "Lidia",
    }
    assert set(counts(table, "LandUse")) >= {
        "Residential",
        "Commercial",
        "Public",
        "Mixed Use",
        "Industrial",
        "residential",
        "Residential ",
    }
    status = counts(table, "PublicStatus")
    assert set(status) == {
        "Phase 1 Complete",
        "Deferred to Phase 2",
        "Phase 1 In Progress",
        "Assessment Scheduled",
        "Not Yet Started",
        "Phase 1 complete",
        None,
    }
    assert status["Phase 1 Complete"] > table.num_rows / 2
    near_misses = [
        r
        for r in table.select(["LandUse", "PublicStatus"]).to_pylist()
        if r["PublicStatus"] == "Phase 1 Complete"
        and r["LandUse"] in ("residential", "Residential ")
    ]
    assert near_misses  # a case- or space-insensitive filter would count these


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("day", DAYS)
def test_usace_categories_and_traps(scale, day):
    table = layer("usace", scale=scale, day=day).table
    rows = table.to_pylist()
    assert set(counts(table, "event_sub_name")) == {
        "Eaton",
        "Palisades",
        "Hurst",
        "Kenneth",
        "Sunset",
        None,
    }
    assert set(counts(table, "ma")) == {
        "4856DR-CA-COE-SPD-09",
        "4856DR-CA-COE-SPD-08",
        "4856DR-CA-EPA-01",
        None,
    }
    assert counts(table, "ma").most_common(1)[0][0] == "4856DR-CA-COE-SPD-09"
    assert set(counts(table, "roe_details")) == {"County", "Private", "City of Pasadena", None}
    assert set(counts(table, "roe_status")) >= {
        "approved",
        "submitted",
        "received",
        "in_review",
        "returned_complete",
        "returned_ineligible",
        "returned_withdrawn",
        None,
    }
    # the rule-breaking rows a sloppy filter lets through
    assert any(r["roe_status"] is None and r["roe_submitted"] for r in rows)
    assert any(r["roe_status"] is None and r["roe_approved"] for r in rows)
    assert any(r["roe_status"] == "returned_ineligible" and r["roe_submitted"] for r in rows)
    assert any(r["roe_status"] == "returned_withdrawn" and r["roe_approved"] for r in rows)
    # the progression is consistent
    assert all(r["roe_submitted"] for r in rows if r["roe_approved"])
    assert all(r["roe_submitted"] >= r["roe_received"] for r in rows if r["roe_submitted"])
    fso = [r for r in rows if r["fso_pkg_approved"]]
    assert fso and 0.9 < sum(bool(r["roe_approved"]) for r in fso) / len(fso) < 1
    assert all(r["fso_pkg_received"] <= r["fso_pkg_approved"] for r in fso)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("day", DAYS)
def test_pasadena_categories(scale, day):
    table = layer("pasadena", scale=scale, day=day).table
    assert set(counts(table, "PERMIT_STATUS")) == {
        "In Review",
        "Issued",
        "Finaled",
        "Expired",
        "Void",
        "Pending Payment",
        "issued",
    }
    assert set(counts(table, "CITY")) == {"Pasadena", "Altadena"}
    assert set(counts(table, "STATE")) == {"CA"}
    assert {"New", "Repair", "Demolition"} <= set(counts(table, "WORK_CLASS"))
    assert "Building - Residential" in counts(table, "PERMIT_TYPE")
    districts = {d for d in counts(table, "COUNCIL_DISTRICT") if d is not None}
    assert districts and districts <= {str(i) for i in range(1, 8)}
    assert all(re.fullmatch(r"BLD202[56]-\d{5}", p) for p in table["PERMIT_NUMBER"].to_pylist())


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("day", DAYS)
def test_malibu_categories_and_shapes(scale, day):
    endpoints = malibu(scale=scale, day=day)
    assert list(endpoints) == [
        "PalisadesPermitsIssued_Read",
        "OverallRebuildStatsPie_Read",
        "FireRebuildVisitPoints",
        "FireRebuildPoints",
    ]
    points = endpoints["FireRebuildPoints"]
    assert {p["type"] for p in points} == {
        "InPlanning",
        "PendingBSReview",
        "InBPC",
        "PermitIssued",
        "UnderConstruction",
        "Completed",
        "Withdrawn",
    }
    assert all(
        list(p)
        == [
            "type",
            "lat",
            "lng",
            "projectNumber",
            "planningApproved",
            "CASETYPE",
            "CASECATEGORY",
            "STRUCTURES",
            "DAYSTODECISION",
            "DAYSTOFIRSTRESPONSE",
            "COUNTFORDECISION",
            "COUNTFORFIRSTRESPONSE",
        ]
        for p in points
    )
    assert all(34.0 < p["lat"] < 34.07 and -118.76 < p["lng"] < -118.55 for p in points)
    assert any(p["DAYSTODECISION"] is None for p in points)
    assert any(isinstance(p["DAYSTODECISION"], int) for p in points)
    assert all(
        set(r) == {"PermitType", "PalisadesPermits"}
        for r in endpoints["PalisadesPermitsIssued_Read"]
    )
    assert all(
        set(r) == {"REBUILDGROUP", "REBUILDTYPECOUNT", "VALUECOLOR"}
        for r in endpoints["OverallRebuildStatsPie_Read"]
    )
    visits = endpoints["FireRebuildVisitPoints"]
    assert visits and all(
        set(v) == {"INITIALVISITS", "FOLLOWUPVISITS", "lat", "lng"} for v in visits
    )


# -- Airtable --------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("day", DAYS)
def test_airtable_records_look_like_the_api(scale, day):
    records = airtable(scale=scale, day=day)
    end_of_day = datetime.combine(day + timedelta(days=1), time(), UTC)
    assert len({r["id"] for r in records}) == len(records)
    for record in records:
        assert re.fullmatch(r"rec[0-9A-Za-z]{14}", record["id"])
        assert ISO_Z.match(record["createdTime"])
        fields = record["fields"]
        assert set(fields) <= AIRTABLE_FIELDS
        assert all(v not in (None, "", [], {}) for v in fields.values())  # empty is omitted
        for name in ARRAY_FIELDS & set(fields):
            assert isinstance(fields[name], list) and len(fields[name]) == 1
        assert all(re.fullmatch(r"rec[0-9A-Za-z]{14}", i) for i in fields["Metric Definition"])
        assert ISO_Z.match(fields["Date Created"])
        assert datetime.fromisoformat(fields["Date Created"]) < end_of_day
        if "Metric" in fields:
            assert isinstance(fields["Metric"], int | float)
            assert set(fields["Metric Modified By"]) == {"id", "email", "name"}
        if "Date Metric Modified" in fields:
            assert fields["Date Metric Modified"] > fields["Date Created"]


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("day", DAYS)
def test_airtable_traps_are_present(scale, day):
    records = airtable(scale=scale, day=day)
    by_metric: dict[str, list[dict]] = {}
    for record in records:
        fields = record["fields"]
        by_metric.setdefault(fields["Metric Machine Name (from Metric Definition)"][0], []).append(
            fields
        )
    assert len(by_metric) == 12 and "malibu_building_permits_issued" in by_metric
    latest = {
        name: max(entries, key=lambda f: f["Date Created"]) for name, entries in by_metric.items()
    }
    assert any("Metric" not in entry for entry in latest.values())  # the blank latest entry
    fingerprints = Counter(json.dumps(r["fields"], sort_keys=True) for r in records)
    assert max(fingerprints.values()) == 2  # identical duplicates
    frequencies = {f["Update Frequency (from Metric Definition)"][0] for f in latest.values()}
    assert {"Daily", "WEEKLY", "as needed", "Monthly", "Content update", "completed"} <= frequencies
    types = {f["Metric Type (from Metric Definition)"][0] for f in latest.values()}
    assert types == {"count", "dollars - millions"}
    assert any("Date Metric Modified" in r["fields"] for r in records)
    for entries in (by_metric["people_helped_drc"], by_metric["people_helped_fema_funds"]):
        floor = 50_000 if entries is by_metric["people_helped_drc"] else 100
        assert all(e["Metric"] >= floor for e in entries if "Metric" in e)


def test_airtable_records_accumulate_with_days():
    earlier = {r["id"] for r in airtable(scale=1.0, day=date(2025, 5, 1))}
    later = {r["id"] for r in airtable(scale=1.0, day=date(2025, 8, 21))}
    assert earlier < later


# -- page feedback ---------------------------------------------------------------------------
@pytest.mark.parametrize("scale", SCALES)
def test_page_feedback_is_fivetran_shaped(scale):
    day = date(2025, 8, 21)
    table = feedback(scale=scale, day=day)
    assert table.schema == pa.schema(
        [
            ("FEEDBACK_KEY", pa.string()),
            ("SITE_DOMAIN", pa.string()),
            ("PAGE", pa.string()),
            ("PAGE_SECTION", pa.string()),
            ("URL", pa.string()),
            ("TIME", pa.timestamp("us")),
            ("IS_HELPFUL", pa.bool_()),
            ("COMMENTS", pa.string()),
            ("_FIVETRAN_SYNCED", pa.timestamp("us")),
            ("_FIVETRAN_DELETED", pa.bool_()),
        ]
    )
    rows = table.to_pylist()
    assert len({r["FEEDBACK_KEY"] for r in rows}) == len(rows)
    assert 0.02 < sum(r["_FIVETRAN_DELETED"] for r in rows) / len(rows) < 0.09
    assert 0.6 < sum(r["IS_HELPFUL"] for r in rows) / len(rows) < 0.8
    assert len({r["PAGE"] for r in rows}) >= 5 and len({r["PAGE_SECTION"] for r in rows}) >= 10
    assert all(
        r["URL"] == f"https://{r['SITE_DOMAIN']}{r['PAGE']}#{r['PAGE_SECTION']}" for r in rows
    )
    comments = [r["COMMENTS"] for r in rows if r["COMMENTS"]]
    assert comments and any(r["COMMENTS"] is None for r in rows)
    assert any(re.search(r"\(\d{3}\) \d{3}-\d{4}", c) for c in comments)
    assert any(re.search(r"\S+@\S+\.\w+", c) for c in comments)
    cutoff = datetime.combine(day, time())  # naive UTC: nothing from after `day` began
    assert all(r["TIME"] < cutoff + timedelta(hours=8) for r in rows)
    assert all(r["TIME"] <= r["_FIVETRAN_SYNCED"] <= cutoff + timedelta(days=1) for r in rows)
    weeks = {r["TIME"].isocalendar()[:2] for r in rows}
    assert len(weeks) > 20


# -- the oracle over days --------------------------------------------------------------------
MONOTONE = (
    "cleanup_phase1_complete",
    "phase2_roes_accepted",
    "phase2_parcels_in_queue",
    "phase2_parcels_completed",
    "malibu_rebuild_applications_received",
    "pasadena_rebuild_applications_received",
)


def test_key_counts_only_grow_day_over_day():
    days = [date(2025, 1, 9) + timedelta(days=d) for d in range(0, 420, 12)]
    series = {name: [] for name in MONOTONE}
    for day in days:
        metrics = metrics_on(day)
        for name in MONOTONE:
            series[name].append(metrics[name]["metric_value"])
    for name, values in series.items():
        assert values == sorted(values), name
        assert values[-1] > values[0] > Decimal(-1), name


def test_published_metrics_on_a_typical_day():
    day = date(2025, 8, 21)
    metrics = metrics_on(day, scale=1.0)
    assert len(metrics) == 10 + 11  # pipeline metrics + Airtable-only metrics
    assert metrics["malibu_building_permits_issued"]["metric_unit_label"] is None  # pipeline won
    assert metrics["people_helped_drc"]["metric_value"] >= 50_000
    assert metrics["people_helped_fema_funds"]["metric_value"] >= 100
    for metric in metrics.values():
        assert metric["metric_value"] == metric["metric_value"].quantize(Decimal("0.01"))
        assert metric["metric_value"] >= 0
        assert metric["last_updated"].tzinfo is not None
        assert metric["last_updated"] < datetime.combine(day + timedelta(days=1), time(), UTC)
        frequency = metric["update_frequency"]
        assert frequency is None or frequency in {
            "as needed",
            "daily",
            "weekly",
            "monthly",
            "completed",
            "content update",
        }
    assert (
        metrics["phase2_roes_accepted"]["metric_value"]
        <= metrics["phase2_parcels_in_queue"]["metric_value"]
    )


def _arcgis(fields: list[tuple[str, str]], rows: list[dict], last_edit: int = 0) -> LayerData:
    metadata = {
        "objectIdField": fields[0][0],
        "fields": [{"name": n, "type": t} for n, t in fields],
        "editingInfo": {"lastEditDate": last_edit},
    }
    columns = [n for n, _ in fields]
    return LayerData(metadata, pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows]))


def test_oracle_applies_each_rule_exactly():
    epa = _arcgis(
        [("OBJECTID", "esriFieldTypeOID"), ("LandUse", "s"), ("PublicStatus", "s")],
        [
            {"OBJECTID": 1, "LandUse": "Residential", "PublicStatus": "Phase 1 Complete"},
            {"OBJECTID": 2, "LandUse": "Residential", "PublicStatus": "Deferred to Phase 2"},
            {"OBJECTID": 3, "LandUse": "residential", "PublicStatus": "Phase 1 Complete"},
            {"OBJECTID": 4, "LandUse": "Residential", "PublicStatus": "Phase 1 complete"},
            {"OBJECTID": 5, "LandUse": "Commercial", "PublicStatus": "Phase 1 Complete"},
        ],
        last_edit=1_750_000_000_000,
    )
    ok = {
        "event_sub_name": "Eaton",
        "ma": "4856DR-CA-COE-SPD-09",
        "roe_details": "County",
        "roe_status": "approved",
        "roe_submitted": 1,
        "roe_approved": 2,
        "fso_pkg_approved": 3,
    }
    usace = _arcgis(
        [("OBJECTID", "esriFieldTypeOID")] + [(k, "x") for k in ok],
        [
            {"OBJECTID": 1, **ok},
            {"OBJECTID": 1, **ok},  # the same parcel twice counts once
            {"OBJECTID": 2, **ok, "roe_status": None},  # null status: NOT IN is not true
            {"OBJECTID": 3, **ok, "roe_status": "returned_withdrawn"},
            {"OBJECTID": 4, **ok, "event_sub_name": "Hurst"},
            {"OBJECTID": 5, **ok, "ma": None},
            {"OBJECTID": 6, **ok, "roe_details": "county"},
            {
                "OBJECTID": 7,
                **ok,
                "roe_status": "submitted",
                "roe_approved": None,
                "fso_pkg_approved": None,
            },
        ],
    )
    pasadena = _arcgis(
        [("ID", "esriFieldTypeOID"), ("PERMIT_STATUS", "s")],
        [{"ID": 1, "PERMIT_STATUS": s} for s in ("In Review", "Issued", "issued", "Finaled")],
        last_edit=1_750_000_000_000,
    )
    points = [{"type": t} for t in ("InPlanning", "InBPC", "PendingBSReview", "PermitIssued")]
    lookups = {
        "Metric Machine Name (from Metric Definition)": ["people_helped_drc"],
        "Metric Type (from Metric Definition)": ["count"],
        "Metric Unit Label (from Metric Definition)": ["people helped"],
        "Update Frequency (from Metric Definition)": ["WEEKLY"],
    }
    entry = {"Metric": 60_000, "Date Created": "2025-03-02T18:04:05.000Z", **lookups}
    earlier = {**entry, "Metric": 55_000, "Date Created": "2025-03-01T18:00:00.000Z"}
    airtable_records = [
        {"id": "rec1", "fields": earlier},
        {"id": "rec2", "fields": entry},
        {"id": "rec3", "fields": dict(entry)},  # identical duplicate
        {"id": "rec4", "fields": {"Date Created": "2025-03-03T18:00:00.000Z", **lookups}},  # blank
        {
            "id": "rec5",
            "fields": {
                **entry,
                "Metric": 7,
                **{
                    "Metric Machine Name (from Metric Definition)": [
                        "malibu_building_permits_issued"
                    ]
                },
            },
        },
    ]
    loaded = datetime(2025, 6, 2, 19, 30, tzinfo=UTC)
    metrics = expected_metrics(
        epa=epa,
        usace=usace,
        pasadena=pasadena,
        malibu={"FireRebuildPoints": points},
        airtable=airtable_records,
        usace_loaded_at=loaded,
        malibu_loaded_at=loaded,
    )
    value = {name: m["metric_value"] for name, m in metrics.items()}
    assert value["cleanup_phase1_complete"] == Decimal("2.00")
    assert value["phase2_roes_accepted"] == 1
    assert value["phase2_parcels_in_queue"] == 2
    assert value["phase2_parcels_completed"] == 1
    assert value["malibu_rebuild_applications_received"] == 4
    assert value["malibu_rebuild_applications_in_review"] == 2
    assert value["malibu_building_permits_issued"] == 1  # from the pipeline, not Airtable's 7
    assert value["pasadena_rebuild_applications_in_review"] == 1
    assert value["pasadena_building_permits_issued"] == 1
    drc = metrics["people_helped_drc"]
    assert drc["metric_value"] == Decimal("60000.00")
    assert drc["update_frequency"] == "weekly" and drc["metric_unit_label"] == "people helped"
    assert drc["last_updated"] == datetime(2025, 3, 2, 18, 4, 5, tzinfo=UTC)
    assert metrics["cleanup_phase1_complete"]["last_updated"] == datetime(
        2025, 6, 15, 15, 6, 40, tzinfo=UTC
    )
    assert metrics["phase2_roes_accepted"]["last_updated"] == loaded
