"""Everything the dashboard reads, and the one module that imports the platform's code.

Every import of the platform's code is here, so the pages depend on this module only.
Each reader is a small function from the deployment's settings to a
pandas DataFrame, so tests call them directly and the pages only lay them out.

Reading must neither get in the pipeline's way nor change what it reads:
- The local DuckDB file is opened read-only for one reader and closed before the page
  renders. DuckDB allows one writer process and an open reader locks it out, so a file
  held open between reruns would stall the loaders and fail dbt. While the pipeline
  writes, opening fails at once: the reader raises `WarehouseBusy` and the page keeps
  showing the data it read last.
- Nothing is created: a missing warehouse, published file or incident store is `NoData`
  (or no incidents), never an empty file made on the way.
- dev/prd read Snowflake with the REPORTER role and the published blob, whose client
  libraries load on that path only; those reads are cached for `REFRESH_SECONDS`, as each
  one is a remote round trip. Local reads take milliseconds and are never cached.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, TypeVar

import dagster as dg
import duckdb
import pandas as pd
import streamlit as st

from ddrc_platform.core import catalog
from ddrc_platform.core.names import PACIFIC
from ddrc_platform.incidents import IncidentRow
from ddrc_platform.incidents.severity import public_view
from ddrc_platform.incidents.store import existing_incident_store
from ddrc_platform.publish.document import PublicationError, validate
from ddrc_platform.publish.targets.local import LocalPublisher
from ddrc_platform.settings import Deployment, Settings, SettingsError, load_settings
from ddrc_platform.transform.assets import model_relation
from ddrc_platform.transform.project import DBT_PROJECT_DIR, dbt_project, prepare_manifest
from ddrc_platform.warehouse.base import quote

T = TypeVar("T")

REFRESH_SECONDS = 60
CHANGE_DAYS = (7, 30)
CATALOG_SEED = DBT_PROJECT_DIR / "seeds" / "metric_catalog.csv"
SUMMARY, HISTORY, FEEDBACK = "ddrc_metrics_summary", "metric_history", "page_feedback_weekly"
AIRTABLE = catalog.AIRTABLE_METRICS


class Misconfigured(RuntimeError):
    """The deployment's settings are incomplete; the message names the variables."""


class NoData(LookupError):
    """What a page needs does not exist yet: the pipeline has not built it."""


class WarehouseBusy(RuntimeError):
    """The pipeline holds DuckDB's writer lock: read-only opens fail until it finishes."""


class Unavailable(RuntimeError):
    """A read failed for another reason (a grant, the network); the message says which."""


class Freshness(StrEnum):
    """A source against its freshness policy (its catalog declaration's `freshness`)."""

    FRESH = "fresh"
    LATE = "late"  # past the warn window
    STALE = "stale"  # past the fail window: the incident sensor opens an incident
    NEVER = "never loaded"


# -- settings ----------------------------------------------------------------------


def settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as problem:
        raise Misconfigured(str(problem)) from None


def deployment(settings: Settings) -> str:
    return settings.deployment.value


def is_local(settings: Settings) -> bool:
    return settings.deployment is Deployment.LOCAL


def location(settings: Settings) -> str:
    """Where this deployment's data lives, in words; also the key of its cached reads."""
    if is_local(settings):
        return str(settings.home)
    return f"Snowflake and Azure ({settings.deployment.value})"


# -- warehouses --------------------------------------------------------------------


class Session(Protocol):
    """One reader's view of the warehouse: SQL in, DataFrame out (lower-case columns)."""

    def frame(self, sql: str) -> pd.DataFrame: ...

    def mart(self, model: str) -> str: ...

    def raw(self, schema: str, table: str) -> str: ...


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _lower(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns=str.lower)


class _DuckDB:
    """The local warehouse through one read-only connection.

    dbt-duckdb puts the models in the file's own catalog under the schemas of
    dbt_project.yml, unprefixed (macros/naming.sql): `marts.metric_history`.
    """

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.connection = connection

    def frame(self, sql: str) -> pd.DataFrame:
        try:
            return _lower(self.connection.sql(sql).df())
        except duckdb.CatalogException as missing:
            raise NoData(_first_line(missing)) from missing

    def mart(self, model: str) -> str:
        return f"marts.{quote(model)}"

    def raw(self, schema: str, table: str) -> str:
        return f"{quote(schema)}.{quote(table)}"


