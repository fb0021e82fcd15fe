"""The incident store: one ongoing incident per failure, recovery rules, delivery state.

Every test runs against both stores: SQLite (local) and a real PostgreSQL (dev/prd).
"""

from __future__ import annotations

import io
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from ddrc_platform.incidents import (
    FailureKind,
    Incident,
    Recovery,
    Router,
    Triage,
    load_oncall,
)
from ddrc_platform.incidents.slack import SlackNotifier, deliver_unstored
from ddrc_platform.incidents.store import (
    DeliveryState,
    IncidentStore,
    IncidentStoreError,
    SqliteIncidentStore,
    open_incident_store,
)
from stand_ins.slack import SlackServer

pytest_plugins = ["tests.postgres"]

ONCALL = Path(__file__).parents[1] / "config" / "oncall.yaml"
T0 = datetime(2026, 4, 1, 17, 0, tzinfo=UTC)
EPA = "raw/epa/public_status_assessment"
SUMMARY = "summary/ddrc_metrics_summary"


@pytest.fixture(params=["sqlite", "postgres"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a store lives: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "postgres":
        return request.getfixturevalue("postgres_url")
    return str(tmp_path / "state" / "incidents.sqlite")


@pytest.fixture
def store(location: str) -> IncidentStore:
    return open_incident_store(location)


@pytest.fixture
def triage() -> Triage:
    return Triage(Router(load_oncall(ONCALL), clock=lambda: T0))


def failure(
    triage: Triage,
    kind: FailureKind = FailureKind.SOURCE_LOAD_FAILED,
    keys: tuple[str, ...] = (EPA,),
    at: datetime = T0,
    **kw: str,
) -> Incident:
    return triage.incident(kind, keys, at=at, **kw)


def test_a_repeat_counts_occurrences_and_keeps_the_first_opening(
    store: IncidentStore, triage: Triage
) -> None:
    row, new = store.record_failure(failure(triage, run_id="r1"))
    assert new and row.occurrences == 1 and row.delivery_state is DeliveryState.PENDING
    for i, run in enumerate(("r2", "r3"), 1):
        row, new = store.record_failure(
            failure(triage, at=T0 + timedelta(hours=i), run_id=run, error=f"error {run}")
        )
        assert not new
    assert row.occurrences == 3
    assert row.opened_at == T0 == row.incident.opened_at
    assert row.updated_at == T0 + timedelta(hours=2)
    assert (row.incident.run_id, row.incident.error_excerpt) == ("r3", "error r3")
    assert len(store.list_incidents()) == 1


def test_different_kinds_or_checks_are_different_incidents(
    store: IncidentStore, triage: Triage
) -> None:
    store.record_failure(failure(triage))
    store.record_failure(failure(triage, FailureKind.SCHEMA_DRIFT, check_name="epa_columns"))
    store.record_failure(failure(triage, FailureKind.DATA_CHECK_FAILED, check_name="a"))
    store.record_failure(failure(triage, FailureKind.DATA_CHECK_FAILED, check_name="b"))
    assert len(store.list_incidents(open_only=True)) == 4


def test_recovery_resolves_only_what_the_event_proves(store: IncidentStore, triage: Triage) -> None:
    store.record_failure(failure(triage))
    store.record_failure(failure(triage, FailureKind.DATA_CHECK_FAILED, check_name="a"))
    store.record_failure(failure(triage, FailureKind.DATA_CHECK_FAILED, check_name="b"))
    store.record_failure(failure(triage, FailureKind.DBT_MODEL_FAILED, keys=(SUMMARY,)))

    at = T0 + timedelta(minutes=30)
    resolved = store.record_recovery(
        dg.AssetKey.from_user_string(EPA), at, by=Recovery.MATERIALIZED
    )
    assert [r.incident.kind for r in resolved] == [FailureKind.SOURCE_LOAD_FAILED]
    assert resolved[0].resolved_at == at and resolved[0].duration == timedelta(minutes=30)

    [check_a] = store.record_recovery(EPA, at, by=Recovery.CHECK_PASSED, check_name="a")
    assert check_a.incident.check_name == "a"
    assert store.record_recovery(EPA, at, by=Recovery.MATERIALIZED) == []  # nothing left to do

    [by_id] = store.record_recovery(f"data_check_failed:{EPA}#b", at)
    assert by_id.delivery_state is DeliveryState.RESOLVED_PENDING
    assert [r.id for r in store.list_incidents(open_only=True)] == [f"dbt_model_failed:{SUMMARY}"]


def test_staleness_ends_when_fresh_or_materialized(store: IncidentStore, triage: Triage) -> None:
    store.record_failure(failure(triage, FailureKind.SOURCE_STALE))
    assert store.record_recovery(EPA, T0, by=Recovery.CHECK_PASSED) == []
    assert len(store.record_recovery(EPA, T0, by=Recovery.FRESH)) == 1


def test_a_failure_after_resolution_opens_a_new_incident(
    store: IncidentStore, triage: Triage
) -> None:
    first, _ = store.record_failure(failure(triage))
    store.record_recovery(EPA, T0 + timedelta(hours=1))
    second, new = store.record_failure(failure(triage, at=T0 + timedelta(hours=2)))
    assert new and second.key != first.key and second.id == first.id
    assert second.occurrences == 1 and second.opened_at == T0 + timedelta(hours=2)
    assert [r.key for r in store.list_incidents()] == [second.key, first.key]  # newest first


def test_delivery_state_follows_what_slack_has_seen(store: IncidentStore, triage: Triage) -> None:
    row, _ = store.record_failure(failure(triage))
    assert store.pending_deliveries() == [row]
    row = store.mark_delivered(row.key, occurrences=1, channel="C1", ts="1.0001")
    assert row.delivery_state is DeliveryState.DELIVERED and row.posted
    assert store.pending_deliveries() == []

    row, _ = store.record_failure(failure(triage, at=T0 + timedelta(minutes=5)))
    assert row.delivery_state is DeliveryState.PENDING and row.slack_ts == "1.0001"
    # a delivery that saw 1 occurrence while a 3rd arrived leaves the incident pending
    store.record_failure(failure(triage, at=T0 + timedelta(minutes=6)))
    row = store.mark_delivered(row.key, occurrences=2)
    assert row.delivery_state is DeliveryState.PENDING

    [row] = store.record_recovery(EPA, T0 + timedelta(hours=1))
    assert row.delivery_state is DeliveryState.RESOLVED_PENDING
    row = store.mark_delivered(row.key, occurrences=3, resolution=True)
    assert row.delivery_state is DeliveryState.RESOLVED_DELIVERED
    assert (row.slack_channel, row.slack_ts) == ("C1", "1.0001")


def test_claims_keep_concurrent_deliverers_apart(store: IncidentStore, triage: Triage) -> None:
    row, _ = store.record_failure(failure(triage))
    lease = timedelta(minutes=2)
    assert store.claim_pending(T0, lease) == [row]
    assert store.claim_pending(T0, lease) == []  # held
    assert len(store.claim_pending(T0 + lease + timedelta(seconds=1), lease)) == 1  # expired
    store.release(row.key)
    assert len(store.claim_pending(T0, lease)) == 1


def test_the_store_survives_a_restart_and_concurrent_writers(location: str, triage: Triage) -> None:
    stores = [open_incident_store(location) for _ in range(4)]
    incident = failure(triage)

    def record() -> None:
        for s in stores:
            s.record_failure(incident)

    threads = [threading.Thread(target=record) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    [row] = open_incident_store(location).list_incidents()
    assert row.occurrences == 20
    assert row.incident == incident


def test_naive_datetimes_are_refused(store: IncidentStore, triage: Triage) -> None:
    store.record_failure(failure(triage))
    with pytest.raises(ValueError, match="aware"):
        store.record_recovery(EPA, datetime(2026, 4, 1, 12))


def test_notes_are_kept_once_in_order_and_delivered_once(
    store: IncidentStore, triage: Triage
) -> None:
    row, _ = store.record_failure(failure(triage))
    assert store.add_note(row.key, "rolled back to v1", T0)
    assert not store.add_note(row.key, "rolled back to v1", T0 + timedelta(minutes=1))
    assert store.add_note(row.key, "released", T0 + timedelta(hours=1))
    assert [text for _, text in store.notes(row.key)] == ["rolled back to v1", "released"]
    (first, _), (second, text) = store.undelivered_notes(row.key)
    store.mark_note_delivered(first)
    assert store.undelivered_notes(row.key) == [(second, text)]


def test_a_posted_incident_with_an_undelivered_note_is_claimed_until_the_note_is_delivered(
    store: IncidentStore, triage: Triage
) -> None:
    """Whole in Slack but for a note (its reply failed, or the deliverer died after the
    note was stored): claimable under the same lease, resolved or not, until delivered."""
    lease = timedelta(minutes=2)
    row, _ = store.record_failure(failure(triage))
    store.mark_delivered(row.key, occurrences=1, channel="C1", ts="1.0001")
    [row] = store.record_recovery(EPA, T0 + timedelta(hours=1))
    row = store.mark_delivered(row.key, occurrences=1, resolution=True)
    assert row.delivery_state is DeliveryState.RESOLVED_DELIVERED
    assert store.claim_pending(T0, lease) == []

    store.add_note(row.key, "released", T0 + timedelta(hours=2))
    assert [r.key for r in store.pending_deliveries()] == [row.key]
    assert [r.key for r in store.claim_pending(T0, lease)] == [row.key]
    assert store.claim_pending(T0, lease) == []  # held by the first deliverer
    [(note_id, _)] = store.undelivered_notes(row.key)
    store.mark_note_delivered(note_id)
    store.release(row.key)
    assert store.claim_pending(T0, lease) == []
    assert store.pending_deliveries() == []


class FullDiskStore(SqliteIncidentStore):
    """A SQLite store on a disk that filled up after it was created. Injected: the error
    SQLite raises on a full disk (`database or disk is full`, SQLITE_FULL), at the one place
    every write passes; the store's own wrapping of it is real."""

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        with super()._tx():
            raise sqlite3.OperationalError("database or disk is full")
        yield  # never reached: the write fails before it starts


def test_a_store_that_cannot_be_written_says_which_and_why(tmp_path: Path, triage: Triage):
    store = FullDiskStore(tmp_path / "incidents.sqlite")
    with pytest.raises(IncidentStoreError, match=r"incidents\.sqlite cannot be written: database"):
        store.record_failure(failure(triage))
    (tmp_path / "not-a-dir").write_text("")
    with pytest.raises(IncidentStoreError, match="not-a-dir"):  # a real OS failure
        open_incident_store(tmp_path / "not-a-dir" / "incidents.sqlite")


def test_an_incident_the_store_cannot_keep_reaches_the_console_and_slack_once(triage: Triage):
    """The bot looks for the incident in the channel first: reported again (the next tick,
    the store still full), it is not posted twice."""
    incident = failure(triage, FailureKind.DISK_FULL, error="no space left on /srv")
    out = io.StringIO()
    with SlackServer(token="xoxb-unstored-0123456789") as slack:
        notifier = SlackNotifier("xoxb-unstored-0123456789", "#ddrc", base_url=slack.api_url)
        for _ in range(2):
            deliver_unstored(incident, notifier, "the incident store x cannot be written", out)
        posts = [params for method, params in slack.calls if method == "chat.postMessage"]
    printed = out.getvalue()
    assert printed.count("INCIDENT (not stored: the incident store x cannot be written)") == 2
    assert incident.title in printed and "no space left on /srv" in printed
    assert len(posts) == 1
