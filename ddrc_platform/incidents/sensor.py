"""The alerting sensor: every finished run and every freshness breach becomes incidents.

One sensor reads what happened — step failures, check evaluations, materializations of
each finished run, and the age of every asset with a freshness policy — and hands it to
the incident desk (`ddrc_platform/incidents/`), which deduplicates, routes and delivers.
Classifying a run as a whole (rather than reacting to single events) is what lets one
failure produce one incident: a dbt step that failed only because a blocking test
failed is reported as the held publication, not a second time as a dbt failure.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import dagster as dg
from dagster import DagsterEventType, DagsterRunStatus

from ddrc_platform.core import catalog
from ddrc_platform.core.locks import ResourceBusyError
from ddrc_platform.core.names import (
    GATE_CHECK,
    INCIDENT_SENSOR,
    PUBLISH_KEY,
    SCHEMA_CONTRACT_CHECK,
    SUMMARY_KEY,
    VERIFY_CHECK,
)
from ddrc_platform.incidents import FailureKind, IncidentDesk, IncidentRow, Recovery, build_desk
from ddrc_platform.incidents.airtable import entry_changes
from ddrc_platform.incidents.slack_resource import IncidentSlackResource
from ddrc_platform.ingest.contract import SchemaContractError
from ddrc_platform.ingest.delivery import DeliveryRefusedError
from ddrc_platform.ingest.sources.http import SourceDataError
from ddrc_platform.integrations.dagster import RunsFilter, SerializableErrorInfo
from ddrc_platform.publish.checks import PublicationHeldError, PublishVerificationError
from ddrc_platform.publish.targets.base import Publisher
from ddrc_platform.settings import Settings
from ddrc_platform.transform.project import DBT_PROJECT_DIR
from ddrc_platform.warehouse.base import Warehouse, WarehouseBusyError

# failures whose own check result already says it all (columns, the gate, the verification)
_REPORTED_BY_THEIR_CHECK = frozenset(
    cls.__name__ for cls in (SchemaContractError, PublicationHeldError, PublishVerificationError)
)
_FINISHED = [DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]
# failures that mean the same whatever step raised them, by exception class
_KIND_BY_EXCEPTION = {
    **dict.fromkeys(
        (WarehouseBusyError.__name__, ResourceBusyError.__name__), FailureKind.WAREHOUSE_BUSY
    ),
    DeliveryRefusedError.__name__: FailureKind.DELIVERY_REFUSED,
    SourceDataError.__name__: FailureKind.BAD_SOURCE_DATA,
}
# what Dagster's run monitoring says when it stops a run past its maximum runtime
_MAX_RUNTIME = "maximum runtime"
_RUN_STOPPING = (DagsterEventType.RUN_CANCELING, DagsterEventType.RUN_FAILURE)


@dataclass
class Report:
    kind: FailureKind
    keys: list[dg.AssetKey]
    error: str | None = None
    check_name: str | None = None


@dataclass
class RunFindings:
    """What one finished run says: failures to report, successes that end incidents."""

    reports: list[Report] = field(default_factory=list)
    materialized: set[dg.AssetKey] = field(default_factory=set)
    passed_checks: list[dg.AssetCheckKey] = field(default_factory=list)


@dataclass(frozen=True)
class GraphFacts:
    """What the classifier needs to know of the graph: which step computes which assets."""

    assets_by_step: Mapping[str, frozenset[dg.AssetKey]]
    fivetran_keys: frozenset[dg.AssetKey]
    dbt_step: str
    blocking_checks: frozenset[dg.AssetCheckKey]

    @classmethod
    def of(
        cls,
        assets: Iterable[dg.AssetsDefinition],
        dbt_step: str,
        blocking_checks: Iterable[dg.AssetCheckKey],
        fivetran_keys: Iterable[dg.AssetKey] = (),
    ) -> GraphFacts:
        return cls(
            assets_by_step={a.node_def.name: frozenset(a.keys) for a in assets},
            fivetran_keys=frozenset(fivetran_keys),
            dbt_step=dbt_step,
            blocking_checks=frozenset(blocking_checks),
        )


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


def classify_run(
    status: DagsterRunStatus,
    events: Iterable[dg.EventLogEntry],
    facts: GraphFacts,
    planned: set[dg.AssetKey] | None,
) -> RunFindings:
    findings = RunFindings()
    failed_steps: dict[str, SerializableErrorInfo] = {}
    failed_checks: list[tuple[dg.AssetCheckKey, bool, str | None]] = []
    past_max_runtime: str | None = None
    for entry in events:
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type in _RUN_STOPPING and _MAX_RUNTIME in (entry.message or "").lower():
            past_max_runtime = entry.message
        elif event.event_type == DagsterEventType.STEP_FAILURE:
            failed_steps[event.step_key] = event.step_failure_data.error
        elif event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            findings.materialized.add(event.asset_key)
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            key = dg.AssetCheckKey(evaluation.asset_key, evaluation.check_name)
            if evaluation.passed:
                findings.passed_checks.append(key)
            else:
                failed_checks.append(
                    (
                        key,
                        evaluation.severity == dg.AssetCheckSeverity.ERROR,
                        evaluation.description,  # names the columns, the metrics and values
                    )
                )

    for key, is_error, description in failed_checks:
        if key.name == SCHEMA_CONTRACT_CHECK:
            kind = FailureKind.SCHEMA_DRIFT
        elif key.name == VERIFY_CHECK:
            kind = FailureKind.PUBLISH_VERIFICATION_FAILED
        elif is_error and (key in facts.blocking_checks or key.name == GATE_CHECK):
            kind = FailureKind.PUBLICATION_HELD
        else:
            kind = FailureKind.DATA_CHECK_FAILED
        findings.reports.append(
            Report(kind, [key.asset_key], error=description, check_name=key.name)
        )
    reported_checks = {k.asset_key for k, _, _ in failed_checks}

    for step, info in failed_steps.items():
        keys = sorted(facts.assets_by_step.get(step, frozenset()), key=str)
        error = error_report(info)
        types = exception_types(info)
        reported_by_check = bool(types & _REPORTED_BY_THEIR_CHECK)
        by_exception = next((_KIND_BY_EXCEPTION[t] for t in types if t in _KIND_BY_EXCEPTION), None)
        if by_exception is not None:
            findings.reports.append(Report(by_exception, keys, error))
        elif step == facts.dbt_step:
            # models that did not build; none missing means only tests failed (reported above)
            expected = set(keys) & planned if planned else set(keys)
            missing = sorted(expected - findings.materialized - reported_checks, key=str)
            if missing:
                findings.reports.append(Report(FailureKind.DBT_MODEL_FAILED, missing, error))
        elif PUBLISH_KEY in keys:
            if reported_by_check:
                continue  # reported by its check (verification, or the gate)
            findings.reports.append(Report(FailureKind.PUBLISH_FAILED, keys, error))
        elif set(keys) & facts.fivetran_keys:
            findings.reports.append(Report(FailureKind.FIVETRAN_SYNC_FAILED, keys, error))
        elif reported_by_check and set(keys) & reported_checks:
            continue  # the schema_contract check failure says it, with the columns
        elif keys:
            findings.reports.append(Report(FailureKind.SOURCE_LOAD_FAILED, keys, error))
    busy = [r for r in findings.reports if r.kind is FailureKind.WAREHOUSE_BUSY]
    if len(busy) > 1:  # every step waited for the same other run: one incident says it
        keys = sorted({key for r in busy for key in r.keys}, key=str)
        findings.reports = [r for r in findings.reports if r not in busy]
        findings.reports.append(Report(FailureKind.WAREHOUSE_BUSY, keys, busy[0].error))
    if status in (DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED) and past_max_runtime:
        findings.reports.append(
            Report(FailureKind.RUN_HUNG, sorted(planned or [], key=str), past_max_runtime)
        )
    elif status == DagsterRunStatus.FAILURE and not findings.reports:
        findings.reports.append(Report(FailureKind.RUN_FAILED, sorted(planned or [], key=str)))
    return findings


def hung_runs(
    instance: dg.DagsterInstance, now: datetime, max_seconds: float
) -> list[tuple[str, set[dg.AssetKey], str]]:
    """Runs still going past the maximum runtime: (run id, planned assets, what is wrong).

    Run monitoring (`run_monitoring.max_runtime_seconds`) stops them where a daemon runs;
    this notices them anyway, while they still hold the warehouse or the publishing slot.
    """
    hung = []
    for record in instance.get_run_records(RunsFilter(statuses=[DagsterRunStatus.STARTED])):
        started = record.start_time
        if started is None or now.timestamp() - started <= max_seconds:
            continue
        run = record.dagster_run
        minutes = (now.timestamp() - started) / 60
        hung.append(
            (
                run.run_id,
                set(run.asset_selection or ()),
                f"run {run.run_id} of {run.job_name} has been running for {minutes:.0f} min, "
                f"past its maximum runtime of {max_seconds / 60:.0f} min (DDRC_MAX_RUN_SECONDS)",
            )
        )
    return hung


def metric_sources(publisher: Publisher) -> dict[str, set[dg.AssetKey]]:
    """Published metric -> the raw tables it is computed from (catalog + Airtable for the rest)."""
    sources: dict[str, set[dg.AssetKey]] = {}
    families = catalog.by_metric_family()
    with (DBT_PROJECT_DIR / "seeds" / "metric_catalog.csv").open() as handle:
        for row in csv.DictReader(handle):
            sources[row["metric_name"]] = {families[row["source"]].asset_key}
    current = publisher.current()
    for item in json.loads(current) if current else []:
        sources.setdefault(item["METRIC_NAME"], {catalog.AIRTABLE_METRICS.asset_key})
    return sources


def stale_assets(
    instance: dg.DagsterInstance,
    policies: Mapping[dg.AssetKey, dg.FreshnessPolicy],
    now: datetime,
) -> tuple[list[dg.AssetKey], list[dg.AssetKey]]:
    """(beyond their fail window, within it); never-materialized assets are neither."""
    stale, fresh = [], []
    for key, policy in policies.items():
        latest = instance.get_latest_materialization_event(key)
        if latest is None:
            continue
        age = now - datetime.fromtimestamp(latest.timestamp, UTC)
        (stale if age > policy.fail_window.to_timedelta() else fresh).append(key)
    return stale, fresh


def last_good(instance: dg.DagsterInstance, keys: Iterable[dg.AssetKey]) -> datetime | None:
    """When the oldest of these assets last materialized: its numbers age from then."""
    times = []
    for key in keys:
        event = instance.get_latest_materialization_event(key)
        if event is None:
            return None
        times.append(datetime.fromtimestamp(event.timestamp, UTC))
    return min(times, default=None)


def record_run(
    desk: IncidentDesk,
    instance: dg.DagsterInstance,
    run_id: str,
    findings: RunFindings,
    run_url: str,
) -> list[IncidentRow]:
    """Report the run's failures and recoveries; the incidents it newly opened."""
    opened = []
    for report in findings.reports:
        row, is_new = desk.report(
            report.kind,
            report.keys,
            run_id=run_id,
            run_url=run_url,
            error=report.error,
            check_name=report.check_name,
            last_good=last_good(instance, report.keys),
        )
        if is_new:
            opened.append(row)
    failed = {key for report in findings.reports for key in report.keys}
    for key in findings.materialized - failed:  # a run cannot prove what it also failed
        desk.recover(key, by=Recovery.MATERIALIZED)
    for check in findings.passed_checks:
        desk.recover(check.asset_key, by=Recovery.CHECK_PASSED, check_name=check.name)
    return opened


