"""What every warehouse offers the platform, and the rules they all keep.

A load either replaces its day's snapshot completely or changes nothing: the delete of
the day's old rows and the insert of the new ones share one transaction, so readers
(dbt, dashboards) never see a half-written snapshot, and a rerun never duplicates rows.
Identifiers are always quoted; column names are stored upper case. DuckDB (`duckdb.py`)
is the reference; Snowflake (`snowflake.py`) keeps the same contract.

A viewer (the dashboard) reads through `Warehouse.read_only()`: a `Reader` that never waits
for a run, never holds one up and creates nothing, and says why a read failed in one of
three ways, `NotBuiltError`, `WarehouseBusyError` or `UnavailableError`, so a page can
answer each with a sentence instead of a traceback.
"""

from __future__ import annotations

import hashlib
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Protocol

from ddrc_platform.core.catalog import RawTable
from ddrc_platform.core.locks import ResourceBusyError

if TYPE_CHECKING:  # only a viewer's process loads pandas; the pipeline's never does
    import pandas as pd
    import pyarrow as pa


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def stored_as_text(table: RawTable, column: str) -> bool:
    """An undocumented column is kept as text: it may come back later holding another
    kind of value, and a column the loader added for good must never fail a load. The
    declared ones (documented and the loader's own) keep their types."""
    return column.upper() not in table.all_columns


def first_line(error: BaseException) -> str:
    """An error's first line: a driver's message goes on with context a viewer cannot use."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


LOADS_SCHEMA, LOADS_TABLE = "OPS", "RAW_LOADS"


def table_hash(data: pa.Table) -> str:
    """A fingerprint of delivered data: an identical same-day reload need not rewrite anything."""
    import pyarrow as pa  # only when data is written: the definitions load without it

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, data.schema) as writer:
        writer.write_table(data.combine_chunks())
    return hashlib.sha256(sink.getvalue()).hexdigest()


def check_record_key(table: RawTable, data: pa.Table) -> None:
    """Current state is keyed by record id: a duplicate or missing id is a bad delivery."""
    assert table.record_key is not None
    keys = data.column(table.record_key)
    if len(keys.unique()) != data.num_rows or keys.null_count:
        raise ValueError(
            f"{table.path}: {table.record_key} must identify each record once "
            f"({data.num_rows} rows, {len(keys.unique())} distinct, {keys.null_count} null)"
        )


@dataclass(frozen=True)
class WriteResult:
    rows: int
    replaced_rows: int  # rows of the same day (or previous state) that this write replaced
    added_columns: tuple[str, ...]  # columns the table did not have before
    unchanged: bool = False  # the same day's snapshot already held exactly this data


class WarehouseBusyError(ResourceBusyError):
    """Another run holds the warehouse (the local DuckDB file) longer than we wait for it
    (a reader waits not at all)."""


class NotBuiltError(LookupError):
    """What a read asks for does not exist yet (no warehouse, no such relation): the
    pipeline has not built it. Not a failure: a viewer says "no data yet"."""


class UnavailableError(RuntimeError):
    """A read failed for another reason (a grant, the network); the message says which and
    holds no credential."""


class Reader(Protocol):
    """A viewer's read-only session: SQL in, a DataFrame with lower-case column names out,
    whatever case the warehouse stores them in.

    A relation that does not exist yet raises `NotBuiltError`; any other failure of a remote
    warehouse raises `UnavailableError`.
    """

    def frame(self, sql: str) -> pd.DataFrame: ...

    def raw(self, table: RawTable) -> str:
        """The raw table's relation as this session names it (it may sit in another database)."""
        ...


class Warehouse(Protocol):
    """What loaders, publishers and checks need of a warehouse, whatever it is."""

    kind: str  # shown as an asset kind: "duckdb" | "snowflake"

    def write_snapshot(
        self, table: RawTable, data: pa.Table, load_date: date, content_hash: str
    ) -> WriteResult: ...

    def write_current_state(self, table: RawTable, data: pa.Table) -> WriteResult: ...

    def query(self, sql: str, params: list | None = None) -> pa.Table: ...

    def table_columns(self, schema: str, table: str) -> list[str]: ...

    def last_kept_rows(self, table: RawTable) -> int | None:
        """Rows of the latest kept snapshot (loads log) or current state; None: never loaded."""
        ...

    def exclusive(self) -> AbstractContextManager[None]:
        """Hold the warehouse for a job of many statements in another process (dbt)."""
        ...

    def read_only(self) -> AbstractContextManager[Reader]:
        """A viewer's session: no wait for a run, no lock held across reads, nothing created.

        Raises `NotBuiltError` when there is no warehouse yet and `WarehouseBusyError` at
        once while a run holds it.
        """
        ...
