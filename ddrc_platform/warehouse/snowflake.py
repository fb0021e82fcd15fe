"""Writing raw tables to Snowflake with the semantics of `DuckDBWarehouse`.

Same contract as the DuckDB reference (see warehouse.py): a load replaces its day's
snapshot completely or changes nothing, an identical same-day reload is a no-op, new
source columns are added, identifiers are always quoted and column names upper case.

How rows get in: the arrow table is written to a Parquet file, `PUT` to a temporary
stage and `COPY`ed into a transient staging table of this load; then one transaction
deletes the day's rows, runs `INSERT INTO target SELECT ... FROM staging` and upserts
the loads-log row. Why this path:
- the bulk upload (the slow, network-bound part) happens before the transaction, so the
  transaction that holds the target table is three short statements;
- `INSERT ... SELECT` names its columns and casts with Snowflake's ordinary rules, so a
  value that does not fit an existing column fails inside the transaction and rolls back;
- `COPY` never targets the raw table, so Snowflake's 64-day file load metadata cannot
  silently skip a reload of the same file name.
`write_pandas` would do the stage + COPY part, but its generated SQL (a stage bound as
`identifier(?)`, a quoted stage name inside a string literal) is not understood by
fakesnow, while the plain `PUT` / `COPY ... MATCH_BY_COLUMN_NAME` used here runs
unchanged on Snowflake and on a fakesnow server: the path under test is the production
path. A MERGE for the loads log is replaced by delete + insert in the same transaction
for the same reason (fakesnow's MERGE needs a current schema); the effect is identical.

Snowflake commits implicitly before and after every DDL statement, so the schema work
(create schema/table, add columns, create the staging objects) runs before the
transaction opens. A load that then fails leaves at most new, all-null columns behind;
the previous snapshot stays intact.
"""

from __future__ import annotations

import contextlib
import tempfile
import traceback
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
from dagster_snowflake import SnowflakeResource
from pydantic import Field
from snowflake.connector.cursor import SnowflakeCursor

from ddrc_platform.core.catalog import LOAD_DATE, Keeping, RawTable
from ddrc_platform.core.redact import Redactor
from ddrc_platform.settings import SnowflakeSettings, secret_config
from ddrc_platform.warehouse.base import (
    LOADS_SCHEMA,
    LOADS_TABLE,
    UnavailableError,
    WriteResult,
    check_record_key,
    first_line,
    quote,
    stored_as_text,
)

if TYPE_CHECKING:
    import pandas as pd

LOADS_COLUMNS = ("TABLE_PATH", "LOAD_DATE", "CONTENT_HASH", "ROW_COUNT", "LOADED_AT")


class SnowflakeWarehouseError(RuntimeError):
    """A load could not complete; the message never holds a credential."""


def snowflake_type(arrow_type: pa.DataType) -> str:
    """The column type a delivered arrow type is stored as (new tables and added columns)."""
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "VARCHAR"
    if pa.types.is_integer(arrow_type):
        return "NUMBER(38,0)"
    if pa.types.is_floating(arrow_type):
        return "FLOAT"
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if pa.types.is_date(arrow_type):
        return "DATE"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP_NTZ"  # naive UTC: _staged_form() converts zoned values
    if pa.types.is_decimal(arrow_type):
        return f"NUMBER({arrow_type.precision},{arrow_type.scale})"
    raise TypeError(f"no Snowflake column type for arrow type {arrow_type}")


def _column_type(table: RawTable, field: pa.Field) -> str:
    """A raw table's column type: undocumented columns are text (`stored_as_text`)."""
    return "VARCHAR" if stored_as_text(table, field.name) else snowflake_type(field.type)


def _staged_form(data: pa.Table) -> pa.Table:
    """Upper-case names, zoned timestamps as naive UTC, all-null columns as text.

    Raw timestamps are naive UTC everywhere (dbt relies on it); a column that is null in
    every row of its first delivery has no type yet, and VARCHAR takes any later value.
    """
    names = [name.upper() for name in data.column_names]
    if duplicates := sorted({n for n in names if names.count(n) > 1}):
        raise ValueError(f"columns differ only by case: {', '.join(duplicates)}")
    columns = []
    for column in data.columns:
        kind = column.type
        if pa.types.is_timestamp(kind) and kind.tz is not None:  # arrow stores UTC instants
            column = column.cast(pa.timestamp(kind.unit))
        elif pa.types.is_null(kind) or pa.types.is_dictionary(kind):
            column = column.cast(pa.string() if pa.types.is_null(kind) else kind.value_type)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=names)


