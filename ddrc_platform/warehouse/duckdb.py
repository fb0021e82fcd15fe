"""The embedded warehouse of the local deployment: one DuckDB file under DDRC_HOME."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from ddrc_platform.core.catalog import LOAD_DATE, Keeping, RawTable
from ddrc_platform.core.locks import exclusive
from ddrc_platform.warehouse.base import (
    LOADS_SCHEMA,
    LOADS_TABLE,
    NotBuiltError,
    UnavailableError,
    WarehouseBusyError,
    WriteResult,
    check_record_key,
    first_line,
    quote,
    stored_as_text,
)

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import pyarrow as pa


def _file_level_errors() -> tuple[type[Exception], ...]:
    """What a damaged or vanished file raises: the message gets the file's path."""
    import duckdb  # only when the file is opened: the definitions load without it

    return (
        duckdb.IOException,
        duckdb.InternalException,
        duckdb.SerializationException,
        duckdb.FatalException,
    )


@dataclass(frozen=True)
class DuckDBReader:
    """One read-only connection to the file (see `DuckDBWarehouse.read_only`)."""

    connection: duckdb.DuckDBPyConnection

    def frame(self, sql: str) -> pd.DataFrame:
        import duckdb

        try:
            return self.connection.sql(sql).df().rename(columns=str.lower)
        except duckdb.CatalogException as missing:
            raise NotBuiltError(first_line(missing)) from missing

    def raw(self, table: RawTable) -> str:
        return f"{quote(table.schema)}.{quote(table.table)}"


