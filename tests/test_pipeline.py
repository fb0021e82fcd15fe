"""End to end: raw sources -> dbt -> ddrc-metrics.json, checked against an independent oracle.

The expected values come from tests/reference_metrics.py: plain Python over the raw
sample rows, following docs/metrics.md's rules — never from the SQL under test.

Whole runs here: the session's built home (sample mode, `built_home`), one live run from
an empty home and one live rerun of everything; a source's change then reruns only that
source and what lies below it. `tests/test_dg_project.py` runs Dagster's own command line
(`dg launch`, the `dagster asset materialize` code path) and `tests/test_cli_run.py` the
whole graph as a subprocess.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pyarrow.compute as pc
import pytest

from ddrc_platform.core import catalog
from ddrc_platform.core.names import PUBLISH_KEY, pacific_date
from ddrc_platform.definitions import build_definitions
from ddrc_platform.ingest import sample
from ddrc_platform.ingest.sources.arcgis import LayerData
from ddrc_platform.publish.document import FILE_NAME, format_timestamp, validate
from ddrc_platform.settings import Settings, load_settings
from stand_ins.sources import LAYER_PATHS, LiveSources, serve_sample_sources
from tests.reference_metrics import expected_metrics
from tests.support import BUILT_AT, BUILT_SCALE, FAST_HTTP, run_pipeline

pytestmark = pytest.mark.slow

NOW = BUILT_AT  # the moment the session's home was built, and every run here
DAY = pacific_date(NOW)  # 2025-06-02
SCALE = float(BUILT_SCALE)
CATALOG = Path(__file__).parent.parent / "ddrc_dbt" / "seeds" / "metric_catalog.csv"


def run(
    settings: Settings, at: dt.datetime = NOW, changed: list[dg.AssetKey] | None = None
) -> dg.ExecuteInProcessResult:
    return run_pipeline(settings, dg.DagsterInstance.ephemeral(), at, changed=changed)[1]


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


@dataclass
class LiveRun:
    """The first live run, from an empty home, on the stand-ins that served it."""

    live: LiveSources
    env: dict[str, str]
    home: Path
    file: bytes
    metadata: dict
    row_counts: dict[str, int | None]  # each model and seed the run built


def model_row_counts(result: dg.ExecuteInProcessResult) -> dict[str, int | None]:
    counts = {}
    for event in result.get_asset_materialization_events():
        metadata = event.step_materialization_data.materialization.metadata
        if "unique_id" in metadata:  # built by dbt
            count = metadata.get("dagster/row_count")
            counts[event.asset_key.to_user_string()] = count.value if count else None
    return counts


def live_settings(home: Path, env: dict[str, str]) -> Settings:
    settings = load_settings({"DDRC_HOME": str(home), "DDRC_SAMPLE_SCALE": str(SCALE), **env})
    return dataclasses.replace(settings, http=FAST_HTTP)


@pytest.fixture(scope="module")
def live_run(tmp_path_factory) -> Iterator[LiveRun]:
    """Live mode against the local servers, from an empty home: the one whole live run a
    test here starts from (each copies the home; the file and metadata are kept here)."""
    with serve_sample_sources(day=DAY, scale=SCALE) as live:
        env = {**live.env, "DDRC_SAMPLE_SCALE": str(SCALE)}
        home = tmp_path_factory.mktemp("live") / "ddrc"
        settings = live_settings(home, env)
        result = run(settings)
        assert result.success, failure_text(result)
        file = (settings.publish_dir / FILE_NAME).read_bytes()
        yield LiveRun(live, env, home, file, publish_metadata(result), model_row_counts(result))


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    return "\n".join(e.message or "" for e in result.all_events if e.is_step_failure)


def test_sample_mode_publishes_exactly_the_domain_rules(built_home):
    """The session's home: sample data loaded, built and published once at NOW."""
    settings = load_settings({"DDRC_HOME": str(built_home), "DDRC_SAMPLE_SCALE": str(SCALE)})
    content = (settings.publish_dir / FILE_NAME).read_bytes()
    published = validate(content)  # the file validates against the JSON Schema
    assert_published_equals_oracle(published, oracle())
    assert len(list((settings.publish_dir / "history").iterdir())) == 1


def test_the_lineage_runs_unbroken_from_every_raw_asset_to_the_published_file(make_settings):
    graph = build_definitions(make_settings()).resolve_asset_graph()
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


def test_live_mode_against_local_servers_publishes_the_same_file(live_run, built_home):
    """From an empty home, as sample mode did for the session's home: byte for byte, and
    a first publication's record (every metric added, one version in the history)."""
    sample_file = (built_home / "publish" / FILE_NAME).read_bytes()
    assert live_run.file == sample_file
    published = validate(live_run.file)
    meta = live_run.metadata
    assert meta["status"] == "published" and meta["metric_count"] == len(published)
    assert meta["added"] == len(published)
    assert len(list((live_run.home / "publish" / "history").iterdir())) == 1
    # every model and seed reports its rows (one query counts them all after dbt)
    assert live_run.row_counts["summary/ddrc_metrics_summary"] == len(published)
    assert None not in live_run.row_counts.values() and len(live_run.row_counts) > 10


def test_rerun_unchanged_then_one_source_change_then_a_blocked_bad_value(live_run, tmp_path):
    """On a copy of the live home; after the whole rerun, a change reruns only what the
    automation would: the changed source and everything below it."""
    later = NOW + dt.timedelta(hours=1)  # same Pacific day
    live = live_run.live
    epa = sample.arcgis_layer("epa", scale=SCALE, day=DAY)
    settings = live_settings(Path(shutil.copytree(live_run.home, tmp_path / "ddrc")), live_run.env)
    live_path = settings.publish_dir / FILE_NAME
    first = live_path.read_bytes()
    assert first == live_run.file
    try:
        # 1. the same data an hour later, every source reloaded: nothing new is published
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
        changed_epa = LayerData(
            epa.metadata,
            epa.table.set_column(
                epa.table.schema.get_field_index("PublicStatus"), "PublicStatus", [status]
            ),
        )
        live.arcgis.set_layer(LAYER_PATHS["epa"], changed_epa)
        result = run(settings, later, changed=[catalog.EPA.asset_key])
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
        result = run(settings, later, changed=[catalog.AIRTABLE_METRICS.asset_key])
        assert not result.success
        failed_checks = [c for c in result.get_asset_check_evaluations() if not c.passed]
        assert any(c.blocking if hasattr(c, "blocking") else True for c in failed_checks)
        assert not [
            e for e in result.get_asset_materialization_events() if e.asset_key == PUBLISH_KEY
        ]
        assert live_path.read_bytes() == good  # byte for byte
        assert len(list((settings.publish_dir / "history").iterdir())) == 2
    finally:
        live.arcgis.set_layer(LAYER_PATHS["epa"], epa)
        live.airtable.set_records(sample.airtable_records(scale=SCALE, day=DAY))
