"""A finished run, from Dagster's event log into the classifier's plain records.

The classification itself is `ddrc_platform.incidents.classify`; this module knows what only
the Dagster side can know: the shape of Dagster's events and errors, the exceptions the other
stages raise, and the loaded graph.
"""

from __future__ import annotations

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
from ddrc_platform.ingest.contract import SchemaContractError
from ddrc_platform.ingest.delivery import DeliveryRefusedError
from ddrc_platform.ingest.sources.http import SourceDataError
from ddrc_platform.integrations.dagster import SerializableErrorInfo
from ddrc_platform.publish.checks import PublicationHeldError, PublishVerificationError
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
        )
    return None


def classify_run(
    status: dg.DagsterRunStatus,
    entries: Iterable[dg.EventLogEntry],
    facts: GraphFacts,
    planned: set[dg.AssetKey] | None,
) -> RunFindings:
    """What a finished run says, from its event log."""
    events = [e for e in map(run_event, entries) if e is not None]
    return classify(status, events, facts, planned, KIND_BY_EXCEPTION)


def graph_facts(
    repository: dg.RepositoryDefinition, settings: Settings
) -> tuple[GraphFacts, dict[dg.AssetKey, dg.FreshnessPolicy]]:
    """Which step computes what, what blocks the publication, what ages: read off the
    loaded graph, so this stage needs nothing of the others at build time."""
    assets = list({id(a): a for a in repository.assets_defs_by_key.values()}.values())
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
    )
    policies = {s.key: s.freshness_policy for a in assets for s in a.specs if s.freshness_policy}
    return facts, policies
