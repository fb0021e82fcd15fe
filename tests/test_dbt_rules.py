"""The dbt project's metric rules, run for real: dbt-duckdb over hand-written raw tables.

The rows below are chosen to hit every rule of docs/metrics.md's table and its edges
(older snapshots with other values, null and returned right-of-entry statuses, near-miss
spellings, duplicate OBJECTIDs, empty and duplicated Airtable entries, a name clash with
a pipeline metric), then the published summary is compared value by value. Two failure
paths are proven too: a sanity floor blocks the build, and a dropped documented column
fails the schema drift tests of a source and of a model.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from ddrc_platform.settings import load_settings
from ddrc_platform.transform.children import guarded_command
from ddrc_platform.transform.manifests import dbt_vars, vars_args
from ddrc_platform.transform.project import prepare_home
from tests.raw_tables import RAW_DDL

REPO = Path(__file__).resolve().parents[1]
PROJECT = REPO / "ddrc_dbt"

LATEST = date(2025, 8, 21)
OLDER = date(2025, 8, 20)
OLDEST = date(2025, 8, 19)

# ArcGIS dates are epoch milliseconds; any set value means "this step happened".
MS = 1_755_000_000_000
COE = "4856DR-CA-COE-SPD-09"


def _epa_rows() -> list[tuple]:
    edited = datetime(2025, 8, 21, 17, 4, 35)  # the layer's last edit: the published time
    loaded = datetime(2025, 8, 21, 18, 0, 0)
    latest = [
        ("Phase 1 Complete", "Residential"),  # counted
        ("Deferred to Phase 2", "Residential"),  # counted
        ("Phase 1 Complete", "Residential"),  # counted
        ("Phase 1 Complete", "Commercial"),  # not residential
        ("Phase 1 complete", "Residential"),  # near miss: lower-case c
        ("Phase 1 Complete", "residential"),  # near miss: lower-case r
        ("In Progress", "Residential"),  # not complete
        ("Phase 1 Complete", None),  # no land use
    ]
    rows = [
        (
            i,
            f"APN{i}",
            f"{i} Main St",
            MS,
            "Eaton",
            f"g{i}",
            land_use,
            status,
            1.0,
            2.0,
            "{}",
            edited,
            LATEST,
            loaded,
        )
        for i, (status, land_use) in enumerate(latest, start=1)
    ]
    rows.append(
        (
            1,
            "APN1",
            "1 Main St",
            None,
            "Eaton",
            "g1",
            "Residential",
            "Phase 1 Complete",
            1.0,
            2.0,
            "{}",
            datetime(2025, 8, 20, 9, 0),
            OLDER,
            datetime(2025, 8, 20, 18, 0),
        )
    )
    return rows


def _usace_row(
    objectid: int,
    *,
    load_date: date = LATEST,
    loaded_at: datetime = datetime(2025, 8, 21, 15, 0, 0),
    ma: str | None = COE,
    event: str | None = "Eaton",
    details: str | None = "County",
    status: str | None = "approved",
    approved: bool = False,
    submitted: bool = False,
    completed: bool = False,
) -> tuple:
    def ms(flag: bool) -> int | None:
        return MS if flag else None

    return (
        objectid,
        ma,
        f"APN{objectid}",
        None,
        f"{objectid} Oak Ave",
        "Phase 1 Complete",
        status,
        MS,
        ms(approved),
        ms(submitted),
        None,
        details,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        ms(completed),
        None,
        None,
        event,
        None,
        None,
        None,
        MS,
        None,
        "{}",
        None,
        load_date,
        loaded_at,
    )


def _usace_rows() -> list[tuple]:
    return [
        # latest snapshot: in scope
        _usace_row(1, approved=True, submitted=True, completed=True),
        _usace_row(1, approved=True, loaded_at=datetime(2025, 8, 21, 15, 0, 5)),  # same parcel
        _usace_row(2, event="Palisades", approved=True, submitted=True),
        _usace_row(9, status="returned_complete", submitted=True),  # returned complete still counts
        _usace_row(11),  # in scope, no step yet
        # latest snapshot: out of scope
        _usace_row(3, status=None, approved=True, submitted=True, completed=True),
        _usace_row(4, status="returned_ineligible", approved=True, submitted=True),
        _usace_row(5, status="returned_withdrawn", approved=True, submitted=True),
        _usace_row(6, details="Private", approved=True, submitted=True, completed=True),
        _usace_row(12, details=None, approved=True, submitted=True),
        _usace_row(7, event="Franklin", approved=True, submitted=True),
        _usace_row(10, event="eaton", approved=True, submitted=True),  # case matters
        _usace_row(8, ma="4856DR-CA-COE-SPD-10", approved=True, submitted=True),
        _usace_row(13, ma=None, approved=True),
        # older snapshot: other values
        _usace_row(1, load_date=OLDER, loaded_at=datetime(2025, 8, 20, 15, 0), approved=True),
        # oldest snapshot: nothing in scope, so its metrics are zero (not missing)
        _usace_row(
            7,
            load_date=OLDEST,
            loaded_at=datetime(2025, 8, 19, 15, 0),
            event="Franklin",
            approved=True,
        ),
    ]


def _pasadena_rows() -> list[tuple]:
    def permit(i: int, status: str | None, edited: datetime, day, loaded: datetime) -> tuple:
        return (
            i, f"PM{i}", f"BLD-{i}", f"APN{i}", f"{i} Lake Ave", "Pasadena", "CA", "91104",
            status, "New", "Building", "Rebuild SFR", "2", 1.0, 2.0, "{}", edited, day, loaded,
        )  # fmt: skip

    latest = ["In Review", "In Review", "Issued", "issued", "In review", "Finaled", None]
    rows = [
        permit(i, status, datetime(2025, 8, 21, 16, 30), LATEST, datetime(2025, 8, 21, 18, 0))
        for i, status in enumerate(latest, start=1)
    ]
    rows += [
        permit(i, status, datetime(2025, 8, 19, 12, 0), OLDER, datetime(2025, 8, 20, 18, 0))
        for i, status in enumerate(["Issued", "In Review"], start=1)
    ]
    return rows


def _malibu_points() -> list[tuple]:
    latest = [
        "InPlanning",
        "InPlanning",
        "InBPC",
        "PendingBSReview",
        "PermitIssued",
        "PermitIssued",
        "permitissued",
        "Closed",
    ]
    rows = [
        (
            stage,
            "34.03",
            -118.7,
            f"P{i}",
            None,
            "CDP",
            "Rebuild",
            "2",
            10,
            3,
            1,
            1,
            LATEST,
            datetime(2025, 8, 21, 15, 10, 2 if i == 1 else 0),
        )
        for i, stage in enumerate(latest, start=1)
    ]
    rows += [
        (
            stage,
            "34.03",
            -118.7,
            f"P{i}",
            None,
            "CDP",
            "Rebuild",
            "1",
            None,
            None,
            0,
            0,
            OLDER,
            datetime(2025, 8, 20, 15, 10),
        )
        for i, stage in enumerate(["InPlanning", "PendingBSReview"], start=1)
    ]
    return rows


def _airtable_row(
    record_id: str,
    name: str,
    value: float | None,
    created: datetime,
    *,
    modified: datetime | None = None,
    metric_type: str = "count",
    unit: str = "people helped",
    frequency: str = "Weekly",
    synced: datetime = datetime(2025, 8, 21, 12, 0),
) -> tuple:
    def lookup(text: str) -> str:
        return json.dumps([text])

    return (
        record_id,
        value,
        created,
        modified,
        json.dumps({"id": "usr1", "email": "staff@example.gov", "name": "Staff"}),
        "as of",
        None,
        None,
        None,
        lookup(f"def_{name}"),
        lookup(name.replace("_", " ")),
        lookup(name),
        lookup(name.title()),
        lookup(metric_type),
        lookup(unit),
        lookup(frequency),
        lookup("recovery"),
        lookup("9:00"),
        lookup("0"),
        lookup("Staff"),
        lookup("staff@example.gov"),
        synced,
    )


def _airtable_rows() -> list[tuple]:
    d = datetime
    return [
        # latest entry that has a value wins; the newer empty one is skipped
        _airtable_row("rec01", "people_helped_drc", 60000, d(2025, 8, 1, 9)),
        _airtable_row(
            "rec02", "people_helped_drc", 61234, d(2025, 8, 10, 9), modified=d(2025, 8, 12, 9, 30)
        ),
        _airtable_row("rec03", "people_helped_drc", None, d(2025, 8, 15, 9)),
        # identical duplicates (only ID and sync time differ) collapse to one
        _airtable_row(
            "rec05", "people_helped_fema_funds", 150, d(2025, 8, 5), synced=d(2025, 8, 21, 12, 0)
        ),
        _airtable_row(
            "rec04", "people_helped_fema_funds", 150, d(2025, 8, 5), synced=d(2025, 8, 21, 12, 5)
        ),
        # dollars, upper-case frequency
        _airtable_row(
            "rec06",
            "fema_assistance_paid",
            3.75,
            d(2025, 8, 7, 8),
            metric_type="dollars - millions",
            unit="million dollars",
            frequency="MONTHLY",
        ),
        # tie on created: the later modification wins
        _airtable_row(
            "rec07",
            "households_sheltered",
            10,
            d(2025, 8, 3),
            modified=d(2025, 8, 4),
            frequency="As Needed",
            unit="households",
        ),
        _airtable_row(
            "rec08",
            "households_sheltered",
            12,
            d(2025, 8, 3),
            modified=d(2025, 8, 6),
            frequency="As Needed",
            unit="households",
        ),
        # full tie: the smallest record id wins
        _airtable_row("rec10", "fema_registrations", 70, d(2025, 8, 2), unit="registrations"),
        _airtable_row("rec09", "fema_registrations", 80, d(2025, 8, 2), unit="registrations"),
        # a name the pipeline computes: the pipeline value is published, not this one
        _airtable_row(
            "rec11",
            "cleanup_phase1_complete",
            999,
            d(2025, 8, 20),
            unit="cleanups completed",
            frequency="Daily",
        ),
    ]


def _feedback_rows() -> list[tuple]:
    d = datetime
    site, page = "recovery.lafires.gov", "/debris-removal"
    return [
        ("k1", site, page, "main", "u", d(2025, 8, 11, 17), True, "great", d(2025, 8, 21), False),
        # Sunday 20:00 Pacific = Monday 03:00 UTC: still the week of Monday 2025-08-11
        (
            "k2",
            site,
            page,
            "main",
            "u",
            d(2025, 8, 18, 3),
            False,
            "call me at 555-0100",
            d(2025, 8, 21),
            False,
        ),
        ("k3", site, page, "main", "u", d(2025, 8, 12, 17), False, None, d(2025, 8, 21), True),
        ("k4", site, page, "main", "u", d(2025, 8, 13, 17), None, None, d(2025, 8, 21), None),
        ("k5", site, page, "main", "u", d(2025, 8, 19, 17), True, None, d(2025, 8, 21), None),
    ]


def _write_raw_tables(warehouse: Path) -> None:
    inserts = {
        "EPA.PUBLIC_STATUS_ASSESSMENT": _epa_rows(),
        "USACE.PARCEL_DEBRIS_REMOVAL": _usace_rows(),
        "PASADENA.EATON_FIRE_REBUILD_PERMITS": _pasadena_rows(),
        "MALIBU.FIRE_REBUILD_POINTS": _malibu_points(),
        "MALIBU.PALISADES_PERMITS_ISSUED": [("Building", 40, LATEST, datetime(2025, 8, 21, 15))],
        "MALIBU.OVERALL_REBUILD_STATS": [
            ("In Planning", 12, "#fff", LATEST, datetime(2025, 8, 21, 15))
        ],
        "MALIBU.FIRE_REBUILD_VISIT_POINTS": [
            (3, 1, 34.0, -118.7, LATEST, datetime(2025, 8, 21, 15))
        ],
        "AIRTABLE.METRICS": _airtable_rows(),
        "FEEDBACK.PAGE_FEEDBACK": _feedback_rows(),
    }
    with duckdb.connect(str(warehouse)) as con:
        con.execute(RAW_DDL)
        for table, rows in inserts.items():
            placeholders = ", ".join("?" * len(rows[0]))
            con.executemany(f"insert into {table} values ({placeholders})", rows)


@dataclass(frozen=True)
class DbtRun:
    exit_code: int
    statuses: dict[str, str]  # node name -> status (success, pass, fail, warn, error, skipped)
    output: str


def run_dbt(home: Path, *args: str) -> DbtRun:
    """Run dbt on the local target against the warehouse in `home`, as the platform does:
    in the home, from the shared parse (`prepare_home`), warm."""
    target = home / "target"
    warm = load_settings({}).dbt_warm
    prepare_home("local", dbt_vars("local"), home, target, warm)
    executable, flags = guarded_command(home, warm)
    proc = subprocess.run(
        [
            executable,
            *flags,
            *args,
            "--project-dir",
            str(PROJECT),
            "--profiles-dir",
            str(PROJECT),
            "--target",
            "local",
            "--target-path",
            str(target),
            "--log-path",
            str(home / "logs"),
            *vars_args(dbt_vars("local")),
        ],
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    results = json.loads((target / "run_results.json").read_text())["results"]
    statuses = {r["unique_id"].split(".")[2]: r["status"] for r in results}
    return DbtRun(proc.returncode, statuses, proc.stdout + proc.stderr)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DDRC_HOME whose warehouse holds the raw rows above and every dbt model, built."""
    home = tmp_path_factory.mktemp("ddrc_home")
    _write_raw_tables(home / "warehouse.duckdb")
    run = run_dbt(home, "build")
    assert run.exit_code == 0, run.output
    return home


