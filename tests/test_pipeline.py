"""End to end: raw sources -> dbt -> ddrc-metrics.json, checked against an independent oracle.

The expected values come from tests/reference_metrics.py: plain Python over the raw
sample rows, following docs/metrics.md's rules — never from the SQL under test.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pyarrow.compute as pc
import pytest

from ddrc_platform.core.names import PUBLISH_KEY, pacific_date, partition_key
from ddrc_platform.definitions import build_definitions
from ddrc_platform.ingest import sample
from ddrc_platform.publish.document import FILE_NAME, format_timestamp, validate
from stand_ins.sources import LAYER_PATHS, serve_sample_sources
from tests.conftest import run_pipeline
from tests.reference_metrics import expected_metrics

pytestmark = pytest.mark.slow

NOW = dt.datetime(2025, 6, 2, 19, 30, tzinfo=dt.UTC)
DAY = dt.date(2025, 6, 2)
SCALE = 0.1
CATALOG = Path(__file__).parent.parent / "ddrc_dbt" / "seeds" / "metric_catalog.csv"


def run(settings, at: dt.datetime = NOW) -> dg.ExecuteInProcessResult:
    return run_pipeline(settings, dg.DagsterInstance.ephemeral(), at)[1]


def publish_metadata(result: dg.ExecuteInProcessResult) -> dict:
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == PUBLISH_KEY]
    return {k: v.value for k, v in event.step_materialization_data.materialization.metadata.items()}


def oracle(day: dt.date = DAY, **overrides) -> dict[str, dict]:
    sources = {
        "epa": sample.arcgis_layer("epa", scale=SCALE, day=day),
        "usace": sample.arcgis_layer("usace", scale=SCALE, day=day),
        "pasadena": sample.arcgis_layer("pasadena", scale=SCALE, day=day),
        "malibu": sample.malibu_endpoints(scale=SCALE, day=day),
        "airtable": sample.airtable_records(scale=SCALE, day=day),
    }
    sources.update(overrides)
    return expected_metrics(**sources, usace_loaded_at=NOW, malibu_loaded_at=NOW)


def assert_published_equals_oracle(published: list[dict], expected: dict[str, dict]) -> None:
    labels = {row["metric_name"]: row for row in csv.DictReader(CATALOG.open())}
    assert {m["METRIC_NAME"] for m in published} == set(expected)
    for metric in published:
        want = expected[metric["METRIC_NAME"]]
        name = metric["METRIC_NAME"]
        assert Decimal(str(metric["METRIC_VALUE"])) == want["metric_value"], name
        assert metric["METRIC_TYPE"] == want["metric_type"], name
        assert metric["LAST_UPDATED"] == format_timestamp(want["last_updated"]), name
        if name in labels:  # a pipeline metric: its labels come from the catalog seed
            assert metric["METRIC_UNIT_LABEL"] == labels[name]["metric_unit_label"], name
            assert metric["UPDATE_FREQUENCY"] == labels[name]["update_frequency"], name
        else:
            assert metric["UPDATE_FREQUENCY"] == want["update_frequency"], name


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    from ddrc_platform.settings import load_settings

    home = tmp_path_factory.mktemp("sample") / "ddrc"
    settings = load_settings({"DDRC_HOME": str(home), "DDRC_SAMPLE_SCALE": str(SCALE)})
    result = run(settings)
    return settings, result


def test_sample_mode_publishes_exactly_the_domain_rules(sample_run):
    settings, result = sample_run
    assert result.success
    content = (settings.publish_dir / FILE_NAME).read_bytes()
    published = validate(content)  # the file validates against the JSON Schema
    assert_published_equals_oracle(published, oracle())
    meta = publish_metadata(result)
    assert meta["status"] == "published" and meta["metric_count"] == len(published)
    assert meta["added"] == len(published)
    assert len(list((settings.publish_dir / "history").iterdir())) == 1


def test_the_lineage_runs_unbroken_from_every_raw_asset_to_the_published_file(sample_run):
    settings, _ = sample_run
    graph = build_definitions(settings).resolve_asset_graph()
    upstream = graph.get(PUBLISH_KEY).parent_keys
    seen, frontier = set(), set(upstream)
    while frontier:
        key = frontier.pop()
        seen.add(key)
        frontier |= set(graph.get(key).parent_keys) - seen
    raw = {k for k in seen if k.path[0] == "raw"}
    feeds_metrics = {
        "raw/epa/public_status_assessment",
        "raw/usace/parcel_debris_removal",
        "raw/pasadena/eaton_fire_rebuild_permits",
        "raw/malibu/fire_rebuild_points",
        "raw/airtable/metrics",
    }
    assert feeds_metrics <= {k.to_user_string() for k in raw}


def test_live_mode_against_local_servers_publishes_the_same_file(sample_run, make_settings):
    sample_settings, _ = sample_run
    with serve_sample_sources(day=DAY, scale=SCALE) as live:
        settings = make_settings(DDRC_SAMPLE_SCALE=str(SCALE), **live.env)
        result = run(settings)
        assert result.success
    live_file = (settings.publish_dir / FILE_NAME).read_bytes()
    assert live_file == (sample_settings.publish_dir / FILE_NAME).read_bytes()


def test_rerun_unchanged_then_one_source_change_then_a_blocked_bad_value(make_settings):
    later = NOW + dt.timedelta(hours=1)  # same Pacific day
    epa = sample.arcgis_layer("epa", scale=SCALE, day=DAY)
    with serve_sample_sources(day=DAY, scale=SCALE) as live:
        settings = make_settings(DDRC_SAMPLE_SCALE=str(SCALE), **live.env)
        assert run(settings).success
        live_path = settings.publish_dir / FILE_NAME
        first = live_path.read_bytes()

        # 1. the same data an hour later: nothing new is published
        result = run(settings, later)
        assert result.success
        assert publish_metadata(result)["status"] == "unchanged"
        assert live_path.read_bytes() == first
        assert len(list((settings.publish_dir / "history").iterdir())) == 1

        # 2. one EPA residential parcel completes Phase 1: exactly one metric moves
        candidates = pc.and_(
            pc.equal(epa.table["LandUse"], "Residential"),
            pc.equal(epa.table["PublicStatus"], "Phase 1 In Progress"),
        )
        row = pc.index(candidates, True).as_py()
        assert row >= 0
        status = epa.table["PublicStatus"].to_pylist()
        status[row] = "Phase 1 Complete"
        changed_epa = sample.ArcgisSample(
            epa.metadata,
            epa.table.set_column(
                epa.table.schema.get_field_index("PublicStatus"), "PublicStatus", [status]
            ),
        )
        live.arcgis.set_layer(LAYER_PATHS["epa"], changed_epa)
        result = run(settings, later)
        assert result.success
        meta = publish_metadata(result)
        assert meta["status"] == "published"
        assert (meta["added"], meta["removed"], meta["changed"]) == (0, 0, 1)
        before = {m["METRIC_NAME"]: m["METRIC_VALUE"] for m in json.loads(first)}
        assert "cleanup_phase1_complete" in meta["diff"]
        assert f"{before['cleanup_phase1_complete']:,.2f}" in meta["diff"]
        assert f"{before['cleanup_phase1_complete'] + 1:,.2f}" in meta["diff"]
        assert_published_equals_oracle(validate(live_path.read_bytes()), oracle(epa=changed_epa))
        good = live_path.read_bytes()

        # 3. a negative count entered in Airtable fails a blocking check: nothing published
        records = sample.airtable_records(scale=SCALE, day=DAY)
        counts = [
            r
            for r in records
            if r["fields"].get("Metric Type (from Metric Definition)") == ["count"]
            and "Metric" in r["fields"]
        ]
        newest = max(counts, key=lambda r: r["fields"]["Date Created"])
        newest["fields"]["Metric"] = -5
        live.airtable.set_records(records)
        result = run(settings, later)
        assert not result.success
        failed_checks = [c for c in result.get_asset_check_evaluations() if not c.passed]
        assert any(c.blocking if hasattr(c, "blocking") else True for c in failed_checks)
        assert not [
            e for e in result.get_asset_materialization_events() if e.asset_key == PUBLISH_KEY
        ]
        assert live_path.read_bytes() == good  # byte for byte
        assert len(list((settings.publish_dir / "history").iterdir())) == 2


def test_dagster_cli_materializes_the_whole_graph(tmp_path, dagster_home):
    home = tmp_path / "ddrc"
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            "asset",
            "materialize",
            "-m",
            "ddrc_platform.definitions",
            "--select",
            "*",
            "--partition",  # today's snapshots and history
            partition_key(pacific_date(dt.datetime.now(dt.UTC))),
        ],
        env={
            **os.environ,
            "DAGSTER_HOME": str(dagster_home),
            "DDRC_HOME": str(home),
            "DDRC_SAMPLE_SCALE": str(SCALE),
        },
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "RUN_SUCCESS" in done.stderr
    validate((home / "publish" / FILE_NAME).read_bytes())
