"""What reaches the public, and who hears about it: the publish gate, the jump check, the
post-publish verification, and the incident sensor delivering to a local Slack server.

One scenario on one Dagster instance, as an operator would live it: good run, a source
goes down (one incident, Slack message, affected metric), a second failing run (same
incident, threaded), recovery (resolution), a big jump (held until acknowledged).

No whole-pipeline run here. The scenario starts from its own copy of the session's built
home (`home_copy`: sample data at SCALE, built and published at NOW). The stand-ins serve
that same sample data, and `tests/test_pipeline.py` proves a live run publishes that same
file byte for byte. The first step checks that again for EPA: EPA's reload publishes
nothing new. After that, each step reruns only what the automation would: the source that
changed and what lies below it (`changed=`). A step where only the gate decides runs the
summary and publish steps, or the publish step alone (`selection=`). Every run is a real
run of the real assets in the scenario's one Dagster instance, which the incident sensor
reads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from pathlib import Path

import dagster as dg
import pyarrow.compute as pc
import pytest

from ddrc_platform.core import catalog
from ddrc_platform.core.names import (
    JUMP_CHECK,
    PUBLISH_KEY,
    SUMMARY_KEY,
    VERIFY_CHECK,
)
from ddrc_platform.definitions import build_definitions
from ddrc_platform.incidents import FailureKind, Severity, SqliteIncidentStore
from ddrc_platform.ingest import sample
from ddrc_platform.ingest.sources.arcgis import LayerData
from ddrc_platform.publish.checks import (
    PublicationHeldError,
    find_jumps,
    load_acknowledgements,
)
from ddrc_platform.publish.document import FILE_NAME, Metric, render
from ddrc_platform.publish.targets.local import LocalPublisher, Published
from ddrc_platform.settings import load_settings
from stand_ins.base import Fault
from stand_ins.slack import SlackServer
from stand_ins.sources import LAYER_PATHS, serve_sample_sources
from tests.support import BUILT_AT, BUILT_SCALE, FAST_HTTP, record_freshness, run_pipeline, tick

pytestmark = pytest.mark.slow

NOW = BUILT_AT  # 2025-06-02T19:30Z: when the session's home was built (same Pacific day)
DAY = NOW.date()
SCALE = float(BUILT_SCALE)  # 0.05, the scale the session's home was built at
EPA = catalog.EPA.asset_key
PASADENA = catalog.PASADENA.asset_key
TOKEN = "xoxb-ddrc-secret-token-123"


def metric(name: str, value: str) -> Metric:
    return Metric(name, __import__("decimal").Decimal(value), "count", "x", "daily", NOW)


def publish_status(result: dg.ExecuteInProcessResult) -> str:
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == PUBLISH_KEY]
    return event.step_materialization_data.materialization.metadata["status"].value


def test_find_jumps_holds_big_moves_and_removals_unless_acknowledged(tmp_path: Path):
    published = render([metric("a", "100"), metric("b", "100"), metric("gone", "5")])
    now = [metric("a", "149"), metric("b", "151")]
    jumps = find_jumps(published, now, 0.5, {})
    assert [(j.metric, j.new) for j in jumps] == [("b", now[1].value), ("gone", None)]
    ack = tmp_path / "ack.yaml"
    ack.write_text(
        "acknowledged:\n  - {metric: b, value: 151, by: x, reason: y}\n"
        "  - {metric: gone, value: null}\n"
    )
    assert find_jumps(published, now, 0.5, load_acknowledgements(ack)) == []
    ack.write_text("acknowledged:\n  - {metric: b, value: 150}\n")  # not the value we see
    assert [j.metric for j in find_jumps(published, now, 0.5, load_acknowledgements(ack))] == [
        "b",
        "gone",
    ]
    assert find_jumps(None, now, 0.5, {}) == []  # nothing published yet


class CorruptingPublisher(LocalPublisher):
    """A store that answers with other bytes than it was given (a stale cache, a bad mirror)."""

    def publish(self, content: bytes, at: dt.datetime) -> Published:
        return super().publish(content.replace(b'METRIC_VALUE": 1', b'METRIC_VALUE": 9'), at)


@pytest.fixture
def scenario(home_copy, tmp_path):
    """Live settings on this test's copy of the built home (published at NOW), the
    stand-ins serving the same sample data, a local Slack, and the one Dagster instance."""
    with serve_sample_sources(day=DAY, scale=SCALE) as live, SlackServer(token=TOKEN) as slack:
        env = {
            **live.env,
            "DDRC_HOME": str(home_copy),
            "DDRC_SAMPLE_SCALE": str(SCALE),
            "SLACK_BOT_TOKEN": TOKEN,
            "DDRC_SLACK_CHANNEL": "#ddrc-test",
            "DDRC_SLACK_API_URL": slack.api_url,
            "DDRC_WEBSERVER_URL": "http://dagster.example",
            "DDRC_ACKNOWLEDGEMENTS": str(tmp_path / "ack.yaml"),
        }
        settings = dataclasses.replace(load_settings(env), http=FAST_HTTP)
        yield settings, live, slack, dg.DagsterInstance.ephemeral()


def test_gate_jump_check_verification_and_incidents(scenario):
    settings, live, slack, instance = scenario
    live_file = settings.publish_dir / FILE_NAME
    store = SqliteIncidentStore(settings.incident_store_path)

    # -- a good run: EPA reloaded from its stand-in and all below it rebuilt at NOW --
    good = live_file.read_bytes()  # the built home's file, published at NOW
    defs, result = run_pipeline(settings, instance, NOW, changed=[EPA])
    assert result.success
    assert publish_status(result) == "unchanged"  # the stand-in serves the built home's data
    assert live_file.read_bytes() == good
    cursor = tick(defs, instance, None)
    assert store.list_incidents() == [] and slack.messages == []

    # -- EPA down: one incident, the affected metric, the responder, delivered to Slack --
    live.arcgis.fail_always(LAYER_PATHS["epa"], Fault.status(503, "Service Unavailable"))
    later = NOW + dt.timedelta(hours=1)
    for _ in range(2):  # two failing runs of EPA and all below it, an hour after the good one
        defs, result = run_pipeline(settings, instance, later, changed=[EPA])
        assert not result.success
        cursor = tick(defs, instance, cursor)
    assert live_file.read_bytes() == good  # the public still sees the last good file
    (row,) = store.list_incidents(open_only=True)
    incident = row.incident
    assert incident.kind == FailureKind.SOURCE_LOAD_FAILED
    assert incident.severity == Severity.LOW
    assert list(incident.asset_keys) == ["raw/epa/public_status_assessment"]
    assert list(incident.affected_metrics) == ["cleanup_phase1_complete"]
    assert incident.run_url.startswith("http://dagster.example/runs/")
    assert row.occurrences == 2
    (parent,) = slack.parents()
    assert parent.channel and "cleanup_phase1_complete" in str(parent.blocks)
    assert len(slack.replies(parent.ts)) == 1  # the second failure is a thread reply
    assert all(TOKEN not in str(call) for call in slack.calls)

    # -- EPA back: the incident is resolved in its thread --
    live.arcgis.heal()
    defs, result = run_pipeline(settings, instance, later, changed=[EPA])
    assert result.success
    cursor = tick(defs, instance, cursor)
    assert store.list_incidents(open_only=True) == []
    assert [r.id for r in store.list_incidents()] == [row.id]  # the good run opened none
    assert slack.parents() == [parent]
    assert "retro" in slack.replies(parent.ts)[-1].text.lower()

    # -- Pasadena's issued permits triple: held back until acknowledged --
    pasadena = sample.arcgis_layer("pasadena", scale=SCALE, day=DAY)
    status = pc.if_else(
        pc.equal(pasadena.table["PERMIT_STATUS"], "In Review"),
        "Issued",
        pasadena.table["PERMIT_STATUS"],
    )
    index = pasadena.table.schema.get_field_index("PERMIT_STATUS")
    jumped = LayerData(pasadena.metadata, pasadena.table.set_column(index, "PERMIT_STATUS", status))
    live.arcgis.set_layer(LAYER_PATHS["pasadena"], jumped)
    defs, result = run_pipeline(settings, instance, later, changed=[PASADENA])
    assert not result.success
    (jump,) = [c for c in result.get_asset_check_evaluations() if c.check_name == JUMP_CHECK]
    assert not jump.passed
    assert "pasadena_rebuild_applications_in_review: 9.00 → 0.00" in jump.description
    assert live_file.read_bytes() == good
    cursor = tick(defs, instance, cursor)
    (held,) = store.list_incidents(open_only=True)
    assert held.incident.kind == FailureKind.PUBLICATION_HELD
    assert held.incident.severity == Severity.HIGH  # the gate holds every publish from now on
    # the incident names each held metric with its published and its new value
    assert "pasadena_rebuild_applications_in_review: 9.00 → 0.00" in held.incident.error_excerpt

    # a manual publish (the publish step alone) cannot skip the failed blocking check
    defs, result = run_pipeline(settings, instance, later, selection=[PUBLISH_KEY])
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert PublicationHeldError.__name__ in failure.step_failure_data.error.to_string()
    assert live_file.read_bytes() == good

    # acknowledged with the exact new values: published. Only the acknowledgement changed,
    # so the summary (its checks: dbt's and the jump check, which reads the file) and the
    # publish step run.
    summary = {m["METRIC_NAME"]: m for m in json.loads(good)}
    issued = sum(1 for s in status.to_pylist() if s == "Issued")
    in_review = 0
    lines = ["acknowledged:"]
    for name, value in (
        ("pasadena_building_permits_issued", issued),
        ("pasadena_rebuild_applications_in_review", in_review),
    ):
        if name in summary:
            lines.append(f"  - {{metric: {name}, value: {value}, by: test, reason: jump}}")
    settings.acknowledgements_path.write_text("\n".join(lines) + "\n")
    defs, result = run_pipeline(settings, instance, later, selection=[SUMMARY_KEY, PUBLISH_KEY])
    assert result.success, [e.message for e in result.all_events if e.is_step_failure]
    (jump,) = [c for c in result.get_asset_check_evaluations() if c.check_name == JUMP_CHECK]
    assert jump.passed and publish_status(result) == "published"
    published = {m["METRIC_NAME"]: m for m in json.loads(live_file.read_bytes())}
    assert published["pasadena_building_permits_issued"]["METRIC_VALUE"] == issued
    cursor = tick(defs, instance, cursor)
    assert store.list_incidents(open_only=True) == []


def test_post_publish_verification_failure_is_high_severity(scenario):
    settings, _, slack, instance = scenario
    # A first publication, on the built warehouse: the built home's file is removed, so
    # the publish step (run alone: it reads the summary the warehouse holds) has a file
    # to write, and the store hands back other bytes.
    shutil.rmtree(settings.publish_dir)
    defs = build_definitions(settings, clock=lambda: NOW)
    corrupt = CorruptingPublisher(directory=str(settings.publish_dir))
    result = dg.materialize(
        [*defs.assets, *defs.asset_checks],
        resources={**defs.resources, "publisher": corrupt},
        instance=instance,
        raise_on_error=False,
        selection=[PUBLISH_KEY],  # not partitioned: no partition key
    )
    assert not result.success
    (check,) = [c for c in result.get_asset_check_evaluations() if c.check_name == VERIFY_CHECK]
    assert not check.passed
    tick(defs, instance, None)
    store = SqliteIncidentStore(settings.incident_store_path)
    kinds = {r.incident.kind: r.incident for r in store.list_incidents(open_only=True)}
    verification = kinds[FailureKind.PUBLISH_VERIFICATION_FAILED]
    assert verification.severity == Severity.HIGH and verification.act_now
    assert "rollback" in " ".join(verification.runbook).lower()
    assert slack.parents()


def test_a_breach_is_what_dagsters_freshness_daemon_recorded():
    """The incidents read the daemon's verdicts (one evaluation of the policies)."""
    from ddrc_platform.core import catalog
    from ddrc_platform.defs.incidents.instance import stale_assets
    from ddrc_platform.defs.publish.public_file import PUBLISH_FRESHNESS

    instance = dg.DagsterInstance.ephemeral()
    raw = catalog.AIRTABLE_METRICS.asset_key  # entered by hand: a week before it is stale
    assert stale_assets(instance, [PUBLISH_KEY, raw]) == ([], [])  # never judged: neither
    record_freshness(instance, PUBLISH_KEY, "PASS")
    record_freshness(instance, raw, "WARN")
    assert stale_assets(instance, [PUBLISH_KEY, raw]) == ([], [PUBLISH_KEY, raw])
    record_freshness(instance, PUBLISH_KEY, "FAIL")
    assert stale_assets(instance, [PUBLISH_KEY, raw]) == ([PUBLISH_KEY], [raw])
    # the public file is as fresh as its most demanding source must be (daily: 50 h)
    publish_fails = PUBLISH_FRESHNESS.fail_window.to_timedelta()
    assert publish_fails == catalog.EPA.freshness.fail_window.to_timedelta()
