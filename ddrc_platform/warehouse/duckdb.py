"""The embedded warehouse of the local deployment: one DuckDB file under DDRC_HOME."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa

from ddrc_platform.core.catalog import LOAD_DATE, RawTable
from ddrc_platform.warehouse.base import (
    LOADS_SCHEMA,
    LOADS_TABLE,
    WriteResult,
    check_record_key,
    quote,
)


class DuckDBWarehouse(dg.ConfigurableResource):
    """The embedded warehouse: one DuckDB file under DDRC_HOME."""

    path: str
    lock_wait_seconds: float = 60.0

    @property
    def kind(self) -> str:
        return "duckdb"

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the file for one operation: dbt runs in another process and needs the lock.

        Always read-write: DuckDB refuses a second in-process connection to one file with
        another configuration (dagster-dbt's row counts keep one open in this process).
        """
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.lock_wait_seconds
        while True:
            try:
                con = duckdb.connect(self.path)
                break
            except duckdb.IOException as exc:  # another process (dbt, a dashboard) holds it
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        try:
            yield con
        finally:
            con.close()

    def _prepare(self, con: duckdb.DuckDBPyConnection, table: RawTable, data: pa.Table) -> tuple:
        """Create the table on first load and add columns a source newly delivers."""
        target = f"{quote(table.schema)}.{quote(table.table)}"
        con.execute(f"create schema if not exists {quote(table.schema)}")
        con.register("incoming", data)
        con.execute(f"create table if not exists {target} as select * from incoming limit 0")
        existing = {c.upper() for c in self._columns(con, table.schema, table.table)}
        added = tuple(name for name in data.column_names if name.upper() not in existing)
        for name in added:
            column_type = con.execute(
                f"select typeof({quote(name)}) from incoming limit 1"
            ).fetchone()
            sql_type = column_type[0] if column_type else "VARCHAR"
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
