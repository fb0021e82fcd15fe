"""A finished run, from Dagster's event log into the classifier's plain records.

The classification itself is `ddrc_platform.incidents.classify`; this module knows what only
the Dagster side can know: the shape of Dagster's events and errors, the exceptions the other
stages raise, and the loaded graph.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import dagster as dg

from ddrc_platform.core import catalog
from ddrc_platform.core.locks import ResourceBusyError
from ddrc_platform.core.names import SUMMARY_KEY
from ddrc_platform.incidents import FailureKind
from ddrc_platform.incidents.classify import (
    CheckEvaluation,
    GraphFacts,
    Materialization,
    RunEvent,
    RunFindings,
    StepFailure,
    StoppedPastMaxRuntime,
    classify,
)
from ddrc_platform.incidents.dead_runs import StartedRun, dead_runs
from ddrc_platform.ingest.contract import SchemaContractError
from ddrc_platform.ingest.delivery import DeliveryRefusedError
from ddrc_platform.ingest.sources.http import SourceDataError
from ddrc_platform.integrations.dagster import SerializableErrorInfo
from ddrc_platform.publish.checks import PublicationHeldError, PublishVerificationError
from ddrc_platform.publish.rollback import PIN_METADATA
from ddrc_platform.settings import Settings
from ddrc_platform.warehouse.base import WarehouseBusyError

# what an exception means, whichever step raised it; a step failure names its exception
# classes through its causes, so a renamed class renames its key here
KIND_BY_EXCEPTION: dict[type[BaseException], FailureKind] = {
    WarehouseBusyError: FailureKind.WAREHOUSE_BUSY,
    ResourceBusyError: FailureKind.WAREHOUSE_BUSY,
    DeliveryRefusedError: FailureKind.DELIVERY_REFUSED,
    SourceDataError: FailureKind.BAD_SOURCE_DATA,
    # reported by their checks' results (the columns, the gate, the verification)
    SchemaContractError: FailureKind.SCHEMA_DRIFT,
    PublicationHeldError: FailureKind.PUBLICATION_HELD,
    PublishVerificationError: FailureKind.PUBLISH_VERIFICATION_FAILED,
}
# what Dagster's run monitoring says when it stops a run past its maximum runtime
_MAX_RUNTIME = "maximum runtime"
_RUN_STOPPING = (dg.DagsterEventType.RUN_CANCELING, dg.DagsterEventType.RUN_FAILURE)


def exception_types(info: SerializableErrorInfo) -> set[str]:
    """The exception classes of a step failure, through its causes and contexts."""
    found: set[str] = set()
    todo: list[SerializableErrorInfo | None] = [info]
    while todo:
        current = todo.pop()
        if current is not None and current.cls_name not in found:
            found.add(current.cls_name or "")
            todo += [current.cause, current.context]
    return found


def own_message(info: SerializableErrorInfo) -> str:
    """The message of the error our code raised, not Dagster's wrapper around it."""
    todo: list[SerializableErrorInfo | None] = [info]
    while todo:
        current = todo.pop(0)
        if current is None:
            continue
        if not (current.cls_name or "").startswith("Dagster"):
            return current.message.strip()
        todo += [current.cause, current.context]
    return info.message.strip()


def error_report(info: SerializableErrorInfo) -> str:
    """The error's own message first (what a responder needs), then Dagster's full text."""
    return f"{own_message(info)}\n\n{info.to_string()}"


def run_event(entry: dg.EventLogEntry) -> RunEvent | None:
    """The classifier's record of one event-log entry; None for what it does not read."""
    event = entry.dagster_event
    if event is None:
        return None
    if event.event_type in _RUN_STOPPING and _MAX_RUNTIME in (entry.message or "").lower():
        return StoppedPastMaxRuntime(entry.message)
    if event.event_type == dg.DagsterEventType.STEP_FAILURE:
        info = event.step_failure_data.error
        return StepFailure(event.step_key, tuple(sorted(exception_types(info))), error_report(info))
    if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
        return Materialization(event.asset_key)
    if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
        evaluation = event.event_specific_data
        return CheckEvaluation(
            dg.AssetCheckKey(evaluation.asset_key, evaluation.check_name),
            passed=evaluation.passed,
            is_error=evaluation.severity == dg.AssetCheckSeverity.ERROR,
            description=evaluation.description,
            pinned=PIN_METADATA in evaluation.metadata,
        )
    return None