@contextmanager
def _duckdb(settings: Settings) -> Iterator[_DuckDB]:
    path = settings.warehouse_path
    if not path.exists():  # checked first: connecting, even read-only, is not worth a try
        raise NoData(f"no warehouse at {path}")
    try:
        # no replacement scans: a missing mart must not resolve to a Python object (a reader
        # function here is called `metric_history`)
        connection = duckdb.connect(
            str(path), read_only=True, config={"python_enable_replacements": False}
        )
    except duckdb.IOException as failure:
        if "lock" in str(failure).lower():
            raise WarehouseBusy("the pipeline is writing to the warehouse") from failure
        raise Unavailable(_first_line(failure)) from failure
    try:
        yield _DuckDB(connection)
    finally:
        connection.close()


class _Snowflake:
    """A dev/prd warehouse as the REPORTER role sees it (terraform grants it ANALYTICS).

    Marts are named as the publisher names the summary, from the target's dbt manifest;
    raw tables live in the loaders' RAW database.
    """

    def __init__(self, settings: Settings) -> None:
        # dev/prd only: loads the Snowflake connector
        from ddrc_platform.warehouse.snowflake import snowflake_warehouse

        assert settings.snowflake is not None  # dev/prd settings always carry it
        target, objects = settings.deployment, settings.snowflake.objects
        manifest = json.loads(prepare_manifest(dbt_project(target.value)).read_text())
        self.relations = {m: model_relation(manifest, m) for m in (SUMMARY, HISTORY, FEEDBACK)}
        self.raw_database = objects.raw_database
        self.reporter = snowflake_warehouse(settings.snowflake, layer="transformer").model_copy(
            update={
                "role": objects.reporter_role,
                "warehouse": objects.reporter_warehouse,
                "database": objects.analytics_database,
            }
        )
        self.identity = f"{self.reporter.role} on {self.reporter.account}"

    def frame(self, sql: str) -> pd.DataFrame:
        return _snowflake_frame(self.reporter, self.identity, sql)

    def mart(self, model: str) -> str:
        return self.relations[model]

    def raw(self, schema: str, table: str) -> str:
        return f"{quote(self.raw_database)}.{quote(schema)}.{quote(table)}"


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def _snowflake_frame(_warehouse: Any, identity: str, sql: str) -> pd.DataFrame:
    try:
        return _lower(_warehouse.query(sql).to_pandas())
    except Exception as failure:  # connector errors; SnowflakeWarehouse strips credentials
        raise Unavailable(f"Snowflake as {identity}: {_first_line(failure)}") from failure


@st.cache_resource(show_spinner=False)
def _snowflake(key: str, _settings: Settings) -> _Snowflake:
    return _Snowflake(_settings)


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    if is_local(settings):
        with _duckdb(settings) as session:
            yield session
    else:
        try:
            session = _snowflake(location(settings), settings)
        except Exception as failure:  # the dbt manifest, the settings of the REPORTER session
            raise Unavailable(f"Snowflake: {_first_line(failure)}") from failure
        yield session


def _optional(read: Callable[[], T]) -> T | None:
    """Data a page can do without: missing or unreadable is None; busy still raises."""
    try:
        return read()
    except (NoData, Unavailable):
        return None


def _utc(values: Any) -> Any:
    """Warehouse timestamps are naive UTC; the published file's carry their offset."""
    return pd.to_datetime(values, utc=True, format="ISO8601")


# -- the published file ------------------------------------------------------------


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def _blob(key: str, _settings: Settings) -> tuple[bytes | None, list[str]]:
    from ddrc_platform.resources import build_publisher  # dev/prd: loads the Azure SDK

    publisher = build_publisher(_settings)
    try:
        return publisher.current(), publisher.versions()
    except Exception as failure:  # BlobStorageError names the call and holds no secret
        raise Unavailable(_first_line(failure)) from failure


