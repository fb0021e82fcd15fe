"""The one object the sensors hold: triage a failure, store it, deliver it.

Assembled once from the deployment settings (`build_desk`), so a sensor's body is a
call per event: `report` for a failure, `recover` for the event that ends one, and
`deliver` at the end of every tick (which also retries whatever Slack refused before).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import dagster as dg

from ddrc_platform.core.redact import Redactor
from ddrc_platform.incidents.lineage import AssetGraphLike, AssetRef, MetricLineage, MetricSources
from ddrc_platform.incidents.model import FailureKind, Recovery
from ddrc_platform.incidents.routing import Clock, Router, load_oncall, utc_now
from ddrc_platform.incidents.runbooks import DEFAULT_REPO
from ddrc_platform.incidents.slack import (
    DeliveryReport,
    Notifier,
    deliver_pending,
    make_notifier,
)
from ddrc_platform.incidents.store import (
    IncidentRow,
    IncidentStore,
    open_incident_store,
)
from ddrc_platform.incidents.triage import Triage


class IncidentDesk:
    def __init__(self, triage: Triage, store: IncidentStore, notifier: Notifier) -> None:
        self.triage = triage
        self.store = store
        self.notifier = notifier

    def report(
        self,
        kind: FailureKind,
        asset_keys: Sequence[AssetRef],
        *,
        run_id: str | None = None,
        run_url: str | None = None,
        error: str | BaseException | None = None,
        check_name: str | None = None,
        metrics: Sequence[str] | None = None,
        at: datetime | None = None,
        last_good: datetime | None = None,
    ) -> tuple[IncidentRow, bool]:
        """Record a failure; (row, is_new). Slack hears of it at the next `deliver`.

        `last_good`: when the failed assets last materialized, so the incident can say when
        their aging numbers breach freshness."""
        incident = self.triage.incident(
            kind,
            asset_keys,
            run_id=run_id,
            run_url=run_url,
            error=error,
            check_name=check_name,
            metrics=metrics,
            at=at,
            last_good=last_good,
        )
        return self.store.record_failure(incident)

    def recover(
        self,
        asset_key_or_id: AssetRef,
        *,
        by: Recovery | None = None,
        check_name: str | None = None,
        at: datetime | None = None,
    ) -> list[IncidentRow]:
        """Resolve what this event proves over; see `IncidentStore.record_recovery`."""
        at = at or self.triage.router.clock()
        return self.store.record_recovery(asset_key_or_id, at, by=by, check_name=check_name)

    def note_open_incidents(self, text: str, at: datetime | None = None) -> list[IncidentRow]:
        """Record what a responder did (a rollback, a release) on every open incident."""
        at = at or self.triage.router.clock()
        rows = self.store.list_incidents(open_only=True)
        for row in rows:
            self.store.add_note(row.key, text, at)
        return rows

    def deliver(self) -> DeliveryReport:
        return deliver_pending(self.store, self.notifier)


def build_desk(
    *,
    oncall_path: str | Path,
    store_path: str | Path,  # a SQLite file, or a postgresql:// URL
    metric_sources: MetricSources,
    graph: dg.Definitions | AssetGraphLike,
    secrets: Sequence[str] = (),
    deployment: str = "local",
    slack_channel: str | None = None,
    slack_token: str | None = None,
    slack_webhook_url: str | None = None,
    slack_base_url: str | None = None,
    webserver_url: str | None = None,
    source_urls: Mapping[str, str] | None = None,
    repo: str = DEFAULT_REPO,
    clock: Clock = utc_now,
) -> IncidentDesk:
    """Everything from settings values; Slack by token, else webhook, else the console."""
    redactor = Redactor(secrets)
    router = Router(load_oncall(oncall_path), clock)
    triage = Triage(
        router,
        MetricLineage(metric_sources, graph),
        redactor=redactor,
        deployment=deployment,
        repo=repo,
        webserver_url=webserver_url,
        source_urls={key: redactor(url) for key, url in (source_urls or {}).items()},
    )
    notifier = make_notifier(
        channel=slack_channel,
        token=slack_token,
        webhook_url=slack_webhook_url,
        base_url=slack_base_url,
        redactor=redactor,
    )
    return IncidentDesk(triage, open_incident_store(store_path), notifier)
