"""What a load of one raw table decides, as plain functions of plain inputs.

Which day a load is the snapshot of, whether the delivery may replace what is kept, which
columns stamp a snapshot and how it is written: each is decided here, so it is tested
without running Dagster. The loader asset (`defs/ingest/raw.py`) only translates between
Dagster (partition key, check results, metadata, failures) and these functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from ddrc_platform.core import catalog
from ddrc_platform.core.catalog import Keeping, RawTable
from ddrc_platform.core.names import pacific_date
from ddrc_platform.ingest.contract import ContractReport, check_columns
from ddrc_platform.ingest.delivery import decide_delivery, load_delivery_acknowledgements
from ddrc_platform.ingest.fetch import Fetched, fetch
from ddrc_platform.settings import Settings, SourceMode
from ddrc_platform.warehouse.base import Warehouse, WriteResult, table_hash

if TYPE_CHECKING:
    import pyarrow as pa


class PastDayRefusedError(ValueError):
    """A live source was asked for a day other than today: it serves only its present."""


def loaded_here(settings: Settings) -> tuple[RawTable, ...]:
    """The tables our loaders land: all of them, but those Fivetran syncs where it runs."""
    return tuple(
        t
        for t in catalog.RAW_TABLES
        if not (t.synced_by_fivetran and settings.fivetran is not None)
    )


def source_kind(table: RawTable, sources: SourceMode) -> str:
    """What the UI shows as the loader's source: sample data is made by Python."""
    return "python" if sources is SourceMode.SAMPLE else table.kind


def describe(table: RawTable, sources: SourceMode) -> str:
    """The loader's description: where it reads from and how its table keeps history."""
    keeping = (
        "Dated snapshots: one per Pacific day (`_LOAD_DATE`, the partition key), earlier "
        "days kept; a same-day reload replaces that day's rows in one transaction. Loaded "
        "when its change signal (sensor `watch_...`) sees a change; a past day can be "
        "backfilled in sample mode only (a live source serves only today)."
        if table.keeping is Keeping.SNAPSHOT
        else "Current state keyed by record id, in the table shape Fivetran lands it."
    )
    origin = (
        "built-in sample data"
        if sources is SourceMode.SAMPLE or table.endpoint is None
        else f"[the live source]({table.source_url})"
    )
    return (
        f"**{table.title}**, read from {origin}.\n\n{keeping}\n\n"
        f"Warehouse table `{table.path}`. Documented columns: {', '.join(table.columns)}."
    )


def load_day(table: RawTable, partition: str | None, sources: SourceMode, now: datetime) -> date:
    """The day this load is the snapshot of: the run's partition, else today (Pacific).

    A live source serves only its present state, so a past day cannot be fetched: that is
    refused before any request, saying so. Sample data can be generated for any day.
    """
    today = pacific_date(now)
    if partition is None:
        return today
    day = date.fromisoformat(partition)
    if day != today and sources is SourceMode.LIVE:
        raise PastDayRefusedError(
            f"{table.asset_key.to_user_string()}: cannot load the past day {day} from the live "
            f"source ({table.source_url}): it serves only its present state, today's "
            f"partition is {today}. Snapshots are kept per day as they are loaded; past days "
            "can be generated only in sample mode (DDRC_SOURCES=sample)."
        )
    return day


@dataclass(frozen=True)
class Delivery:
    """A fetched table the delivery check let through, with its schema contract report."""

    fetched: Fetched
    report: ContractReport


def receive(
    table: RawTable, settings: Settings, warehouse: Warehouse, day: date, now: datetime
) -> Delivery:
    """Fetch the table for `day`; an empty or shrunken delivery is refused before the
    contract is even looked at (`DeliveryRefusedError`), since it would replace kept rows."""
    fetched = fetch(table, settings, day=day, now=now)
    acknowledged = load_delivery_acknowledgements(settings.acknowledgements_path)
    decide_delivery(table, fetched.table.num_rows, warehouse.last_kept_rows(table), acknowledged)
    report = check_columns(
        table,
        fetched.column_kinds,
        fetched.system_fields,
        omitted=fetched.omitted,
        source_types=fetched.source_types,
    )
    return Delivery(fetched, report)


def with_snapshot_columns(
    table: RawTable, fetched: Fetched, load_date: date, loaded_at: datetime
) -> pa.Table:
    """Stamp every row with the day it belongs to (Pacific) and when it was loaded (UTC)."""
    import pyarrow as pa

    data = fetched.table
    n = data.num_rows
    naive_utc = loaded_at.astimezone(UTC).replace(tzinfo=None)
    if catalog.LAST_EDIT_DATE in table.system_columns:
        edit = fetched.last_edit
        last_edit = edit.astimezone(UTC).replace(tzinfo=None) if edit else None
        data = data.append_column(
            catalog.LAST_EDIT_DATE, pa.array([last_edit] * n, pa.timestamp("us"))
        )
    data = data.append_column(catalog.LOAD_DATE, pa.array([load_date] * n, pa.date32()))
    return data.append_column(catalog.LOADED_AT, pa.array([naive_utc] * n, pa.timestamp("us")))


def snapshot_digest(fetched: Fetched) -> str:
    """What makes a same-day reload a no-op: the same rows and the same edit time (the edit
    time is published as `last_updated`, so a new one must be written even over equal rows)."""
    return f"{table_hash(fetched.table)}@{fetched.last_edit}"


@dataclass(frozen=True)
class Kept:
    data: pa.Table  # as written, snapshot columns included
    result: WriteResult


def keep(
    table: RawTable, warehouse: Warehouse, fetched: Fetched, load_date: date, now: datetime
) -> Kept:
    """Write a delivery the way its table keeps history: a dated snapshot replacing that
    day, or the current state by record id."""
    if table.keeping is Keeping.SNAPSHOT:
        data = with_snapshot_columns(table, fetched, load_date, now)
        return Kept(
            data, warehouse.write_snapshot(table, data, load_date, snapshot_digest(fetched))
        )
    return Kept(fetched.table, warehouse.write_current_state(table, fetched.table))
