"""Failed runs, failed checks and freshness breaches, turned into incidents.

One sensor reads what happened — step failures, check evaluations, materializations of
each finished run, the runs past their maximum runtime, and the age of every asset with a
freshness policy — and hands it to the incident desk (`ddrc_platform/incidents/`), which
classifies, deduplicates, routes and delivers. This module only translates: the decisions
are plain functions in `ddrc_platform.incidents.classify`.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime

import dagster as dg

from ddrc_platform.build import current
from ddrc_platform.core import catalog
from ddrc_platform.core.names import INCIDENT_SENSOR
from ddrc_platform.defs.incidents.asset_page import sync_asset_pages
from ddrc_platform.defs.incidents.desk import make_desk
from ddrc_platform.defs.incidents.instance import hung_runs, last_good, stale_assets
from ddrc_platform.defs.incidents.runs import classify_run, fail_dead_runs, graph_facts
from ddrc_platform.defs.incidents.slack_resource import IncidentSlackResource
from ddrc_platform.incidents import FailureKind, IncidentDesk, IncidentRow, Recovery
from ddrc_platform.incidents.airtable import ENTRIES_QUERY, entry_changes
from ddrc_platform.incidents.asset_page import INCIDENT_CHECK
from ddrc_platform.incidents.classify import GraphFacts, Ongoing, RunFindings, staleness_kind
from ddrc_platform.incidents.slack import deliver_unstored
from ddrc_platform.incidents.store import IncidentStoreError
from ddrc_platform.publish.targets.base import Publisher
from ddrc_platform.settings import Settings
from ddrc_platform.warehouse.base import Warehouse

_FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]


@dataclass
class Watch:
    """What the sensor keeps in its code location's process, built at its first tick from
    the loaded graph. Bounded: one desk, one graph, and the ids of the runs hung now."""

    desk: IncidentDesk
    facts: GraphFacts
    policies: dict[dg.AssetKey, dg.FreshnessPolicy]
    keys: list[dg.AssetKey] = field(default_factory=list)  # every asset: its incident check
    hung: Ongoing = field(default_factory=Ongoing)


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
        found = {"run_id": run_id, "run_url": run_url, "error": report.error}
        found |= {"check_name": report.check_name, "last_good": last_good(instance, report.keys)}
        try:
            row, is_new = desk.report(report.kind, report.keys, **found)
        except IncidentStoreError as problem:  # the store's disk may be the incident's cause
            incident = desk.triage.incident(report.kind, report.keys, **found)
            deliver_unstored(incident, desk.notifier, str(problem))
            continue
        if is_new:
            opened.append(row)
    failed = {key for report in findings.reports for key in report.keys}
    with suppress(IncidentStoreError):  # recoveries wait for a store that can be written
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
    that changed them (the asset's page shows them at the end of the tick). Best effort:
    the incident stands even if the table cannot be read."""
    if row.incident.kind not in (FailureKind.PUBLICATION_HELD, FailureKind.DATA_CHECK_FAILED):
        return []
    manual = set(desk.triage.lineage.fed_by(catalog.AIRTABLE_METRICS.asset_key))
    metrics = [m for m in row.incident.affected_metrics if m in manual]
    if not metrics:
        return []
    try:
        rows = raw.query(ENTRIES_QUERY).to_pylist()
        notes = entry_changes(
            rows, published, metrics, settings.airtable.base_id, settings.airtable.table
        )
    except Exception as error:  # a note saying so, never a failed tick
        notes = [f"Airtable entries not read: {desk.triage.redact(str(error))[:300]}"]
    for note in notes:
        desk.store.add_note(row.key, note, row.opened_at)
    return notes


def report_finished_runs(
    context: dg.SensorEvaluationContext,
    watch: Watch,
    settings: Settings,
    publisher: Publisher,
    warehouse: Warehouse,
) -> int:
    """Classify and report the runs finished since the cursor, 25 a tick; how many were read."""
    instance = context.instance
    after = datetime.fromisoformat(context.cursor) if context.cursor else None
    records = instance.get_run_records(
        dg.RunsFilter(statuses=_FINISHED, updated_after=after),
        order_by="update_timestamp",
        ascending=True,
        limit=25,
    )
    for record in records:
        run = record.dagster_run
        findings = classify_run(
            run.status,
            instance.all_logs(run.run_id),
            watch.facts,
            set(run.asset_selection) if run.asset_selection else None,
        )
        run_url = f"{settings.webserver_url}/runs/{run.run_id}"
        for row in record_run(watch.desk, instance, run.run_id, findings, run_url):
            explain_airtable_entries(watch.desk, row, settings, warehouse, publisher.current())
        context.update_cursor(record.update_timestamp.isoformat())
    return len(records)


def report_hung_runs(
    instance: dg.DagsterInstance, watch: Watch, settings: Settings, now: datetime
) -> None:
    """One report per hung run, not one per tick."""
    hung = {
        run_id: (keys, problem)
        for run_id, keys, problem in hung_runs(instance, now, settings.max_run_seconds)
    }
    for run_id in watch.hung.new(list(hung)):
        keys, problem = hung[run_id]
        watch.desk.report(
            FailureKind.RUN_HUNG,
            sorted(keys, key=str),
            run_id=run_id,
            run_url=f"{settings.webserver_url}/runs/{run_id}",
            error=problem,
        )


def report_freshness(instance: dg.DagsterInstance, watch: Watch) -> int:
    """Report what is past its fail window and end what is back within it; how many are stale.

    Dagster's freshness daemon (on wherever this sensor runs) evaluates the policies; this
    reads its verdicts rather than judging the same windows a second time."""
    stale, fresh = stale_assets(instance, watch.policies)
    for key in stale:
        watch.desk.report(staleness_kind(key), [key])
    for key in fresh:
        watch.desk.recover(key, by=Recovery.FRESH)
    return len(stale)


def build_incident_sensor(settings: Settings) -> dg.SensorDefinition:
    watches: list[Watch] = []  # built at the first tick, then kept for this code location

    @dg.sensor(
        name=INCIDENT_SENSOR,
        minimum_interval_seconds=settings.watch.incident_seconds,
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
        if not watches:
            repository = context.repository_def
            desk = make_desk(settings, repository.asset_graph, publisher, slack)
            checked = repository.asset_graph.asset_check_keys
            keys = sorted({c.asset_key for c in checked if c.name == INCIDENT_CHECK}, key=str)
            watches.append(Watch(desk, *graph_facts(repository, settings), keys))
        watch = watches[0]
        fail_dead_runs(context.instance)  # then reported below, with the other failed runs
        runs = report_finished_runs(context, watch, settings, publisher, warehouse)
        now = datetime.now(UTC)
        try:
            report_hung_runs(context.instance, watch, settings, now)
            stale = report_freshness(context.instance, watch)
            delivery = watch.desk.deliver()
            pages = sync_asset_pages(context.instance, watch.desk.store, watch.keys)
        except IncidentStoreError as problem:  # run failures went out unstored meanwhile
            return dg.SkipReason(f"{runs} finished run(s) read; {problem}")
        return dg.SkipReason(
            f"{runs} finished run(s) read, {stale} stale asset(s); "
            f"delivered {len(delivery.delivered)}, {len(delivery.failed)} waiting for Slack; "
            f"{len(pages)} asset page(s) updated"
        )

    return ddrc_incidents


@dg.definitions
def incidents() -> dg.Definitions:
    return dg.Definitions(sensors=[build_incident_sensor(current().settings)])
