"""The durable incident store: one ongoing incident per failure, and what Slack has seen.

Sensor ticks run concurrently and in separate processes, so every read-then-write is one
write-locking transaction. Locally the store is SQLite (stdlib, one file, WAL); in
Kubernetes it is PostgreSQL (`DDRC_INCIDENT_DATABASE_URL`): SQLite on a volume shared by
pods is a known way to corrupt a database. One class holds the logic and portable SQL;
the two differ in how they connect and lock (`SqliteIncidentStore`, `PostgresIncidentStore`).
Every Slack step is recorded as it succeeds, so a delivery that fails half-way resumes
where it stopped: nothing is lost while Slack is down and nothing is posted twice.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from ddrc_platform.incidents.lineage import AssetRef, as_key
from ddrc_platform.incidents.model import FailureKind, Incident, Recovery


class IncidentStoreError(RuntimeError):
    """The store cannot be written (a full disk, a broken file, the database down): the
    incident must reach people another way (`slack.deliver_unstored`)."""


@contextmanager
def _writing(location: object) -> Iterator[None]:
    """Any failure of the database under the store, as an IncidentStoreError naming it."""
    try:
        yield
    except (sqlite3.Error, OSError) as error:
        raise IncidentStoreError(
            f"the incident store {location} cannot be written: {error}"
        ) from error


class DeliveryState(StrEnum):
    PENDING = "pending"  # the parent message or an occurrence update is not yet in Slack
    DELIVERED = "delivered"
    RESOLVED_PENDING = "resolved_pending"  # resolved; the resolution is not yet in Slack
    RESOLVED_DELIVERED = "resolved_delivered"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS incidents (
    key {key_type},
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    title TEXT NOT NULL,
    asset_keys TEXT NOT NULL,
    affected_metrics TEXT NOT NULL,
    check_name TEXT,
    opened_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    resolved_at TEXT,
    occurrences INTEGER NOT NULL DEFAULT 1,
    delivered_occurrences INTEGER NOT NULL DEFAULT 0,
    resolution_delivered INTEGER NOT NULL DEFAULT 0,
    slack_channel TEXT,
    slack_ts TEXT,
    payload TEXT NOT NULL,
    delivery_state TEXT NOT NULL,
    claimed_until TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS incidents_one_open ON incidents(id) WHERE resolved_at IS NULL;
CREATE INDEX IF NOT EXISTS incidents_delivery ON incidents(delivery_state);
CREATE TABLE IF NOT EXISTS notes (
    note_key {key_type},
    incident_key BIGINT NOT NULL REFERENCES incidents(key),
    at TEXT NOT NULL,
    text TEXT NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0,
    UNIQUE (incident_key, text)
);
"""

# Recomputed on every write, so the state always agrees with the counters it summarises.
_STATE = """delivery_state = CASE
    WHEN resolved_at IS NULL THEN
        CASE WHEN delivered_occurrences >= occurrences THEN 'delivered' ELSE 'pending' END
    ELSE
        CASE WHEN resolution_delivered <> 0 THEN 'resolved_delivered' ELSE 'resolved_pending' END
END"""

_OPEN_STATES = (DeliveryState.PENDING.value, DeliveryState.RESOLVED_PENDING.value)
# Something Slack has not seen: a message to send, or a note its posted thread lacks. A
# note is not in `delivery_state` (an incident can be whole in Slack but for a note whose
# reply failed or was never tried), so it is asked of the notes themselves.
_DELIVERABLE = """(delivery_state IN (?, ?) OR (delivered_occurrences > 0 AND EXISTS (
    SELECT 1 FROM notes WHERE notes.incident_key = incidents.key AND notes.delivered = 0)))"""


@dataclass(frozen=True)
class IncidentRow:
    """One incident as stored: the latest triage of it plus its life and delivery counters."""

    key: int  # row number: a recurrence after resolution is a new row with the same id
    incident: Incident  # the latest occurrence's triage, with the first opened_at
    occurrences: int
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    delivered_occurrences: int  # 0: the parent message is not posted yet
    resolution_delivered: bool
    slack_channel: str | None
    slack_ts: str | None
    delivery_state: DeliveryState

    @property
    def id(self) -> str:
        return self.incident.id

    @property
    def posted(self) -> bool:
        return self.delivered_occurrences > 0

    @property
    def duration(self) -> timedelta | None:
        return self.resolved_at - self.opened_at if self.resolved_at else None