def _copy_home(built: Path, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(built / "warehouse.duckdb", home / "warehouse.duckdb")
    return home


def _query(home: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_summary_publishes_exactly_the_domain_rules(built: Path) -> None:
    rows = _query(built, "select * from marts.ddrc_metrics_summary order by metric_name")
    d, dec = datetime, Decimal
    usace_loaded, malibu_loaded = d(2025, 8, 21, 15, 0, 5), d(2025, 8, 21, 15, 10, 2)
    pasadena_edited = d(2025, 8, 21, 16, 30)
    daily = "daily"
    expected = {
        # EPA: latest snapshot, exact spelling; last edit time of the layer
        "cleanup_phase1_complete": (
            dec("3.00"),
            "count",
            "cleanups completed",
            daily,
            d(2025, 8, 21, 17, 4, 35),
            "pipeline",
        ),
        # USACE: distinct OBJECTIDs in scope; load time of the snapshot
        "phase2_roes_accepted": (
            dec("2.00"),
            "count",
            "rights of entry accepted",
            daily,
            usace_loaded,
            "pipeline",
        ),
        "phase2_parcels_in_queue": (
            dec("3.00"),
            "count",
            "parcels in queue",
            daily,
            usace_loaded,
            "pipeline",
        ),
        "phase2_parcels_completed": (
            dec("1.00"),
            "count",
            "parcels completed",
            daily,
            usace_loaded,
            "pipeline",
        ),
        # Malibu: PendingBSReview no longer "in review"; load time of the snapshot
        "malibu_rebuild_applications_received": (
            dec("8.00"),
            "count",
            "applications received",
            daily,
            malibu_loaded,
            "pipeline",
        ),
        "malibu_rebuild_applications_in_review": (
            dec("3.00"),
            "count",
            "applications in review",
            daily,
            malibu_loaded,
            "pipeline",
        ),
        "malibu_building_permits_issued": (
            dec("2.00"),
            "count",
            "permits issued",
            daily,
            malibu_loaded,
            "pipeline",
        ),
        # Pasadena: exact status spelling; last edit time of the layer
        "pasadena_rebuild_applications_received": (
            dec("7.00"),
            "count",
            "applications received",
            daily,
            pasadena_edited,
            "pipeline",
        ),
        "pasadena_rebuild_applications_in_review": (
            dec("2.00"),
            "count",
            "applications in review",
            daily,
            pasadena_edited,
            "pipeline",
        ),
        "pasadena_building_permits_issued": (
            dec("1.00"),
            "count",
            "permits issued",
            daily,
            pasadena_edited,
            "pipeline",
        ),
        # Airtable: latest non-empty entry; last_updated = modified, else created
        "people_helped_drc": (
            dec("61234.00"),
            "count",
            "people helped",
            "weekly",
            d(2025, 8, 12, 9, 30),
            "airtable",
        ),
        "people_helped_fema_funds": (
            dec("150.00"),
            "count",
            "people helped",
            "weekly",
            d(2025, 8, 5),
            "airtable",
        ),
        "fema_assistance_paid": (
            dec("3.75"),
            "dollars - millions",
            "million dollars",
            "monthly",
            d(2025, 8, 7, 8),
            "airtable",
        ),
        "households_sheltered": (
            dec("12.00"),
            "count",
            "households",
            "as needed",
            d(2025, 8, 6),
            "airtable",
        ),
        "fema_registrations": (
            dec("80.00"),
            "count",
            "registrations",
            "weekly",
            d(2025, 8, 2),
            "airtable",
        ),
    }
    assert {row[0]: row[1:] for row in rows} == expected
    assert len(rows) == len(expected)


def test_summary_column_types_match_the_contract(built: Path) -> None:
    columns = _query(
        built,
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'marts' and table_name = 'ddrc_metrics_summary' "
        "order by ordinal_position",
    )
    assert columns == [
        ("metric_name", "VARCHAR"),
        ("metric_value", "DECIMAL(18,2)"),
        ("metric_type", "VARCHAR"),
        ("metric_unit_label", "VARCHAR"),
        ("update_frequency", "VARCHAR"),
        ("last_updated", "TIMESTAMP"),
        ("metric_source", "VARCHAR"),
    ]


def test_history_keeps_every_load_date_under_the_current_rules(built: Path) -> None:
    rows = _query(
        built,
        "select metric_name, load_date, metric_value from marts.metric_history "
        "where metric_name in ('phase2_roes_accepted', 'cleanup_phase1_complete', "
        "'malibu_rebuild_applications_in_review', 'pasadena_building_permits_issued') "
        "order by metric_name, load_date",
    )
    assert rows == [
        ("cleanup_phase1_complete", OLDER, Decimal("1.00")),
        ("cleanup_phase1_complete", LATEST, Decimal("3.00")),
        # the older Malibu snapshot is recomputed without PendingBSReview too
        ("malibu_rebuild_applications_in_review", OLDER, Decimal("1.00")),
        ("malibu_rebuild_applications_in_review", LATEST, Decimal("3.00")),
        ("pasadena_building_permits_issued", OLDER, Decimal("1.00")),
        ("pasadena_building_permits_issued", LATEST, Decimal("1.00")),
        # a snapshot with nothing in scope reports zero
        ("phase2_roes_accepted", OLDEST, Decimal("0.00")),
        ("phase2_roes_accepted", OLDER, Decimal("1.00")),
        ("phase2_roes_accepted", LATEST, Decimal("2.00")),
    ]


@pytest.mark.slow
def test_a_failed_source_keeps_its_last_good_snapshot_and_the_others_move_on(
    built: Path, tmp_path: Path
) -> None:
    home = _copy_home(built, tmp_path)
    before = dict(_query(home, "select metric_name, metric_value from marts.ddrc_metrics_summary"))
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:  # today's EPA load failed
        con.execute("delete from EPA.PUBLIC_STATUS_ASSESSMENT where _LOAD_DATE = ?", [LATEST])
    run = run_dbt(home, "build", "--select", "ddrc_metrics_summary")
    assert run.exit_code == 0, run.output
    after = dict(_query(home, "select metric_name, metric_value from marts.ddrc_metrics_summary"))
    assert after["cleanup_phase1_complete"] == Decimal("1.00")  # EPA's older (good) snapshot
    assert {k: v for k, v in after.items() if k != "cleanup_phase1_complete"} == {
        k: v for k, v in before.items() if k != "cleanup_phase1_complete"
    }


def test_page_feedback_weekly_counts_pacific_weeks_without_comments(built: Path) -> None:
    rows = _query(
        built,
        "select week_start, helpful_count, not_helpful_count, response_count, helpful_rate "
        "from marts.page_feedback_weekly order by week_start",
    )
    assert rows == [
        (date(2025, 8, 11), 1, 1, 2, Decimal("0.5000")),
        (date(2025, 8, 18), 1, 0, 1, Decimal("1.0000")),
    ]
    leaked = _query(
        built,
        "select table_schema, table_name from information_schema.columns "
        "where lower(column_name) like '%comment%' "
        "and table_schema in ('staging', 'intermediate', 'marts')",
    )
    assert leaked == []


@pytest.mark.slow
def test_floor_on_people_helped_drc_blocks_the_build(built: Path, tmp_path: Path) -> None:
    home = _copy_home(built, tmp_path)
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        con.execute("update AIRTABLE.METRICS set METRIC = 49999 where ID = 'rec02'")
    run = run_dbt(home, "build", "--select", "ddrc_metrics_summary")
    assert run.exit_code != 0
    assert run.statuses["ddrc_metrics_summary_people_helped_drc_floor"] == "fail"
    assert run.statuses["ddrc_metrics_summary_people_helped_fema_funds_floor"] == "pass"
