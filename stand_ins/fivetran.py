"""A local Fivetran: the part of REST API v1 that dagster-fivetran 0.29 calls.

Loading the workspace (`FivetranWorkspace.fetch_fivetran_workspace_data`, which is what
`dagster-fivetran snapshot` runs) reads `GET /v1/groups`, `GET /v1/destinations/{group}`,
`GET /v1/groups/{group}/connectors` and `GET /v1/connectors/{id}/schemas`. A sync
(`FivetranClient.sync_and_poll`) reads the schemas and the connector, switches the
connector to `PATCH schedule_type=manual`, `POST /v1/connectors/{id}/force`, then polls
`GET /v1/connectors/{id}` until `succeeded_at` or `failed_at` moves past where it was.

Syncs are simulated per connector: after `force`, the connector reports
`sync_state: "syncing"` for `sync_polls` reads, then the planned outcome (`plan_syncs`):
success moves `succeeded_at`, failure moves `failed_at`, and a reschedule reports
`sync_state: "rescheduled"` with `rescheduled_for` a moment ahead, after which the sync
runs (as Fivetran runs it when quota frees up) and succeeds. Every request must carry
Basic auth with the key and secret (401 otherwise), and every request is recorded.

The default account mirrors production's: one group whose destination is the Snowflake
database RAW_DDRC_PRD, with the Airtable metrics connector and the DynamoDB page-feedback
connector. Initial timestamps are fixed so a snapshot taken from here is reproducible.
"""

from __future__ import annotations

import base64
import copy
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from ddrc_platform.core import catalog
from stand_ins.base import Request, Response, StandIn

STAND_IN_ACCOUNT_ID = "ddrc_stand_in"  # the FIVETRAN_ACCOUNT_ID the committed snapshot is for
GROUP_ID = "ddrc_raw_prd"
WAREHOUSE_DATABASE = "RAW_DDRC_PRD"
_LAST_SYNC = "2025-06-01T08:00:00.000000Z"  # every connector's last success before any test


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    RESCHEDULED = "rescheduled"  # quota: Fivetran postpones the sync, then runs it


@dataclass
class Connector:
    """One connector as the API shows it, plus the sync the stand-in is simulating."""

    id: str
    service: str
    schema: str  # the destination schema, which Fivetran also uses as the connector name
    tables: dict[str, tuple[str, ...]]  # table name in destination -> column names
    config: dict[str, Any] = field(default_factory=dict)
    group_id: str = GROUP_ID
    paused: bool = False
    schedule_type: str = "auto"
    sync_frequency: int = 360
    succeeded_at: str | None = _LAST_SYNC
    failed_at: str | None = None
    sync_state: str = "scheduled"
    update_state: str = "on_schedule"
    rescheduled_for: datetime | None = None
    polls_left: int = 0  # reads until the running sync ends
    outcome: Outcome | None = None  # of the running sync; None: no sync running

    def details(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "setup_state": "connected",
            "sync_state": self.sync_state,
            "update_state": self.update_state,
            "is_historical_sync": False,
            "tasks": [],
            "warnings": [],
        }
        if self.rescheduled_for is not None:
            status["rescheduled_for"] = _stamp(self.rescheduled_for)
        return {
            "id": self.id,
            "group_id": self.group_id,
            "service": self.service,
            "service_version": 1,
            "schema": self.schema,
            "connected_by": "ddrc_data_engineering",
            "created_at": "2025-02-03T17:00:00.000000Z",
            "succeeded_at": self.succeeded_at,
            "failed_at": self.failed_at,
            "paused": self.paused,
            "pause_after_trial": False,
            "sync_frequency": self.sync_frequency,
            "schedule_type": self.schedule_type,
            "status": status,
            "config": self.config,
        }

    def schemas(self) -> dict[str, Any]:
        tables = {
            name: {
                "name_in_destination": name,
                "enabled": True,
                "sync_mode": "SOFT_DELETE",
                "columns": {
                    column: {"name_in_destination": column, "enabled": True, "hashed": False}
                    for column in columns
                },
            }
            for name, columns in self.tables.items()
        }
        return {
            "enable_new_by_default": False,
            "schema_change_handling": "BLOCK_ALL",
            "schemas": {
                self.schema: {"name_in_destination": self.schema, "enabled": True, "tables": tables}
            },
        }


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _columns(table: catalog.RawTable) -> tuple[str, ...]:
    """Source column names as Fivetran lists them: lower case (Snowflake upper-cases them)."""
    return tuple(c.lower() for c in table.columns)


