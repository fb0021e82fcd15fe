"""What an incident is: the kinds of failure, their severity levels, and the incident record.

The record carries everything a responder needs in one message (what broke, what the
public sees, who acts and how urgently, what to do next), so it is assembled once, at
triage, and then only stored and rendered. It serialises to plain JSON because the
store keeps it and Slack delivery may happen in a later sensor tick or another process.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    HIGH = "high"  # bad or stale data reached the public site
    LOW = "low"  # an upstream problem; the site still shows the last good data


class Recovery(StrEnum):
    """The event that proves an incident is over, so the sensor that sees it can close it."""

    MATERIALIZED = "materialized"  # the asset materialized successfully
    CHECK_PASSED = "check_passed"  # the failing asset check passed
    FRESH = "fresh"  # the asset is back within its freshness window


class FailureKind(StrEnum):
    SOURCE_LOAD_FAILED = "source_load_failed"
    SCHEMA_DRIFT = "schema_drift"
    DBT_MODEL_FAILED = "dbt_model_failed"
    DATA_CHECK_FAILED = "data_check_failed"  # a non-blocking check
    PUBLICATION_HELD = "publication_held"  # a blocking check failed; nothing was published
    PUBLICATION_PINNED = "publication_pinned"  # a person's rollback pinned the file; holds
    PUBLISH_FAILED = "publish_failed"  # writing or uploading the file failed; the old file stays
    PUBLISH_VERIFICATION_FAILED = "publish_verification_failed"  # re-read file != summary
    PUBLISHED_FILE_STALE = "published_file_stale"
    SOURCE_STALE = "source_stale"
    FIVETRAN_SYNC_FAILED = "fivetran_sync_failed"
    DELIVERY_REFUSED = "delivery_refused"  # an empty or shrunken delivery; the kept data stays
    BAD_SOURCE_DATA = "bad_source_data"  # the source answered with values we cannot store
    WAREHOUSE_BUSY = "warehouse_busy"  # another run held the (local) warehouse too long
    RUN_HUNG = "run_hung"  # a run still going (or stopped) past the maximum runtime
    RUN_FAILED = "run_failed"  # a run failed and no more specific kind applies
    # the platform itself: nothing can publish until it is fixed, whatever the sources do
    WAREHOUSE_CORRUPT = "warehouse_corrupt"  # the warehouse file cannot be read
    DISK_FULL = "disk_full"  # no space left where the platform writes

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def recovered_by(self) -> frozenset[Recovery]:
        return _RECOVERED_BY[self]


_LABELS = {
    FailureKind.SOURCE_LOAD_FAILED: "Source load failed",
    FailureKind.SCHEMA_DRIFT: "Schema drift",
    FailureKind.DBT_MODEL_FAILED: "dbt model failed",
    FailureKind.DATA_CHECK_FAILED: "Data check failed",
    FailureKind.PUBLICATION_HELD: "Publication held back",
    FailureKind.PUBLICATION_PINNED: "Publication pinned by a rollback",
    FailureKind.PUBLISH_FAILED: "Publishing failed",
    FailureKind.PUBLISH_VERIFICATION_FAILED: "Published file differs from the summary",
    FailureKind.PUBLISHED_FILE_STALE: "Published file is stale",
    FailureKind.SOURCE_STALE: "Source is stale",
    FailureKind.FIVETRAN_SYNC_FAILED: "Fivetran sync failed",
    FailureKind.DELIVERY_REFUSED: "Empty or shrunken delivery refused",
    FailureKind.BAD_SOURCE_DATA: "Source delivered bad values",
    FailureKind.WAREHOUSE_BUSY: "Another run is using the warehouse",
    FailureKind.RUN_HUNG: "Run hung past its maximum runtime",
    FailureKind.RUN_FAILED: "Run failed",
    FailureKind.WAREHOUSE_CORRUPT: "The warehouse file is corrupt",
    FailureKind.DISK_FULL: "No space left on the platform's disk",
}

_MATERIALIZED = frozenset({Recovery.MATERIALIZED})
_CHECK = frozenset({Recovery.CHECK_PASSED})
_STALENESS = frozenset({Recovery.FRESH, Recovery.MATERIALIZED})
_RECOVERED_BY = {
    FailureKind.SOURCE_LOAD_FAILED: _MATERIALIZED,
    FailureKind.SCHEMA_DRIFT: _CHECK,
    FailureKind.DBT_MODEL_FAILED: _MATERIALIZED,
    FailureKind.DATA_CHECK_FAILED: _CHECK,
    FailureKind.PUBLICATION_HELD: _CHECK,
    FailureKind.PUBLICATION_PINNED: _CHECK,  # the gate passes at the first publish after release
    FailureKind.PUBLISH_FAILED: _MATERIALIZED,
    # a verified publish (or a rollback that publishes the previous file) ends it
    FailureKind.PUBLISH_VERIFICATION_FAILED: _MATERIALIZED | _CHECK,
    FailureKind.PUBLISHED_FILE_STALE: _STALENESS,
    FailureKind.SOURCE_STALE: _STALENESS,
    FailureKind.FIVETRAN_SYNC_FAILED: _MATERIALIZED,
    FailureKind.DELIVERY_REFUSED: _MATERIALIZED,
    FailureKind.BAD_SOURCE_DATA: _MATERIALIZED,
    FailureKind.WAREHOUSE_BUSY: _MATERIALIZED,
    FailureKind.RUN_HUNG: _MATERIALIZED,
    FailureKind.RUN_FAILED: _MATERIALIZED,
    FailureKind.WAREHOUSE_CORRUPT: _MATERIALIZED,
    FailureKind.DISK_FULL: _MATERIALIZED,
}


@dataclass(frozen=True)
class Person:
    name: str
    slack_user_id: str | None = None
    role: str | None = None


def incident_id(
    kind: FailureKind, asset_keys: tuple[str, ...], check_name: str | None = None
) -> str:
    """The dedup key: the same kind of failure of the same assets (and check) is one incident.

    Readable on purpose, so a responder can match a Slack message to a store row by eye.
    """
    key = f"{kind.value}:{'+'.join(sorted(asset_keys))}"
    return f"{key}#{check_name}" if check_name else key


@dataclass(frozen=True)
class Incident:
    id: str
    title: str
    kind: FailureKind
    severity: Severity
    asset_keys: tuple[str, ...]  # "raw/epa/public_status_assessment"
    affected_metrics: tuple[str, ...]  # published metric names
    run_id: str | None
    run_url: str | None
    error_excerpt: str  # redacted and truncated at triage
    responder: str
    act_now: bool
    runbook: tuple[str, ...]
    escalation: tuple[Person, ...]
    github_issue_url: str
    opened_at: datetime
    deployment: str  # local | dev | prd
    check_name: str | None = None
    responder_slack_id: str | None = None  # the on-call person's, outside business hours
    deferred_until: datetime | None = None  # LOW outside business hours: next business start
    public_impact: str = ""  # what the public sees (severity.public_impact); "" when stored before

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["opened_at"] = self.opened_at.isoformat()
        data["deferred_until"] = self.deferred_until.isoformat() if self.deferred_until else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Incident:
        deferred = data.get("deferred_until")
        return cls(
            **{
                **data,
                "kind": FailureKind(data["kind"]),
                "severity": Severity(data["severity"]),
                "asset_keys": tuple(data["asset_keys"]),
                "affected_metrics": tuple(data["affected_metrics"]),
                "runbook": tuple(data["runbook"]),
                "escalation": tuple(Person(**p) for p in data["escalation"]),
                "opened_at": datetime.fromisoformat(data["opened_at"]),
                "deferred_until": datetime.fromisoformat(deferred) if deferred else None,
            }
        )