def _published_file(settings: Settings) -> tuple[bytes | None, list[str]]:
    """The live ddrc-metrics.json (None before the first publish) and its kept versions."""
    if is_local(settings):
        local = LocalPublisher(directory=str(settings.publish_dir))  # reads; creates nothing
        return local.current(), local.versions()
    return _blob(location(settings), settings)


def published(settings: Settings) -> pd.DataFrame:
    """The public numbers, exactly as the website reads them."""
    content, _ = _published_file(settings)
    if content is None:
        raise NoData("nothing published yet")
    try:
        document = validate(content)  # the website's contract: a broken file is news
    except PublicationError as broken:
        raise Unavailable(str(broken)) from broken
    frame = _lower(pd.DataFrame(document))
    return frame.assign(
        metric_value=frame["metric_value"].astype(float),
        last_updated=_utc(frame["last_updated"]),
    )


def publications(settings: Settings) -> pd.DataFrame:
    """Every published version kept, oldest first (their names start with the UTC time)."""
    _, versions = _published_file(settings)
    return pd.DataFrame(
        {
            "version": versions,
            "published_at": pd.to_datetime(
                [v[:16] for v in versions], format="%Y%m%dT%H%M%SZ", utc=True
            ),
        }
    )


# -- labels ------------------------------------------------------------------------


def humanize(name: str) -> str:
    return name.replace("_", " ").capitalize()


def first_value(raw: Any) -> str | None:
    """The first non-empty text of an Airtable lookup or "Metric Title for Interface".

    Those arrive as arrays: JSON text in DuckDB and in Fivetran's Snowflake columns, a
    list from other drivers, or a bare string when a field is plain text.
    """
    if isinstance(raw, str):
        with suppress(ValueError):  # plain text, not a JSON array
            raw = json.loads(raw)
    items = raw if isinstance(raw, Iterable) and not isinstance(raw, str | dict) else [raw]
    return next((item.strip() for item in items if isinstance(item, str) and item.strip()), None)


def metric_catalog() -> pd.DataFrame:
    """Pipeline metrics: title, unit, description and the raw table each is computed from.

    Read from the dbt seed file rather than the warehouse: the REPORTER role cannot read
    the seeds schema, and the file is the one the deployed pipeline builds from.
    """
    seed = pd.read_csv(CATALOG_SEED, dtype=str)
    families = catalog.by_metric_family()
    return pd.DataFrame(
        {
            "metric_name": seed["metric_name"],
            "title": seed["metric_title"],
            "unit": seed["metric_unit_label"],
            "description": seed["description"],
            "source_table": [families[family].name for family in seed["source"]],
        }
    )


def _airtable_titles(session: Session) -> pd.DataFrame:
    """Airtable's "Metric Title for Interface" of each manual metric, from its latest entry."""
    entries = session.frame(
        'select "METRIC_MACHINE_NAME_FROM_METRIC_DEFINITION_" as metric_name, '
        '"METRIC_TITLE_FOR_INTERFACE" as title, "DATE_CREATED" as date_created '
        f"from {session.raw(AIRTABLE.schema, AIRTABLE.table)}"
    )
    entries = entries.assign(
        metric_name=entries["metric_name"].map(first_value), title=entries["title"].map(first_value)
    ).dropna(subset=["metric_name", "title"])
    latest = entries.sort_values("date_created").drop_duplicates("metric_name", keep="last")
    return latest[["metric_name", "title"]]


# -- sources -----------------------------------------------------------------------