def _ts(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("the incident store keeps aware datetimes only")
    return at.astimezone(UTC).isoformat()


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _row(r: Any) -> IncidentRow:
    return IncidentRow(
        key=r["key"],
        incident=Incident.from_json(json.loads(r["payload"])),
        occurrences=r["occurrences"],
        opened_at=datetime.fromisoformat(r["opened_at"]),
        updated_at=datetime.fromisoformat(r["updated_at"]),
        resolved_at=_dt(r["resolved_at"]),
        delivered_occurrences=r["delivered_occurrences"],
        resolution_delivered=bool(r["resolution_delivered"]),
        slack_channel=r["slack_channel"],
        slack_ts=r["slack_ts"],
        delivery_state=DeliveryState(r["delivery_state"]),
    )


class _Db:
    """A transaction's connection, with `?` placeholders and rows as mappings either way."""

    def __init__(self, cursor: Any, placeholder: str) -> None:
        self._cursor = cursor
        self._placeholder = placeholder

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Db:
        self._cursor.execute(sql.replace("?", self._placeholder), tuple(params))
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(sql.replace("?", self._placeholder), rows)

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()


class IncidentStore:
    """The store's logic over any database `_tx` opens; subclasses connect and lock."""

    @contextmanager
    def _tx(self) -> Iterator[_Db]:
        raise NotImplementedError

    def _get(self, db: _Db, key: int) -> IncidentRow:
        return _row(db.execute("SELECT * FROM incidents WHERE key = ?", (key,)).fetchone())

    # -- failures and recoveries -----------------------------------------------------
    def record_failure(self, incident: Incident) -> tuple[IncidentRow, bool]:
        """Open the incident, or count one more occurrence of the ongoing one with its id.

        Returns (row, is_new). A repeat keeps the first opened_at and takes the latest
        triage (run link, error, routing), which the Slack parent is updated to show.
        """
        with self._tx() as db:
            open_row = db.execute(
                "SELECT key, opened_at FROM incidents WHERE id = ? AND resolved_at IS NULL",
                (incident.id,),
            ).fetchone()
            now = _ts(incident.opened_at)
            if open_row is not None:
                kept = replace(incident, opened_at=datetime.fromisoformat(open_row["opened_at"]))
                db.execute(
                    """UPDATE incidents SET occurrences = occurrences + 1, updated_at = ?,
                        payload = ?, title = ?, affected_metrics = ? WHERE key = ?;""",
                    (
                        now,
                        json.dumps(kept.to_json()),
                        incident.title,
                        json.dumps(incident.affected_metrics),
                        open_row["key"],
                    ),
                )
                db.execute(f"UPDATE incidents SET {_STATE} WHERE key = ?", (open_row["key"],))
                return self._get(db, open_row["key"]), False
            inserted = db.execute(
                """INSERT INTO incidents (id, kind, severity, title, asset_keys,
                    affected_metrics, check_name, opened_at, updated_at, payload, delivery_state)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING key""",
                (
                    incident.id,
                    incident.kind.value,
                    incident.severity.value,
                    incident.title,
                    json.dumps(incident.asset_keys),
                    json.dumps(incident.affected_metrics),
                    incident.check_name,
                    now,
                    now,
                    json.dumps(incident.to_json()),
                    DeliveryState.PENDING.value,
                ),
            ).fetchone()
            return self._get(db, inserted["key"]), True

    def record_recovery(
        self,
        asset_key_or_id: AssetRef,
        at: datetime,
        *,
        by: Recovery | None = None,
        check_name: str | None = None,
    ) -> list[IncidentRow]:
        """Resolve the ongoing incidents with this id, or involving this asset.

        `by` limits it to the kinds that such an event proves over (a materialization does
        not prove a failing check passes); `check_name` to that check's incidents.
        """
        ref = asset_key_or_id
        text = ref.to_user_string() if not isinstance(ref, str) else ref
        asset = as_key(ref).to_user_string()
        with self._tx() as db:
            rows = db.execute(
                "SELECT key, id, kind, check_name, asset_keys FROM incidents "
                "WHERE resolved_at IS NULL"
            ).fetchall()
            keys = [
                r["key"]
                for r in rows
                if (r["id"] == text or asset in json.loads(r["asset_keys"]))
                and (by is None or by in FailureKind(r["kind"]).recovered_by)
                and (check_name is None or r["check_name"] == check_name)
            ]
            for key in keys:
                db.execute(
                    "UPDATE incidents SET resolved_at = ?, updated_at = ? WHERE key = ?",
                    (_ts(at), _ts(at), key),
                )
                db.execute(f"UPDATE incidents SET {_STATE} WHERE key = ?", (key,))
            return [self._get(db, key) for key in keys]

    # -- delivery --------------------------------------------------------------------
    def pending_deliveries(self) -> list[IncidentRow]:
        """Incidents with something Slack has not seen yet, oldest first."""
        with self._tx() as db:
            rows = db.execute(
                f"SELECT * FROM incidents WHERE {_DELIVERABLE} ORDER BY key",
                _OPEN_STATES,
            ).fetchall()
        return [_row(r) for r in rows]

    def claim_pending(self, now: datetime, lease: timedelta) -> list[IncidentRow]:
        """Take the incidents with something for Slack that no other deliverer holds, for
        `lease`: a message still to send, or a note its posted thread has not had yet.

        Two sensor ticks delivering at once would otherwise both post the same message.
        A deliverer that dies mid-way loses its claim when the lease runs out.
        """
        with self._tx() as db:
            rows = db.execute(
                f"""SELECT * FROM incidents WHERE {_DELIVERABLE}
                   AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY key""",
                (*_OPEN_STATES, _ts(now)),
            ).fetchall()
            db.executemany(
                "UPDATE incidents SET claimed_until = ? WHERE key = ?",
                [(_ts(now + lease), r["key"]) for r in rows],
            )
        return [_row(r) for r in rows]

    def release(self, key: int) -> None:
        with self._tx() as db:
            db.execute("UPDATE incidents SET claimed_until = NULL WHERE key = ?", (key,))

    def mark_delivered(
        self,
        key: int,
        *,
        occurrences: int,
        channel: str | None = None,
        ts: str | None = None,
        resolution: bool = False,
    ) -> IncidentRow:
        """Record a Slack step that succeeded: Slack has now seen `occurrences` occurrences
        (and the resolution). Keeps the claim; `release` ends it."""
        with self._tx() as db:
            db.execute(
                """UPDATE incidents SET
                       slack_channel = COALESCE(?, slack_channel),
                       slack_ts = COALESCE(?, slack_ts),
                       delivered_occurrences = CASE WHEN delivered_occurrences > ?
                           THEN delivered_occurrences ELSE ? END,
                       resolution_delivered = CASE WHEN ? THEN 1 ELSE resolution_delivered END
                   WHERE key = ?""",
                (channel, ts, occurrences, occurrences, resolution, key),
            )
            db.execute(f"UPDATE incidents SET {_STATE} WHERE key = ?", (key,))
            return self._get(db, key)

    # -- notes: what responders did or found, in the incident's record -----------------
    def add_note(self, key: int, text: str, at: datetime) -> bool:
        """Append a note to incident row `key`; False if it already has this very note."""
        with self._tx() as db:
            found = db.execute(
                "SELECT 1 FROM notes WHERE incident_key = ? AND text = ?", (key, text)
            ).fetchone()
            if found:
                return False
            db.execute(
                "INSERT INTO notes (incident_key, at, text) VALUES (?, ?, ?)", (key, _ts(at), text)
            )
            return True

    def undelivered_notes(self, key: int) -> list[tuple[int, str]]:
        """(note id, text) of the notes Slack has not seen, oldest first."""
        with self._tx() as db:
            rows = db.execute(
                "SELECT note_key, text FROM notes WHERE incident_key = ? AND delivered = 0 "
                "ORDER BY note_key",
                (key,),
            ).fetchall()
        return [(r["note_key"], r["text"]) for r in rows]

    def mark_note_delivered(self, note_id: int) -> None:
        with self._tx() as db:
            db.execute("UPDATE notes SET delivered = 1 WHERE note_key = ?", (note_id,))

    def notes(self, key: int) -> list[tuple[datetime, str]]:
        """The notes of incident row `key`, oldest first."""
        with self._tx() as db:
            rows = db.execute(
                "SELECT at, text FROM notes WHERE incident_key = ? ORDER BY note_key", (key,)
            ).fetchall()
        return [(datetime.fromisoformat(r["at"]), r["text"]) for r in rows]

    # -- reading ---------------------------------------------------------------------
    def open_incident(self, incident_id: str) -> IncidentRow | None:
        with self._tx() as db:
            r = db.execute(
                "SELECT * FROM incidents WHERE id = ? AND resolved_at IS NULL", (incident_id,)
            ).fetchone()
        return _row(r) if r else None

    def list_incidents(self, open_only: bool = False) -> list[IncidentRow]:
        """Newest first, for a dashboard."""
        where = "WHERE resolved_at IS NULL" if open_only else ""
        with self._tx() as db:
            rows = db.execute(f"SELECT * FROM incidents {where} ORDER BY key DESC").fetchall()
        return [_row(r) for r in rows]


class SqliteIncidentStore(IncidentStore):
    """SQLite, for the local deployment: one file under DDRC_HOME."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with _writing(self.path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=30)
            try:
                db.execute("PRAGMA journal_mode=WAL")  # persistent: readers never block writers
                db.executescript(_SCHEMA.format(key_type="INTEGER PRIMARY KEY AUTOINCREMENT"))
            finally:
                db.close()

    @contextmanager
    def _tx(self) -> Iterator[_Db]:
        """One immediate (write-locking) transaction on a fresh connection.

        A connection per call keeps the store usable from any thread; taking the write
        lock up front makes read-then-write sequences atomic across processes.
        """
        with _writing(self.path):
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.row_factory = sqlite3.Row
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield _Db(db.cursor(), "?")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            finally:
                db.close()


class PostgresIncidentStore(IncidentStore):
    """PostgreSQL, for dev/prd: pods come and go, the incidents stay in one database."""

    _LOCK_ID = 0x0DDC1D  # serialises schema creation across pods starting at once

    def __init__(self, url: str) -> None:
        import psycopg2  # installed with dagster-postgres; only dev/prd need it

        self._psycopg2 = psycopg2
        self.url = url
        with self._connection() as db:
            db.execute("SELECT pg_advisory_xact_lock(?)", (self._LOCK_ID,))
            db.execute(_SCHEMA.format(key_type="BIGSERIAL PRIMARY KEY"))

    @contextmanager
    def _connection(self) -> Iterator[_Db]:
        from psycopg2.extras import RealDictCursor

        connection = self._psycopg2.connect(self.url, connect_timeout=30)
        try:
            # `with connection` commits on success and rolls back on an exception
            with connection, connection.cursor(cursor_factory=RealDictCursor) as cursor:
                yield _Db(cursor, "%s")
        finally:
            connection.close()

    @contextmanager
    def _tx(self) -> Iterator[_Db]:
        """One transaction that locks out other writers, so read-then-write is atomic."""
        with self._connection() as db:
            db.execute("LOCK TABLE incidents IN SHARE ROW EXCLUSIVE MODE")
            yield db


def open_incident_store(location: str | Path) -> IncidentStore:
    """The store at `location`: a `postgresql://` URL, or a SQLite file path."""
    text = str(location)
    if text.startswith(("postgresql://", "postgres://")):
        return PostgresIncidentStore(text)
    return SqliteIncidentStore(location)


def existing_incident_store(location: str | Path) -> IncidentStore | None:
    """The store at `location` for reading, or None where a local file does not exist yet.

    Readers (the CLI, the dashboard) must not create a store: opening SQLite would.
    """
    text = str(location)
    if not text.startswith(("postgresql://", "postgres://")) and not Path(text).exists():
        return None
    return open_incident_store(location)