@contextmanager
def _transaction(cur: SnowflakeCursor) -> Iterator[None]:
    cur.execute("begin")
    try:
        yield
    except BaseException:
        cur.execute("rollback")
        raise
    cur.execute("commit")


def _secret(description: str) -> Any:
    """A credential field: hidden from `repr` and masked in the Dagster UI."""
    return Field(
        default=None,
        description=description,
        repr=False,
        json_schema_extra={"dagster__is_secret": True},
    )


class SnowflakeWarehouse(dg.ConfigurableResource):
    """The raw database of a Snowflake environment (RAW_DDRC_DEV or RAW_DDRC_PRD).

    Connects through dagster-snowflake's `SnowflakeResource`, built per operation from
    these fields, so the credential fields below stay out of `repr` and the UI.
    """

    account: str
    user: str
    database: str = Field(description="The layer's database, e.g. RAW_DDRC_DEV.")
    raw_database: str | None = Field(
        default=None, description="Where the raw tables are, when not in `database`."
    )
    role: str | None = None
    warehouse: str | None = None
    password: str | None = _secret("Password; key-pair auth is preferred.")
    private_key: str | None = _secret("Private key, PEM text.")
    private_key_path: str | None = None
    private_key_password: str | None = _secret("Passphrase of an encrypted private key.")
    host: str | None = Field(default=None, description="Private link or a local stand-in.")
    port: int | None = None
    protocol: str | None = None
    login_timeout: int | None = Field(default=None, description="Seconds; connector default.")

    @property
    def kind(self) -> str:
        return "snowflake"

    def _resource(self) -> SnowflakeResource:
        endpoint = {"host": self.host, "port": self.port, "protocol": self.protocol}
        return SnowflakeResource(
            account=self.account,
            user=self.user,
            password=self.password,
            private_key=self.private_key,
            private_key_path=self.private_key_path,
            private_key_password=self.private_key_password,
            database=self.database,
            role=self.role,
            warehouse=self.warehouse,
            login_timeout=self.login_timeout,
            paramstyle="qmark",  # `?` placeholders, as DuckDBWarehouse.query() takes them
            additional_snowflake_connection_args={k: v for k, v in endpoint.items() if v},
        )

    def _redactor(self) -> Redactor:
        return Redactor(
            v for v in (self.password, self.private_key_password, self.private_key) if v
        )

    @contextmanager
    def _cursor(self) -> Iterator[SnowflakeCursor]:
        """One session per operation; any error leaves with its credentials blanked out."""
        try:
            with self._resource().get_connection() as con:
                try:
                    with con.cursor() as cur:
                        yield cur
                except BaseException:
                    con.close()  # get_connection() neither closes nor commits a failed body
                    raise
        except Exception as exc:
            redact = self._redactor()
            if not redact.knows_secret_in("".join(traceback.format_exception(exc))):
                raise  # nothing secret in it, chained exceptions included
            raise SnowflakeWarehouseError(f"{type(exc).__name__}: {redact(str(exc))}") from None

    def _name(self, schema: str, table: str) -> str:
        return f"{quote(self.database)}.{quote(schema)}.{quote(table)}"

    def _columns(self, cur: SnowflakeCursor, schema: str, table: str) -> list[str]:
        cur.execute(
            f"select column_name from {quote(self.database)}.information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        )
        return [row[0] for row in cur.fetchall()]

    @contextmanager
    def _staged(self, cur: SnowflakeCursor, data: pa.Table) -> Iterator[str]:
        """A transient table of this load holding `data`, dropped afterwards.

        The stage it is copied through is temporary: Snowflake drops it with the session.
        """
        name = f"STAGE_{uuid.uuid4().hex.upper()}"
        table = self._name(LOADS_SCHEMA, name)
        stage = self._name(LOADS_SCHEMA, f"{name}_FILES")
        columns = ", ".join(f"{quote(f.name)} {snowflake_type(f.type)}" for f in data.schema)
        self._ops_schema(cur)
        cur.execute(f"create transient table {table} ({columns})")
        try:
            cur.execute(f"create temporary stage {stage} file_format = (type = parquet)")
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "rows.parquet"
                pq.write_table(data, path)
                url = path.as_posix().replace("\\", "\\\\").replace("'", "\\'")
                cur.execute(f"put 'file://{url}' @{stage} auto_compress = false")
            cur.execute(
                f"copy into {table} from @{stage} "
                "file_format = (type = parquet use_logical_type = true) "
                "match_by_column_name = case_sensitive purge = true on_error = abort_statement"
            )
            fields = [d.name.lower() for d in cur.description or []]
            rows = cur.fetchall()
            loaded = (
                sum(int(r[fields.index("rows_loaded")]) for r in rows)
                if "rows_loaded" in fields
                else 0
            )
            if loaded != data.num_rows:
                raise SnowflakeWarehouseError(f"staged {loaded} of {data.num_rows} rows")
            yield table
        except BaseException:
            with contextlib.suppress(Exception):  # the load's own error is the one to report
                cur.execute(f"drop table if exists {table}")
            raise
        cur.execute(f"drop table if exists {table}")

    def _prepare(self, cur: SnowflakeCursor, table: RawTable, data: pa.Table) -> tuple:
        """Create the table on first load and add columns a source newly delivers (DDL)."""
        target = self._name(table.schema, table.table)
        existing = set(self._columns(cur, table.schema, table.table))
        if not existing:
            cur.execute(f"create schema if not exists {quote(self.database)}.{quote(table.schema)}")
            columns = ", ".join(f"{quote(f.name)} {_column_type(table, f)}" for f in data.schema)
            cur.execute(f"create table if not exists {target} ({columns})")
            return target, ()
        added = tuple(f for f in data.schema if f.name not in existing)
        for field in added:
            cur.execute(
                f"alter table {target} add column {quote(field.name)} {_column_type(table, field)}"
            )
        return target, tuple(f.name for f in added)

    def _ops_schema(self, cur: SnowflakeCursor) -> None:
        """The loads log and the staging tables live in OPS, next to the raw schemas."""
        cur.execute(f"create schema if not exists {quote(self.database)}.{quote(LOADS_SCHEMA)}")

    def _loads_log(self, cur: SnowflakeCursor) -> str:
        loads = self._name(LOADS_SCHEMA, LOADS_TABLE)
        self._ops_schema(cur)
        cur.execute(
            f"create table if not exists {loads} ("
            '"TABLE_PATH" varchar, "LOAD_DATE" date, "CONTENT_HASH" varchar, '
            '"ROW_COUNT" number(38,0), "LOADED_AT" timestamp_ntz, '
            'primary key ("TABLE_PATH", "LOAD_DATE"))'
        )
        return loads

    @staticmethod
    def _insert(cur: SnowflakeCursor, target: str, staged: str, data: pa.Table) -> None:
        names = ", ".join(quote(name) for name in data.column_names)
        cur.execute(f"insert into {target} ({names}) select {names} from {staged}")

    def write_snapshot(
        self, table: RawTable, data: pa.Table, load_date: date, content_hash: str
    ) -> WriteResult:
        """Replace the day's snapshot, unless it already holds exactly this data.

        Keeping an identical snapshot keeps its `_LOADED_AT`, which is when the data last
        changed: a rerun on unchanged data then changes nothing downstream.
        """
        data = _staged_form(data)
        key = [table.path, load_date]
        where = '"TABLE_PATH" = ? and "LOAD_DATE" = ?'
        with self._cursor() as cur:
            loads = self._loads_log(cur)
            cur.execute(f'select "CONTENT_HASH" from {loads} where {where}', key)
            previous = cur.fetchone()
            if previous is not None and previous[0] == content_hash:
                return WriteResult(data.num_rows, 0, (), unchanged=True)
            with self._staged(cur, data) as staged:
                target, added = self._prepare(cur, table, data)
                with _transaction(cur):
                    cur.execute(f"delete from {target} where {quote(LOAD_DATE)} = ?", [load_date])
                    replaced = cur.rowcount or 0
                    self._insert(cur, target, staged, data)
                    cur.execute(f"delete from {loads} where {where}", key)
                    cur.execute(
                        f"insert into {loads} ({', '.join(map(quote, LOADS_COLUMNS))}) "
                        "values (?, ?, ?, ?, sysdate())",
                        [*key, content_hash, data.num_rows],
                    )
        return WriteResult(rows=data.num_rows, replaced_rows=replaced, added_columns=added)

    def write_current_state(self, table: RawTable, data: pa.Table) -> WriteResult:
        """Replace the whole table in one transaction, as a Fivetran sync leaves it."""
        check_record_key(table, data)
        data = _staged_form(data)
        with self._cursor() as cur, self._staged(cur, data) as staged:
            target, added = self._prepare(cur, table, data)
            with _transaction(cur):
                cur.execute(f"delete from {target}")
                replaced = cur.rowcount or 0
                self._insert(cur, target, staged, data)
        return WriteResult(rows=data.num_rows, replaced_rows=replaced, added_columns=added)

    def query(self, sql: str, params: list | None = None) -> pa.Table:
        """Rows as arrow; column names as Snowflake reports them (upper case when unquoted).

        Nanosecond timestamps become microseconds so that rows hold plain `datetime`s,
        as they do from DuckDB.
        """
        with self._cursor() as cur:
            cur.execute(sql, params)
            result = cur.fetch_arrow_all(force_return_table=True)
        columns = [
            c.cast(pa.timestamp("us", c.type.tz), safe=False)
            if pa.types.is_timestamp(c.type) and c.type.unit == "ns"
            else c
            for c in result.columns
        ]
        return pa.Table.from_arrays(columns, names=result.column_names)

    def table_columns(self, schema: str, table: str) -> list[str]:
        with self._cursor() as cur:
            return self._columns(cur, schema, table)

    def last_kept_rows(self, table: RawTable) -> int | None:
        with self._cursor() as cur:
            if table.keeping is Keeping.SNAPSHOT:
                if not self._columns(cur, LOADS_SCHEMA, LOADS_TABLE):
                    return None
                cur.execute(
                    f"select {quote('ROW_COUNT')} from {self._name(LOADS_SCHEMA, LOADS_TABLE)} "
                    f"where {quote('TABLE_PATH')} = ? order by {quote('LOAD_DATE')} desc limit 1",
                    [table.path],
                )
            elif self._columns(cur, table.schema, table.table):
                cur.execute(f"select count(*) from {self._name(table.schema, table.table)}")
            else:
                return None
            row = cur.fetchone()
        return None if row is None else int(row[0])

    def exclusive(self) -> AbstractContextManager[None]:
        """Nothing to hold: Snowflake isolates transactions; the run queue serialises runs."""
        return contextlib.nullcontext()

    def read_only(self) -> AbstractContextManager[SnowflakeReader]:
        """Nothing to open: each query is a session of its own, read-only by the role's grants
        (the reporter layer's), and Snowflake never makes a run wait for a reader."""
        return contextlib.nullcontext(SnowflakeReader(self))


@dataclass(frozen=True)
class SnowflakeReader:
    """Reads as the warehouse's role; a failure names the role, never a credential."""

    warehouse: SnowflakeWarehouse

    def frame(self, sql: str) -> pd.DataFrame:
        try:
            return self.warehouse.query(sql).to_pandas().rename(columns=str.lower)
        except Exception as failure:  # connector errors; `query` strips the credentials
            who = f"{self.warehouse.role} on {self.warehouse.account}"
            raise UnavailableError(f"Snowflake as {who}: {first_line(failure)}") from failure

    def raw(self, table: RawTable) -> str:
        database = self.warehouse.raw_database or self.warehouse.database
        return f"{quote(database)}.{quote(table.schema)}.{quote(table.table)}"


def snowflake_warehouse(settings: SnowflakeSettings, layer: str = "loader") -> SnowflakeWarehouse:
    """The `layer`'s connection (loader: the raw database; transformer: the models;
    reporter: what a viewer may read, which terraform grants on ANALYTICS only).

    Secrets go in as `Secret.config()` makes them: an EnvVar where the process holds them,
    so the Dagster UI shows variable names only.
    """
    objects = settings.objects
    role, warehouse, database = {
        "loader": (objects.loader_role, objects.loader_warehouse, objects.raw_database),
        "transformer": (
            objects.transformer_role,
            objects.transformer_warehouse,
            objects.transform_database,
        ),
        "reporter": (objects.reporter_role, objects.reporter_warehouse, objects.analytics_database),
    }[layer]

    return SnowflakeWarehouse(
        account=settings.account,
        user=settings.user,
        password=secret_config(settings.password),
        private_key=secret_config(settings.private_key),
        private_key_path=settings.private_key_path,
        private_key_password=secret_config(settings.private_key_passphrase),
        role=role,
        warehouse=warehouse,
        database=database,
        raw_database=objects.raw_database,
        host=settings.host,
        port=settings.port,
        protocol=settings.protocol,
    )