def explain_airtable_entries(
    desk: IncidentDesk,
    row: IncidentRow,
    settings: Settings,
    raw: Warehouse,
    published: bytes | None,
) -> list[str]:
    """Note on a held publication (or failed check) of manual metrics the Airtable entries
    that changed them. Best effort: the incident stands even if the table cannot be read."""
    if row.incident.kind not in (FailureKind.PUBLICATION_HELD, FailureKind.DATA_CHECK_FAILED):
        return []
    manual = set(desk.triage.lineage.fed_by(catalog.AIRTABLE_METRICS.asset_key))
    metrics = [m for m in row.incident.affected_metrics if m in manual]
    if not metrics:
        return []
    try:
        notes = entry_changes(
            raw, published, metrics, settings.airtable.base_id, settings.airtable.table
        )
    except Exception as error:  # a note saying so, never a failed tick
        notes = [f"Airtable entries not read: {desk.triage.redact(str(error))[:300]}"]
    for note in notes:
        desk.store.add_note(row.key, note, row.opened_at)
    return notes


def observe_incident(instance: dg.DagsterInstance, row: IncidentRow, notes: list[str]) -> None:
    """The incident on the failed assets' pages, as an observation (a sensor cannot
    materialize): its id, title, severity, runbook and run."""
    incident = row.incident
    metadata: dict[str, dg.RawMetadataValue] = {
        "incident_id": incident.id,
        "incident_title": incident.title,
        "severity": incident.severity.value,
        "runbook": dg.MetadataValue.md("\n".join(f"1. {step}" for step in incident.runbook)),
    }
    if incident.run_url:
        metadata["run"] = dg.MetadataValue.url(incident.run_url)
    if notes:
        metadata["notes"] = dg.MetadataValue.md("\n".join(f"- {note}" for note in notes))
    for key in incident.asset_keys:
        instance.report_runless_asset_event(
            dg.AssetObservation(asset_key=dg.AssetKey.from_user_string(key), metadata=metadata)
        )


