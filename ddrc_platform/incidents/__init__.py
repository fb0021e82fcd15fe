"""Incidents: every failure reaches the right person once, with what broke, what it
affects, how bad it is and what to do next. Domain logic only, testable without Dagster
running: the Dagster side (the sensor, the desk built from the settings, the Slack
resource) is `ddrc_platform/defs/incidents/`, which calls it."""

from ddrc_platform.core.redact import Redactor
from ddrc_platform.incidents.desk import IncidentDesk, build_desk
from ddrc_platform.incidents.lineage import MetricLineage, affected_metrics
from ddrc_platform.incidents.model import FailureKind, Incident, Person, Recovery, Severity
from ddrc_platform.incidents.routing import OnCallConfig, Router, load_oncall
from ddrc_platform.incidents.severity import severity_of
from ddrc_platform.incidents.slack import (
    ConsoleNotifier,
    DeliveryReport,
    SlackNotifier,
    WebhookNotifier,
    deliver_pending,
    make_notifier,
    render,
)
from ddrc_platform.incidents.store import (
    DeliveryState,
    IncidentRow,
    IncidentStore,
    PostgresIncidentStore,
    SqliteIncidentStore,
    open_incident_store,
)
from ddrc_platform.incidents.triage import Triage

__all__ = [
    "ConsoleNotifier",
    "DeliveryReport",
    "DeliveryState",
    "FailureKind",
    "Incident",
    "IncidentDesk",
    "IncidentRow",
    "IncidentStore",
    "MetricLineage",
    "OnCallConfig",
    "Person",
    "PostgresIncidentStore",
    "Recovery",
    "Redactor",
    "Router",
    "Severity",
    "SlackNotifier",
    "SqliteIncidentStore",
    "Triage",
    "WebhookNotifier",
    "affected_metrics",
    "build_desk",
    "deliver_pending",
    "load_oncall",
    "make_notifier",
    "open_incident_store",
    "render",
    "severity_of",
]