def ddrc_connectors() -> list[Connector]:
    """Production's two connectors, tables and columns taken from the catalog."""
    airtable, feedback = catalog.AIRTABLE_METRICS, catalog.PAGE_FEEDBACK
    return [
        Connector(
            id="ddrc_airtable_metrics",
            service="airtable",
            schema=airtable.schema.lower(),
            tables={airtable.table.lower(): _columns(airtable)},
            config={"base_id": "appDdrcRecoveryMetrics"},
        ),
        Connector(
            id="ddrc_dynamodb_feedback",
            service="dynamodb",
            schema=feedback.schema.lower(),
            tables={feedback.table.lower(): _columns(feedback)},
            config={"aws_region_code": "us-west-2", "packing_mode": "UsePackedModeOnly"},
        ),
    ]


def _error(status: int, code: str, message: str) -> Response:
    return Response.json({"code": code, "message": message}, status=status)


def _ok(data: Any, message: str | None = None) -> Response:
    return Response.json(
        {"code": "Success", **({"message": message} if message else {}), "data": data}
    )


class FivetranServer(StandIn):
    """One account, one group (a Snowflake destination), its connectors, simulated syncs."""

    def __init__(
        self,
        api_key: str = "ddrc-fivetran-key",
        api_secret: str = "ddrc-fivetran-secret",
        connectors: list[Connector] | None = None,
        *,
        sync_polls: int = 2,
        reschedule_seconds: float = 1.0,
    ) -> None:
        super().__init__()
        self.api_key, self.api_secret = api_key, api_secret
        self._initial = connectors or ddrc_connectors()
        self.sync_polls = sync_polls
        self.reschedule_seconds = reschedule_seconds
        self._state = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Back to the connectors as constructed, no plans, no record: a test's clean slate
        on a server that several tests share (stopping one takes half a second)."""
        with self._state, self._lock:
            self.connectors = {c.id: copy.deepcopy(c) for c in self._initial}
            self.forced: list[str] = []  # connector ids, in the order syncs were triggered
            self._plans: dict[str, list[Outcome]] = {}
            self.requests.clear()

    def plan_syncs(self, connector_id: str, *outcomes: Outcome) -> None:
        """How the next syncs of a connector end, in order; later syncs succeed."""
        with self._state:
            self._plans.setdefault(connector_id, []).extend(outcomes)

    # -- protocol --------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if not self._authorized(request.headers.get("authorization", "")):
            return _error(401, "AuthFailed", "Missing or invalid API key or secret")
        parts = [p for p in request.path.split("/") if p]
        if not parts or parts[0] != "v1":
            return _error(404, "NotFound", f"No endpoint {request.path}")
        with self._state:
            return self._route(request.method, parts[1:], request)

    def _authorized(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except ValueError:
            return False
        return decoded == f"{self.api_key}:{self.api_secret}"

    def _route(self, method: str, parts: list[str], request: Request) -> Response:
        match method, parts:
            case "GET", ["groups"]:
                group = {"id": GROUP_ID, "name": "ddrc_raw_prd", "created_at": _LAST_SYNC}
                return _ok({"items": [group], "next_cursor": None})
            case "GET", ["destinations", destination_id]:
                return self._destination(destination_id)
            case "GET", ["groups", group_id, "connectors"]:
                return self._list_connectors(group_id, request.query)
            case "GET", ["connectors", connector_id]:
                return self._with(connector_id, self._read)
            case "GET", ["connectors", connector_id, "schemas"]:
                return self._with(connector_id, lambda c: _ok(c.schemas()))
            case "PATCH", ["connectors", connector_id]:
                return self._with(connector_id, lambda c: self._update(c, request))
            case "POST", ["connectors", connector_id, "force"]:
                return self._with(connector_id, self._force)
        return _error(404, "NotFound", f"No endpoint {method} {request.path}")

    def _with(self, connector_id: str, answer: Any) -> Response:
        connector = self.connectors.get(connector_id)
        if connector is None:
            return _error(
                404, "NotFound_Connector", f"Connector with id '{connector_id}' doesn't exist"
            )
        return answer(connector)

    def _destination(self, destination_id: str) -> Response:
        if destination_id != GROUP_ID:  # a group's destination has the group's id
            return _error(
                404, "NotFound_Destination", f"Destination with id '{destination_id}' doesn't exist"
            )
        return _ok(
            {
                "id": GROUP_ID,
                "group_id": GROUP_ID,
                "service": "snowflake",
                "region": "AWS_US_WEST_2",
                "time_zone_offset": "-8",
                "setup_status": "connected",
                "config": {
                    "host": "ddrc.us-west-2.snowflakecomputing.com",
                    "port": 443,
                    "database": WAREHOUSE_DATABASE,
                    "auth": "KEY_PAIR",
                    "user": "FIVETRAN_DDRC",
                    "private_key": "******",
                },
            }
        )

    def _list_connectors(self, group_id: str, query: dict[str, str]) -> Response:
        """Cursor paging as Fivetran does it: `limit`, `cursor`, and `next_cursor` in the answer."""
        if group_id != GROUP_ID:
            return _error(404, "NotFound_Group", f"Group with id '{group_id}' doesn't exist")
        items = [c.details() for c in self.connectors.values() if c.group_id == group_id]
        start = int(query.get("cursor") or 0)
        limit = int(query.get("limit") or 100)
        end = start + limit
        return _ok(
            {"items": items[start:end], "next_cursor": str(end) if end < len(items) else None}
        )

    def _update(self, connector: Connector, request: Request) -> Response:
        changes = request.json() or {}
        unknown = set(changes) - {"schedule_type", "paused", "sync_frequency"}
        if unknown:
            return _error(400, "InvalidInput", f"Unsupported fields: {', '.join(sorted(unknown))}")
        if changes.get("schedule_type") not in (None, "auto", "manual"):
            return _error(400, "InvalidInput", "schedule_type must be 'auto' or 'manual'")
        for name, value in changes.items():
            setattr(connector, name, value)
        return _ok(connector.details(), "Connector has been updated")

    def _force(self, connector: Connector) -> Response:
        if connector.paused:
            return _error(409, "Conflict", f"Connector '{connector.id}' is paused")
        plan = self._plans.get(connector.id) or []
        connector.outcome = plan.pop(0) if plan else Outcome.SUCCESS
        connector.polls_left = self.sync_polls
        connector.rescheduled_for = None
        connector.sync_state, connector.update_state = "syncing", "on_schedule"
        self.forced.append(connector.id)
        return _ok(
            None, f"Sync has been successfully triggered for connector with id '{connector.id}'"
        )

    def _read(self, connector: Connector) -> Response:
        """A read of the connector is one poll: it moves a running sync one step on."""
        now = datetime.now(UTC)
        if connector.rescheduled_for is not None and now >= connector.rescheduled_for:
            connector.rescheduled_for = None  # the postponed sync runs now
            connector.outcome, connector.polls_left = Outcome.SUCCESS, self.sync_polls
            connector.sync_state, connector.update_state = "syncing", "on_schedule"
        if connector.outcome is not None:
            if connector.polls_left > 0:
                connector.polls_left -= 1
            else:
                self._finish(connector, now)
        return _ok(connector.details())

    def _finish(self, connector: Connector, now: datetime) -> None:
        outcome, connector.outcome = connector.outcome, None
        connector.sync_state = "scheduled"
        if outcome is Outcome.RESCHEDULED:
            connector.sync_state, connector.update_state = "rescheduled", "delayed"
            connector.rescheduled_for = now + timedelta(seconds=self.reschedule_seconds)
            return
        # strictly later than any earlier completion, however fast the syncs come
        previous = max(
            (datetime.fromisoformat(t) for t in (connector.succeeded_at, connector.failed_at) if t),
            default=now,
        )
        stamp = _stamp(max(now, previous + timedelta(microseconds=1)))
        if outcome is Outcome.FAILURE:
            connector.failed_at = stamp
        else:
            connector.succeeded_at = stamp