def make_desk(
    settings: Settings, defs_graph: object, publisher: Publisher, slack: IncidentSlackResource
) -> IncidentDesk:
    return build_desk(
        oncall_path=settings.oncall_path,
        store_path=settings.incident_store_location,
        metric_sources=metric_sources(publisher),
        graph=defs_graph,
        secrets=settings.secrets,
        deployment=settings.deployment.value,
        slack_channel=slack.channel,
        slack_token=slack.token or None,
        slack_webhook_url=slack.webhook_url,
        slack_base_url=slack.base_url,
        webserver_url=settings.webserver_url,
        source_urls={
            t.asset_key.to_user_string(): settings.endpoint(t.endpoint.setting).url
            + t.endpoint.path
            for t in catalog.RAW_TABLES
            if t.endpoint is not None and t.endpoint.setting in settings.endpoints
        },
    )


def build_incident_sensor(settings: Settings) -> dg.SensorDefinition:
    desks: list[IncidentDesk] = []  # built at the first tick, then kept for this code location
    graphs: list[tuple[GraphFacts, dict[dg.AssetKey, dg.FreshnessPolicy]]] = []
    reported_hung: set[str] = set()  # one report per hung run, not one per tick

    @dg.sensor(
        name=INCIDENT_SENSOR,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Turns failed runs, failed checks and freshness breaches into incidents "
        "(one per ongoing problem) and delivers them to Slack, or to the console and the "
        "incident store when no Slack token is set.",
    )
    def ddrc_incidents(
        context: dg.SensorEvaluationContext,
        publisher: dg.ResourceParam[Publisher],
        slack: IncidentSlackResource,
        warehouse: dg.ResourceParam[Warehouse],
    ) -> dg.SkipReason:
        instance = context.instance
        if not desks:
            desks.append(make_desk(settings, context.repository_def.asset_graph, publisher, slack))
            graphs.append(graph_facts(context.repository_def, settings))
        desk = desks[0]
        facts, policies = graphs[0]
        after = datetime.fromisoformat(context.cursor) if context.cursor else None
        records = instance.get_run_records(
            RunsFilter(statuses=_FINISHED, updated_after=after),
            order_by="update_timestamp",
            ascending=True,
            limit=25,
        )
        for record in records:
            run = record.dagster_run
            findings = classify_run(
                run.status,
                instance.all_logs(run.run_id),
                facts,
                set(run.asset_selection) if run.asset_selection else None,
            )
            run_url = f"{settings.webserver_url}/runs/{run.run_id}"
            for row in record_run(desk, instance, run.run_id, findings, run_url):
                published = publisher.current()
                notes = explain_airtable_entries(desk, row, settings, warehouse, published)
                observe_incident(instance, row, notes)
            context.update_cursor(record.update_timestamp.isoformat())
        now = datetime.now(UTC)
        for run_id, keys, problem in hung_runs(instance, now, settings.max_run_seconds):
            if run_id not in reported_hung:
                reported_hung.add(run_id)
                desk.report(
                    FailureKind.RUN_HUNG,
                    sorted(keys, key=str),
                    run_id=run_id,
                    run_url=f"{settings.webserver_url}/runs/{run_id}",
                    error=problem,
                )
        stale, fresh = stale_assets(instance, policies, now)
        for key in stale:
            kind = (
                FailureKind.PUBLISHED_FILE_STALE if key == PUBLISH_KEY else FailureKind.SOURCE_STALE
            )
            desk.report(kind, [key])
        for key in fresh:
            desk.recover(key, by=Recovery.FRESH)
        delivery = desk.deliver()
        return dg.SkipReason(
            f"{len(records)} finished run(s) read, {len(stale)} stale asset(s); "
            f"delivered {len(delivery.delivered)}, {len(delivery.failed)} waiting for Slack"
        )

    return ddrc_incidents


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
    fivetran = [t.asset_key for t in catalog.FIVETRAN_TABLES] if settings.fivetran else []
    dbt_step = repository.assets_defs_by_key[SUMMARY_KEY].node_def.name
    facts = GraphFacts.of(
        assets, dbt_step=dbt_step, blocking_checks=blocking, fivetran_keys=fivetran
    )
    policies = {s.key: s.freshness_policy for a in assets for s in a.specs if s.freshness_policy}
    return facts, policies


def build_incident_defs(settings: Settings) -> dg.Definitions:
    return dg.Definitions(sensors=[build_incident_sensor(settings)])