def _source_facts(session: Session, table: catalog.RawTable) -> dict[str, Any]:
    """Last load, rows (and, for ArcGIS layers, last edit) of a raw table's latest data.

    Snapshot tables: the latest snapshot's `_LOADED_AT`, the loader's UTC clock (the loads
    log's `loaded_at` is DuckDB's `now()` in the machine's time zone). Fivetran-shaped
    tables: the newest `_FIVETRAN_SYNCED`, when a sync last changed a row, and the rows
    not deleted. Raises NoData when the table does not exist.
    """
    relation = session.raw(table.schema, table.table)
    if table.keeping is catalog.Keeping.SNAPSHOT:
        edit = (
            f', max("{catalog.LAST_EDIT_DATE}") as last_edit'
            if catalog.LAST_EDIT_DATE in table.system_columns
            else ""
        )
        day = f'"{catalog.LOAD_DATE}"'
        sql = (
            f"select max({day}) as load_date, count(*) as row_count, "
            f'max("{catalog.LOADED_AT}") as last_load{edit} from {relation} '
            f"where {day} = (select max({day}) from {relation})"
        )
    else:
        live = (
            f'where not coalesce("{catalog.FIVETRAN_DELETED}", false)'
            if catalog.FIVETRAN_DELETED in table.system_columns
            else ""
        )
        sql = (
            f'select count(*) as row_count, max("{catalog.FIVETRAN_SYNCED}") as last_load '
            f"from {relation} {live}"
        )
    return session.frame(sql).iloc[0].to_dict()


def freshness(last_load: Any, policy: dg.FreshnessPolicy, now: datetime) -> Freshness:
    """Where a load's age stands against a source's freshness windows."""
    if last_load is None or pd.isna(last_load):
        return Freshness.NEVER
    age = now - pd.Timestamp(last_load)
    if age > policy.fail_window.to_timedelta():
        return Freshness.STALE
    if policy.warn_window is not None and age > policy.warn_window.to_timedelta():
        return Freshness.LATE
    return Freshness.FRESH


def _sources(session: Session, now: datetime) -> pd.DataFrame:
    """Each raw table's facts and freshness; a table not there yet was never loaded.

    Snowflake says "does not exist or not authorized" alike: when no table at all can be
    read, that is the answer (a missing grant, or nothing loaded), not nine blank rows.
    """
    facts, unreadable = {}, []
    for table in catalog.RAW_TABLES:
        try:
            facts[table.name] = _source_facts(session, table)
        except NoData:
            facts[table.name] = {}
        except Unavailable as failure:
            facts[table.name] = {}
            unreadable.append(failure)
    if len(unreadable) == len(catalog.RAW_TABLES):
        raise unreadable[0]
    rows = []
    for table in catalog.RAW_TABLES:
        policy, found = table.freshness, facts[table.name]
        last_load = _utc(found.get("last_load"))
        rows.append(
            {
                "name": table.name,
                "title": table.title,
                "table": table.path,
                "asset_key": table.asset_key.to_user_string(),
                "source_url": table.source_url,
                "keeping": table.keeping.value,
                "load_date": found.get("load_date"),
                "last_load": last_load,
                "last_edit": _utc(found.get("last_edit")),
                "row_count": found.get("row_count") or None,
                "freshness": freshness(last_load, policy, now).value,
                "late_after": policy.warn_window.to_timedelta() if policy.warn_window else None,
                "stale_after": policy.fail_window.to_timedelta(),
            }
        )
    return pd.DataFrame(rows).astype({"row_count": "Int64"})


def sources(settings: Settings, now: datetime | None = None) -> pd.DataFrame:
    """Each raw table: last successful load, last edit at the source, rows, freshness."""
    with _session(settings) as session:
        return _sources(session, now or datetime.now(UTC))


# -- metrics -----------------------------------------------------------------------


def _mart(session: Session, model: str) -> pd.DataFrame:
    return session.frame(f"select * from {session.mart(model)}")


def _history_frame(raw: pd.DataFrame) -> pd.DataFrame:
    return raw.assign(
        load_date=pd.to_datetime(raw["load_date"]),
        metric_value=raw["metric_value"].astype(float),
        last_updated=_utc(raw["last_updated"]),
    ).sort_values(["metric_name", "load_date"], ignore_index=True)


def _value_on(history: pd.DataFrame, day: date) -> pd.Series:
    """Each metric's value as known on `day`: its latest load on or before that day."""
    known = history[history["load_date"] <= pd.Timestamp(day)].sort_values("load_date")
    return known.groupby("metric_name")["metric_value"].last()