def classify_run(
    status: dg.DagsterRunStatus,
    entries: Iterable[dg.EventLogEntry],
    facts: GraphFacts,
    planned: set[dg.AssetKey] | None,
) -> RunFindings:
    """What a finished run says, from its event log. A failure with nothing more specific
    to say carries the run's own failure message (why Dagster or the sensor ended it)."""
    entries = list(entries)
    events = [e for e in map(run_event, entries) if e is not None]
    findings = classify(status, events, facts, planned, KIND_BY_EXCEPTION)
    ended = [
        e.message
        for e in entries
        if e.dagster_event and e.dagster_event.event_type == dg.DagsterEventType.RUN_FAILURE
    ]
    findings.reports = [
        dataclasses.replace(r, error=ended[-1])
        if r.kind is FailureKind.RUN_FAILED and r.error is None and ended
        else r
        for r in findings.reports
    ]
    return findings


def started_run(instance: dg.DagsterInstance, run: dg.DagsterRun) -> StartedRun:
    """The run as `dead_runs` judges it: the process that wrote its (last) RUN_START."""
    records = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.RUN_START, ascending=False, limit=1
    ).records
    entry = records[0].event_log_entry if records else None
    pid = entry.dagster_event.pid if entry and entry.dagster_event else None
    return StartedRun(run.run_id, run.job_name, pid, entry.timestamp if entry else 0.0)


def fail_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the STARTED runs whose process is gone; their ids. The sensor reports
    them with the other failed runs. Only where run workers are processes of this machine
    (the DefaultRunLauncher: see `ddrc_platform.incidents.dead_runs`)."""
    if not isinstance(instance.run_launcher, dg.DefaultRunLauncher):
        return []
    started = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    failed = []
    for dead in dead_runs(started_run(instance, run) for run in started):
        run = instance.get_run_by_id(dead.run_id)
        # read after the process was found gone: a run it finished meanwhile is left alone
        if run is not None and run.status == dg.DagsterRunStatus.STARTED:
            instance.report_run_failed(run, dead.message)
            failed.append(dead.run_id)
    return failed


def graph_facts(
    repository: dg.RepositoryDefinition, settings: Settings
) -> tuple[GraphFacts, dict[dg.AssetKey, dg.FreshnessPolicy]]:
    """Which step computes what, what blocks the publication, what ages: read off the
    loaded graph, so this stage needs nothing of the others at build time."""
    # the pin's release has no step: the rollback job records it
    defined = repository.assets_defs_by_key.values()
    assets = list({id(a): a for a in defined if a.is_executable}.values())
    checks = [*assets, *repository.asset_checks_defs_by_key.values()]
    blocking = {
        spec.key
        for definition in checks
        for spec in definition.check_specs
        if spec.blocking and spec.asset_key == SUMMARY_KEY
    }
    facts = GraphFacts(
        assets_by_step={a.node_def.name: frozenset(a.keys) for a in assets},
        fivetran_keys=frozenset(
            t.asset_key for t in (catalog.FIVETRAN_TABLES if settings.fivetran else ())
        ),
        dbt_step=repository.assets_defs_by_key[SUMMARY_KEY].node_def.name,
        blocking_checks=frozenset(blocking),
        other_dbt_steps=frozenset(
            a.node_def.name for a in assets if any("dbt" in spec.kinds for spec in a.specs)
        ),
    )
    policies = {s.key: s.freshness_policy for a in assets for s in a.specs if s.freshness_policy}
    return facts, policies
