"""Turn a failure the sensors saw into a complete incident.

Sensors know only what failed (kind, asset keys, run, error text); triage adds what a
responder needs: severity, the published metrics it touches, who acts and how soon, the
runbook and a pre-filled GitHub issue. Error text is redacted here, before it is stored
or shown anywhere.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from ddrc_platform.core import catalog
from ddrc_platform.core.redact import Redactor, redacted_excerpt
from ddrc_platform.incidents.lineage import AssetRef, MetricLineage, as_key
from ddrc_platform.incidents.model import FailureKind, Incident, incident_id
from ddrc_platform.incidents.routing import Router
from ddrc_platform.incidents.runbooks import DEFAULT_REPO, github_issue_url, runbook
from ddrc_platform.incidents.severity import public_impact, severity_of

_TITLES = {t.asset_key.to_user_string(): t.title for t in catalog.RAW_TABLES}


def error_text(error: str | BaseException | None) -> str:
    if error is None:
        return ""
    if isinstance(error, BaseException):
        return "".join(traceback.format_exception_only(error)).strip()
    return error


class Triage:
    """Builds incidents for one deployment; the settings layer constructs it once."""

    def __init__(
        self,
        router: Router,
        lineage: MetricLineage | None = None,
        *,
        redactor: Redactor | None = None,
        deployment: str = "local",
        repo: str = DEFAULT_REPO,
        webserver_url: str | None = None,
        source_urls: Mapping[str, str] | None = None,
    ) -> None:
        """`source_urls`: raw table key -> the URL this deployment reads it from (redacted),
        so runbooks point at the configured endpoint, not the public default."""
        self.router = router
        self.source_urls = dict(source_urls or {})
        self.lineage = lineage
        self.redact = redactor or Redactor()
        self.deployment = deployment
        self.repo = repo
        self.webserver_url = webserver_url.rstrip("/") if webserver_url else None

    def incident(
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
    ) -> Incident:
        """The incident for one failure.

        `metrics` overrides lineage when the sensor knows better (a check's metadata naming
        its metric); otherwise a check named after metrics (`people_helped_drc_floor`)
        narrows the lineage answer to those metrics.
        """
        at, text = at or self.router.clock(), self.redact(error_text(error))
        keys = tuple(sorted({as_key(k).to_user_string() for k in asset_keys}))
        affected, manual = self._metrics(keys, check_name, metrics)
        severity = severity_of(kind)
        route = self.router.route(severity, at)
        person = route.responder_person  # the on-call person, paged outside business hours
        if run_url is None and run_id and self.webserver_url:
            run_url = f"{self.webserver_url}/runs/{run_id}"
        incident = Incident(
            id=incident_id(kind, keys, check_name),
            title=self._title(kind, keys, check_name),
            kind=kind,
            severity=severity,
            asset_keys=keys,
            affected_metrics=tuple(affected),
            run_id=run_id,
            run_url=run_url,
            error_excerpt=redacted_excerpt(error_text(error), self.redact),
            responder=route.responder,
            responder_slack_id=person.slack_user_id if person else None,
            act_now=route.act_now,
            deferred_until=route.deferred_until,
            runbook=tuple(
                runbook(
                    kind,
                    keys,
                    check_name=check_name,
                    affected_metrics=affected,
                    manual_metrics=manual,
                    fivetran=self.deployment != "local",
                    source_urls=self.source_urls,
                )
            ),
            escalation=route.escalation,
            github_issue_url="",
            opened_at=at,
            deployment=self.deployment,
            check_name=check_name,
            public_impact=public_impact(kind, severity, keys, affected, last_good, text),
        )
        return replace(incident, github_issue_url=github_issue_url(incident, self.repo))

    def _metrics(
        self, keys: tuple[str, ...], check_name: str | None, metrics: Sequence[str] | None
    ) -> tuple[list[str], list[str]]:
        """(affected metrics, those of them that come from Airtable)."""
        if self.lineage is None:
            return list(metrics or ()), []
        if metrics is not None:
            affected = list(metrics)
        else:
            affected = self.lineage.affected(keys)
            named = [m for m in self.lineage.metrics if check_name and m in check_name]
            affected = named or affected
        manual = set(self.lineage.fed_by(catalog.AIRTABLE_METRICS.asset_key))
        return affected, [m for m in affected if m in manual]

    def _title(self, kind: FailureKind, keys: tuple[str, ...], check_name: str | None) -> str:
        if len(keys) == 1:
            subject = f"{_TITLES[keys[0]]} ({keys[0]})" if keys[0] in _TITLES else keys[0]
        elif keys:
            subject = ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
        else:
            subject = "pipeline run"
        title = f"{kind.label}: {subject}"
        if check_name:
            title += f", check {check_name}"
        if self.deployment != "prd":
            title = f"[{self.deployment}] {title}"
        return title