def metric_changes(history: pd.DataFrame, today: date) -> pd.DataFrame:
    """Change of each metric over the last 7 and 30 days (NaN where history is shorter)."""
    now = _value_on(history, today)
    return pd.DataFrame(
        {
            f"change_{days}d": now - _value_on(history, today - timedelta(days))
            for days in CHANGE_DAYS
        }
    ).rename_axis("metric_name")


def _held_back(public: pd.DataFrame, summary: pd.DataFrame | None) -> pd.DataFrame:
    """Published rows, plus summary rows the file lacks; `held_back` where the two differ.

    Without a summary (marts not built) whether anything is held back is unknown: NA.
    """
    if summary is None:
        return public.assign(
            summary_value=math.nan, held_back=pd.array([pd.NA] * len(public), dtype="boolean")
        )
    built = summary.assign(
        metric_value=summary["metric_value"].astype(float),
        last_updated=_utc(summary["last_updated"]),
    ).drop(columns=["metric_source"], errors="ignore")
    unpublished = built[~built["metric_name"].isin(public["metric_name"])]
    frame = pd.concat([public, unpublished.assign(metric_value=math.nan)], ignore_index=True)
    frame["summary_value"] = frame["metric_name"].map(
        built.set_index("metric_name")["metric_value"]
    )
    differs = frame["metric_value"].isna() | (
        frame["metric_value"].round(2) != frame["summary_value"].round(2)
    )
    frame["held_back"] = (frame["summary_value"].notna() & differs).astype("boolean")
    return frame


def _in_catalog_order(frame: pd.DataFrame, labels: pd.DataFrame, then: str) -> pd.DataFrame:
    """Pipeline metrics as the catalog seed lists them, then the others, by `then`."""
    rank = {name: i for i, name in enumerate(labels["metric_name"])}
    return frame.sort_values(
        ["metric_name", then],
        key=lambda column: (
            column.map(rank).fillna(len(rank)) if column.name == "metric_name" else column
        ),
        kind="stable",
        ignore_index=True,
    )


def _titles(names: pd.Series, labels: pd.DataFrame, airtable: pd.DataFrame | None) -> pd.Series:
    """The catalog seed's title, else Airtable's title for the interface, else the name."""
    titles = {} if airtable is None else airtable.set_index("metric_name")["title"].to_dict()
    titles.update(labels.set_index("metric_name")["title"].to_dict())
    return names.map(lambda name: titles.get(name) or humanize(name))


def metrics(settings: Settings, now: datetime | None = None) -> pd.DataFrame:
    """The public numbers and what a viewer needs to trust them, one row per metric.

    Title, published value and labels, change over 7 and 30 days, freshness of its
    source, and whether it is held back (the summary the pipeline built differs from
    what is published: what a failed blocking check leaves). Pipeline metrics first, in
    catalog order. Parts that need the warehouse stay empty while it lacks them.
    """
    now = now or datetime.now(UTC)
    public = published(settings)
    labels = metric_catalog()
    try:
        with _session(settings) as session:
            summary = _optional(lambda: _mart(session, SUMMARY))
            history = _optional(lambda: _history_frame(_mart(session, HISTORY)))
            airtable = _optional(lambda: _airtable_titles(session))
            source_state = _optional(lambda: _sources(session, now))
    except NoData:  # a published file without a warehouse beside it
        summary = history = airtable = source_state = None

    frame = _held_back(public, summary)
    catalogued = labels.set_index("metric_name")
    frame["title"] = _titles(frame["metric_name"], labels, airtable)
    frame["metric_source"] = [
        "pipeline" if n in catalogued.index else "airtable" for n in frame["metric_name"]
    ]
    frame["description"] = frame["metric_name"].map(catalogued["description"])
    frame["source_table"] = (
        frame["metric_name"].map(catalogued["source_table"]).fillna(AIRTABLE.name)
    )

    state = pd.DataFrame(columns=["title", "freshness", "last_load", "stale_after"])
    if source_state is not None:
        state = source_state.set_index("name")
    for column in ("freshness", "last_load", "stale_after"):
        frame[column] = frame["source_table"].map(state[column])
    frame["source_title"] = frame["source_table"].map(state["title"])

    if history is None:
        frame = frame.assign(**{f"change_{d}d": math.nan for d in CHANGE_DAYS}, trend=None)
    else:
        frame = frame.join(
            metric_changes(history, now.astimezone(PACIFIC).date()), on="metric_name"
        )
        frame["trend"] = frame["metric_name"].map(
            history.groupby("metric_name")["metric_value"].agg(list)
        )

    return _in_catalog_order(frame, labels, "title")


