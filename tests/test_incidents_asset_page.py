"""An open incident on its assets' pages: a failed check with its text, passed once resolved.

Issue 18: the incident showed as an "Observed" event with a green icon.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from ddrc_platform.core.names import PIPELINE_JOB, PUBLISH_KEY
from ddrc_platform.definitions import build_definitions
from ddrc_platform.defs.incidents.asset_page import BY_HAND_ONLY, sync_asset_pages
from ddrc_platform.incidents import (
    FailureKind,
    IncidentDesk,
    Recovery,
    Redactor,
    Router,
    SqliteIncidentStore,
    Triage,
    load_oncall,
    make_notifier,
)
from ddrc_platform.incidents.asset_page import INCIDENT_CHECK, page_entry
from ddrc_platform.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
AT = dt.datetime(2026, 4, 4, 10, 0, tzinfo=dt.UTC)  # Saturday
EPA = dg.AssetKey.from_user_string("raw/epa/public_status_assessment")


@pytest.fixture
def desk(tmp_path: Path) -> IncidentDesk:
    triage = Triage(
        Router(load_oncall(ROOT / "config" / "oncall.yaml"), lambda: AT),
        redactor=Redactor([]),
        deployment="prd",
        webserver_url="https://dagster.example.org",
    )
    store = SqliteIncidentStore(tmp_path / "incidents.sqlite")
    return IncidentDesk(triage, store, make_notifier(channel=None))


def latest(instance: dg.DagsterInstance, key: dg.AssetKey) -> dg.AssetCheckEvaluation | None:
    check = dg.AssetCheckKey(key, INCIDENT_CHECK)
    record = instance.get_latest_asset_check_evaluation_record(check)
    return record.event.dagster_event.event_specific_data if record else None


def test_the_page_says_the_most_severe_incident_first_and_warns_for_a_low_one(desk):
    low, _ = desk.report(FailureKind.SOURCE_LOAD_FAILED, [EPA], run_id="r-1", error="503")
    entry = page_entry([low], {})
    assert not entry.passed and not entry.error  # a warning: the site keeps the last good data
    assert entry.description.startswith(low.incident.title)
    assert entry.metadata["run"] == "https://dagster.example.org/runs/r-1"
    high, _ = desk.report(FailureKind.PUBLISH_FAILED, [EPA, PUBLISH_KEY], error="SAS expired")
    both = page_entry([low, high], {high.key: ["rolled back"]})
    assert both.error and both.metadata["incident_id"] == high.id
    assert f"Also open: {low.incident.title}" in both.description
    assert "Note: rolled back" in both.description
    assert page_entry([], {}).passed


def test_the_sensor_path_fails_the_check_with_the_incident_then_passes_it_once_resolved(desk):
    instance = dg.DagsterInstance.ephemeral()
    keys = [EPA, PUBLISH_KEY]
    assert sync_asset_pages(instance, desk.store, keys) == []  # nothing open, nothing said
    row, _ = desk.report(FailureKind.SOURCE_LOAD_FAILED, [EPA], run_id="r-1", error="503")
    assert sync_asset_pages(instance, desk.store, keys) == [EPA]
    failed = latest(instance, EPA)
    assert failed is not None and not failed.passed
    assert failed.severity is dg.AssetCheckSeverity.WARN
    assert row.incident.title in failed.description
    assert failed.metadata["incident_id"].value == row.id
    assert "1. " in failed.metadata["runbook"].value
    assert failed.metadata["run"].value == "https://dagster.example.org/runs/r-1"
    assert sync_asset_pages(instance, desk.store, keys) == []  # unchanged: not said twice

    desk.store.add_note(row.key, "the agency is rebuilding its layer", AT)
    assert sync_asset_pages(instance, desk.store, keys) == [EPA]
    assert "the agency is rebuilding" in latest(instance, EPA).metadata["notes"].value

    desk.recover(EPA, by=Recovery.MATERIALIZED)
    assert sync_asset_pages(instance, desk.store, keys) == [EPA]
    assert latest(instance, EPA).passed
    assert latest(instance, PUBLISH_KEY) is None


def test_every_asset_has_the_check_by_hand_and_no_pipeline_run_pays_for_it(tmp_path):
    settings = load_settings({"DDRC_HOME": str(tmp_path / "ddrc")})
    defs = build_definitions(settings)
    graph = defs.resolve_asset_graph()
    checks = {key for key in graph.asset_check_keys if key.name == INCIDENT_CHECK}
    assert {key.asset_key for key in checks} == set(graph.materializable_asset_keys)
    assert {graph.get_check_spec(key).automation_condition for key in checks} == {BY_HAND_ONLY}
    assert not graph.get_check_spec(next(iter(checks))).blocking
    job = defs.resolve_job_def(PIPELINE_JOB)
    assert not checks & set(job.asset_layer.asset_graph.asset_check_keys)


def test_the_by_hand_condition_never_requests_the_check_while_its_asset_runs():
    """The condition is read from the evaluation's cursor (no storage query): it must still
    never hold, on the first evaluation, nor after its asset was requested and built."""

    @dg.asset(automation_condition=dg.AutomationCondition.missing())
    def source() -> None: ...

    @dg.asset_check(asset=source, automation_condition=BY_HAND_ONLY)
    def by_hand() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    defs = dg.Definitions(assets=[source], asset_checks=[by_hand])
    instance = dg.DagsterInstance.ephemeral()
    check = dg.AssetCheckKey(source.key, "by_hand")
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert first.get_num_requested(source.key) == 1  # the asset's own condition holds
    assert first.get_num_requested(check) == 0
    dg.materialize([source], instance=instance, selection=[source.key])
    later = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    assert later.get_num_requested(check) == 0