class DuckDBWarehouse(dg.ConfigurableResource):
    """The embedded warehouse: one DuckDB file under DDRC_HOME."""

    path: str
    lock_wait_seconds: float = 60.0

    @property
    def kind(self) -> str:
        return "duckdb"

    def exclusive(self) -> AbstractContextManager[None]:
        """The run lock of this warehouse (a file beside it): one run's step at a time.

        Loaders hold it for a write, the dbt step for its whole `dbt build` (a separate
        process that opens the file itself), so a second run waits instead of failing
        inside dbt, and after `lock_wait_seconds` says that another run has the warehouse.
        """
        return exclusive(
            Path(self.path).with_suffix(".lock"),
            wait_seconds=self.lock_wait_seconds,
            what=f"the warehouse {self.path}",
            busy=WarehouseBusyError,
        )

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the file for one operation, holding the run lock (`exclusive`).

        Always read-write: DuckDB refuses a second in-process connection to one file with
        another configuration (dagster-dbt's row counts keep one open in this process).
        A process that ignores the run lock (a dashboard) is waited for too.
        """
        import duckdb

        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with self.exclusive():
            deadline = time.monotonic() + self.lock_wait_seconds
            while True:
                try:
                    con = duckdb.connect(self.path)
                    break
                except duckdb.IOException as exc:  # another process holds the file
                    if "lock" not in str(exc).lower():
                        raise type(exc)(f'{exc} (the warehouse file "{self.path}")') from exc
                    if time.monotonic() > deadline:
                        raise WarehouseBusyError(
                            f"another run is using the warehouse {self.path}: {exc}"
                        ) from None
                    time.sleep(0.5)
            try:
                yield con
            except _file_level_errors() as exc:
                # DuckDB says "could not read enough bytes" without saying from which file
                raise type(exc)(f'{exc} (the warehouse file "{self.path}")') from exc
            finally:
                con.close()

    @contextmanager
    def read_only(self) -> Iterator[DuckDBReader]:
        """The file opened read-only for one viewer's read, by a process that is not a run's.

        DuckDB allows one writer process, and an open reader locks it out: a viewer that
        waited, or kept the file open between reads, would stall the loaders and fail dbt.
        So while a run writes this fails at once (`WarehouseBusyError`), and the connection
        closes when the block ends. A missing file is `NotBuiltError`, never a new file.
        """
        import duckdb

        if not Path(self.path).exists():  # connecting, even read-only, is not worth a try
            raise NotBuiltError(f"no warehouse at {self.path}")
        try:
            # no replacement scans: a missing table must not resolve to a Python variable
            connection = duckdb.connect(
                self.path, read_only=True, config={"python_enable_replacements": False}
            )
        except duckdb.IOException as failure:
            if "lock" in str(failure).lower():
                raise WarehouseBusyError("the pipeline is writing to the warehouse") from failure
            raise UnavailableError(first_line(failure)) from failure
        try:
            yield DuckDBReader(connection)
        finally:
            connection.close()

    def _prepare(self, con: duckdb.DuckDBPyConnection, table: RawTable, data: pa.Table) -> tuple:
        """Create the table on first load and add columns a source newly delivers.

        Undocumented columns are text (`stored_as_text`): whatever they hold next time,
        a column once added never fails a later load."""
        target = f"{quote(table.schema)}.{quote(table.table)}"
        con.execute(f"create schema if not exists {quote(table.schema)}")
        con.register("incoming", data)
        as_delivered = ", ".join(
            f"{quote(n)}::varchar as {quote(n)}" if stored_as_text(table, n) else quote(n)
            for n in data.column_names
        )
        con.execute(
            f"create table if not exists {target} as select {as_delivered} from incoming limit 0"
        )
        existing = {c.upper() for c in self._columns(con, table.schema, table.table)}
        added = tuple(name for name in data.column_names if name.upper() not in existing)
        for name in added:
            column_type = con.execute(
                f"select typeof({quote(name)}) from incoming limit 1"
            ).fetchone()
            typed = column_type[0] if column_type else "VARCHAR"
            sql_type = "VARCHAR" if stored_as_text(table, name) else typed
            con.execute(f"alter table {target} add column {quote(name)} {sql_type}")
        return target, added

    def write_snapshot(
        self, table: RawTable, data: pa.Table, load_date: date, content_hash: str
    ) -> WriteResult:
        """Replace the day's snapshot, unless it already holds exactly this data.

        Keeping an identical snapshot keeps its `_LOADED_AT`, which is when the data last
        changed: a rerun on unchanged data then changes nothing downstream.
        """
        loads = f"{quote(LOADS_SCHEMA)}.{quote(LOADS_TABLE)}"
        with self.connect() as con:
            con.begin()
            try:
                con.execute(f"create schema if not exists {quote(LOADS_SCHEMA)}")
                con.execute(
                    f"create table if not exists {loads} (table_path varchar, load_date date, "
                    "content_hash varchar, row_count bigint, loaded_at timestamp, "
                    "primary key (table_path, load_date))"
                )
                previous = con.execute(
                    f"select content_hash, row_count from {loads} "
                    "where table_path = ? and load_date = ?",
                    [table.path, load_date],
                ).fetchone()
                if previous is not None and previous[0] == content_hash:
                    con.rollback()
                    return WriteResult(data.num_rows, 0, (), unchanged=True)
                target, added = self._prepare(con, table, data)
                replaced = con.execute(
                    f"delete from {target} where {quote(LOAD_DATE)} = ?", [load_date]
                ).fetchone()[0]
                con.execute(f"insert into {target} by name select * from incoming")
                con.execute(
                    f"insert or replace into {loads} values (?, ?, ?, ?, now()::timestamp)",
                    [table.path, load_date, content_hash, data.num_rows],
                )
                con.commit()
            except BaseException:
                con.rollback()
                raise
        return WriteResult(rows=data.num_rows, replaced_rows=replaced, added_columns=added)

    def write_current_state(self, table: RawTable, data: pa.Table) -> WriteResult:
        check_record_key(table, data)
        with self.connect() as con:
            con.begin()
            try:
                target, added = self._prepare(con, table, data)
                replaced = con.execute(f"delete from {target}").fetchone()[0]
                con.execute(f"insert into {target} by name select * from incoming")
                con.commit()
            except BaseException:
                con.rollback()
                raise
        return WriteResult(rows=data.num_rows, replaced_rows=replaced, added_columns=added)

    def last_kept_rows(self, table: RawTable) -> int | None:
        with self.connect() as con:
            if table.keeping is Keeping.SNAPSHOT:
                if not self._columns(con, LOADS_SCHEMA, LOADS_TABLE):
                    return None
                row = con.execute(
                    f"select row_count from {quote(LOADS_SCHEMA)}.{quote(LOADS_TABLE)} "
                    "where table_path = ? order by load_date desc limit 1",
                    [table.path],
                ).fetchone()
            elif self._columns(con, table.schema, table.table):
                row = con.execute(
                    f"select count(*) from {quote(table.schema)}.{quote(table.table)}"
                ).fetchone()
            else:
                return None
        return None if row is None else int(row[0])

    def query(self, sql: str, params: list | None = None) -> pa.Table:
        with self.connect() as con:
            return con.sql(sql, params=params).to_arrow_table()

    @staticmethod
    def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
        rows = con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        ).fetchall()
        return [r[0] for r in rows]

    def table_columns(self, schema: str, table: str) -> list[str]:
        with self.connect() as con:
            return self._columns(con, schema, table)