def metric_history(settings: Settings) -> pd.DataFrame:
    """Every pipeline metric at every load date (mart metric_history), with its title."""
    with _session(settings) as session:
        history = _history_frame(_mart(session, HISTORY))
    labels = metric_catalog()
    titled = history.merge(labels, on="metric_name", how="left").assign(
        title=lambda f: f["title"].fillna(f["metric_name"].map(humanize))
    )
    return _in_catalog_order(titled, labels, "load_date")


def page_feedback(settings: Settings) -> pd.DataFrame:
    """Answers to "Was this page helpful?" per site, page and week (page_feedback_weekly)."""
    with _session(settings) as session:
        weekly = _mart(session, FEEDBACK)
    return weekly.assign(
        week_start=pd.to_datetime(weekly["week_start"]),
        helpful_rate=weekly["helpful_rate"].astype(float),
    ).astype({"helpful_count": int, "not_helpful_count": int, "response_count": int})


# -- incidents ---------------------------------------------------------------------

INCIDENT_COLUMNS = (
    "key", "id", "title", "kind", "severity", "public_view", "open", "responder", "act_now",
    "deferred_until", "affected_metrics", "asset_keys", "runbook", "escalation", "run_url",
    "github_issue_url", "error_excerpt", "opened_at", "updated_at", "resolved_at", "occurrences",
)  # fmt: skip


def _incident(row: IncidentRow) -> dict:
    incident = row.incident
    return {
        "key": row.key,
        "id": incident.id,
        "title": incident.title,
        "kind": incident.kind.label,
        "severity": incident.severity.value,
        "public_view": public_view(incident.severity),
        "open": row.resolved_at is None,
        "responder": incident.responder,
        "act_now": incident.act_now,
        "deferred_until": incident.deferred_until,
        "affected_metrics": list(incident.affected_metrics),
        "asset_keys": list(incident.asset_keys),
        "runbook": list(incident.runbook),
        "escalation": [f"{p.name} ({p.role})" if p.role else p.name for p in incident.escalation],
        "run_url": incident.run_url,
        "github_issue_url": incident.github_issue_url,
        "error_excerpt": incident.error_excerpt,
        "opened_at": row.opened_at,
        "updated_at": row.updated_at,
        "resolved_at": row.resolved_at,
        "occurrences": row.occurrences,
    }


def incidents(settings: Settings) -> pd.DataFrame:
    """Every incident in the store, newest first; none when the store does not exist yet.

    Read on every call, never cached: a new incident must show within seconds.
    """
    store = existing_incident_store(settings.incident_store_location)
    if store is None:  # opening would create the file and its folder
        return pd.DataFrame(columns=list(INCIDENT_COLUMNS))
    try:
        rows = store.list_incidents()
    except Exception as failure:  # locked beyond its timeout, unreachable, unreadable
        raise Unavailable(f"incident store: {_first_line(failure)}") from failure
    return pd.DataFrame([_incident(row) for row in rows], columns=list(INCIDENT_COLUMNS))


def with_open_incidents(sources: pd.DataFrame, incidents: pd.DataFrame) -> pd.DataFrame:
    """Each source with the titles of the open incidents that involve its raw table."""
    ongoing = incidents[incidents["open"].astype(bool)]
    return sources.assign(
        open_incidents=[
            [
                t
                for t, keys in zip(ongoing["title"], ongoing["asset_keys"], strict=True)
                if key in keys
            ]
            for key in sources["asset_key"]
        ]
    )
