"""The check `no_open_incident` on every asset: an open incident shows on its page as a
failed check (`ddrc_platform/incidents/asset_page.py` decides what it says).

The incident sensor records its evaluations (runless) as incidents open, get notes and
resolve; run by hand, the check reads the incident store and says the same. No pipeline run
pays for it: the pipeline job leaves it out, and automation never requests it (a check
without a condition of its own rides along with every asset automation runs).
"""

from collections.abc import Iterable, Iterator
from typing import Any

import dagster as dg

from ddrc_platform.build import Build, current
from ddrc_platform.core import catalog
from ddrc_platform.core.names import PUBLISH_KEY
from ddrc_platform.incidents.asset_page import INCIDENT_CHECK, PageEntry, verdicts
from ddrc_platform.incidents.store import IncidentStore, open_incident_store

# by hand only: a condition that never holds keeps it out of every automation run; built on
# `newly_requested`, which the evaluation reads from its own cursor: the 29 checks cost
# 2 ms of an evaluation, where `in_progress` (a run-storage query each) cost as much as
# every asset's condition together
BY_HAND_ONLY = (
    dg.AutomationCondition.newly_requested() & ~dg.AutomationCondition.newly_requested()
).with_label("by hand only: the incident sensor records it")


def graph_keys(build: Build) -> list[dg.AssetKey]:
    """Every asset a run materializes: the sources, the dbt project's, the public file (not
    the pin's release, a marker the rollback job records and no incident names)."""
    latest, history = build.dbt_assets
    keys = {t.asset_key for t in catalog.RAW_TABLES} | set(latest.keys) | set(history.keys)
    return sorted(keys | {PUBLISH_KEY}, key=str)


def incident_check_keys(keys: Iterable[dg.AssetKey]) -> list[dg.AssetCheckKey]:
    return [dg.AssetCheckKey(key, INCIDENT_CHECK) for key in keys]


def _metadata(entry: PageEntry) -> dict[str, dg.MetadataValue]:
    """The entry's metadata as the UI renders it: the runbook numbered, the run a link."""
    shown: dict[str, dg.MetadataValue] = {}
    for name, value in entry.metadata.items():
        if name == "runbook":
            shown[name] = dg.MetadataValue.md("\n".join(f"1. {step}" for step in value))
        elif name == "notes":
            shown[name] = dg.MetadataValue.md("\n".join(f"- {note}" for note in value))
        elif name == "run":
            shown[name] = dg.MetadataValue.url(str(value))
        else:
            shown[name] = dg.MetadataValue.text(str(value))
    return shown


def _severity(entry: PageEntry) -> dg.AssetCheckSeverity:
    return dg.AssetCheckSeverity.ERROR if entry.error else dg.AssetCheckSeverity.WARN


def _outcome(entry: PageEntry) -> dict[str, Any]:
    """What the check says of one asset, recorded by the sensor or yielded by hand."""
    return {
        "check_name": INCIDENT_CHECK,
        "passed": entry.passed,
        "severity": _severity(entry),
        "description": entry.description,
        "metadata": _metadata(entry),
    }


def evaluation(key: dg.AssetKey, entry: PageEntry) -> dg.AssetCheckEvaluation:
    return dg.AssetCheckEvaluation(asset_key=key, **_outcome(entry))


def recorded_state(instance: dg.DagsterInstance, key: dg.AssetKey) -> str | None:
    """The `page_state` of the check's latest evaluation; None when it has none."""
    record = instance.get_latest_asset_check_evaluation_record(
        dg.AssetCheckKey(key, INCIDENT_CHECK)
    )
    event = record.event.dagster_event if record and record.event else None
    if event is None or not isinstance(event.event_specific_data, dg.AssetCheckEvaluation):
        return None
    state = event.event_specific_data.metadata.get("page_state")
    return str(state.value) if state is not None else ""


def _verdicts(
    store: IncidentStore, keys: Iterable[dg.AssetKey]
) -> list[tuple[dg.AssetKey, PageEntry]]:
    by_name = {key.to_user_string(): key for key in keys}
    return [(by_name[name], entry) for name, entry in verdicts(store, list(by_name))]


def sync_asset_pages(
    instance: dg.DagsterInstance, store: IncidentStore, keys: Iterable[dg.AssetKey]
) -> list[dg.AssetKey]:
    """Record the check's verdict on each asset whose incidents changed since it was last
    recorded (opened, repeated, noted, resolved); the keys recorded. An asset never failed
    and with nothing open gets no evaluation: nothing changed on its page."""
    recorded = []
    for key, entry in _verdicts(store, keys):
        before = recorded_state(instance, key)
        if before == entry.state or (before is None and entry.passed):
            continue
        instance.report_runless_asset_event(evaluation(key, entry))
        recorded.append(key)
    return recorded


def build_incident_check(build: Build) -> dg.AssetChecksDefinition:
    keys = graph_keys(build)
    settings = build.settings

    @dg.multi_asset_check(
        name="ddrc_no_open_incident",
        can_subset=True,  # one asset's page by hand, from its own page
        specs=[
            dg.AssetCheckSpec(
                INCIDENT_CHECK,
                asset=key,
                description="Fails while an incident is open on this asset (its text, runbook "
                "and run); the incident sensor records it, or run it by hand.",
                automation_condition=BY_HAND_ONLY,
            )
            for key in keys
        ],
    )
    def no_open_incident(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        store = open_incident_store(settings.incident_store_location)
        selected = [check.asset_key for check in context.selected_asset_check_keys]
        for key, entry in _verdicts(store, selected):
            yield dg.AssetCheckResult(asset_key=key, **_outcome(entry))

    return no_open_incident


@dg.definitions
def asset_page() -> dg.Definitions:
    return dg.Definitions(asset_checks=[build_incident_check(current())])
