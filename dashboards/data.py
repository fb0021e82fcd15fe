"""Everything the dashboard reads, and the one module that imports the platform's code.

Every import of the platform's code is here, so the pages depend on this module only.
Each reader is a small function from the deployment's settings to a
pandas DataFrame, so tests call them directly and the pages only lay them out.

Reading must neither get in the pipeline's way nor change what it reads, which the
warehouse's read-only session (`Warehouse.read_only()`) ensures: the local DuckDB file
opened read-only for one reader, closed before the page renders, and `WarehouseBusyError`
at once while a run writes (the page keeps the data it read last); Snowflake as the
REPORTER role. This module holds only the dashboard's queries and the shaping of them.
- Nothing is created: a missing warehouse, published file or incident store is
  `NotBuiltError` (or no incidents), never an empty file made on the way.
- dev/prd reads (Snowflake; the published blob, whose client library loads on that path
  only) are cached for `REFRESH_SECONDS`, as each one is a remote round trip. Local reads
  take milliseconds and are never cached.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from ddrc_platform.core import catalog
from ddrc_platform.core.freshness import Freshness as Freshness  # the pages' badges
from ddrc_platform.core.freshness import freshness
from ddrc_platform.core.names import PACIFIC
from ddrc_platform.incidents import FailureKind, IncidentRow
from ddrc_platform.incidents.severity import public_view
from ddrc_platform.incidents.store import existing_incident_store
from ddrc_platform.publish.document import PublicationError, validate
from ddrc_platform.publish.public_values import MAX_CLOCK_SKEW
from ddrc_platform.resources import build_publisher, build_warehouse
from ddrc_platform.settings import Deployment, Settings, SettingsError, load_settings
from ddrc_platform.transform.assets import model_relation
from ddrc_platform.transform.manifests import DBT_PROJECT_DIR
from ddrc_platform.transform.project import dbt_project, prepare_manifest
from ddrc_platform.warehouse.base import NotBuiltError, Reader, UnavailableError, first_line, quote
from ddrc_platform.warehouse.base import WarehouseBusyError as WarehouseBusyError  # ui.read's

T = TypeVar("T")

REFRESH_SECONDS = 60
CHANGE_DAYS = (7, 30)
CATALOG_SEED = DBT_PROJECT_DIR / "seeds" / "metric_catalog.csv"
SUMMARY, HISTORY, FEEDBACK = "ddrc_metrics_summary", "metric_history", "page_feedback_weekly"
MARTS = (SUMMARY, HISTORY, FEEDBACK)
# dbt-duckdb puts the models in the file's own catalog under dbt_project.yml's schemas,
# unprefixed (macros/naming.sql)
LOCAL_MARTS = {model: f"marts.{quote(model)}" for model in MARTS}
AIRTABLE = catalog.AIRTABLE_METRICS


class Misconfigured(RuntimeError):
    """The deployment's settings are incomplete; the message names the variables."""


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


# -- the warehouse -----------------------------------------------------------------


@dataclass(frozen=True)
class _Session:
    """One read of the warehouse: its reader, where the marts are, and the key its answers
    are cached under (None: a local read, never cached)."""

    reader: Reader
    marts: Mapping[str, str]
    cache_key: str | None

    def frame(self, sql: str) -> pd.DataFrame:
        if self.cache_key is None:
            return self.reader.frame(sql)
        return _remote_frame(self.reader, self.cache_key, sql)

    def mart(self, model: str) -> pd.DataFrame:
        return self.frame(f"select * from {self.marts[model]}")


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def _remote_frame(_reader: Reader, key: str, sql: str) -> pd.DataFrame:
    return _reader.frame(sql)


@st.cache_resource(show_spinner=False)
def _remote_marts(key: str, _settings: Settings) -> dict[str, str]:
    """The marts as the publisher names the summary: from the target's dbt manifest."""
    try:
        target = dbt_project(_settings.deployment.value)
        manifest = json.loads(prepare_manifest(target).read_text())
    except Exception as failure:  # no manifest, and dbt cannot parse the project
        raise UnavailableError(f"Snowflake: {first_line(failure)}") from failure
    return {model: model_relation(manifest, model) for model in MARTS}


@contextmanager
def _session(settings: Settings) -> Iterator[_Session]:
    """The warehouse as this deployment's viewer may read it: the local DuckDB file, or
    Snowflake as the REPORTER role (terraform grants it ANALYTICS)."""
    if is_local(settings):
        marts, cache_key = LOCAL_MARTS, None
    else:
        cache_key = location(settings)
        marts = _remote_marts(cache_key, settings)
    with build_warehouse(settings, layer="reporter").read_only() as reader:
        yield _Session(reader, marts, cache_key)


def _optional(read: Callable[[], T]) -> T | None:
    """Data a page can do without: missing or unreadable is None; busy still raises."""
    try:
        return read()
    except (NotBuiltError, UnavailableError):
        return None


def _utc(values: Any) -> Any:
    """Warehouse timestamps are naive UTC; the published file's carry their offset."""
    return pd.to_datetime(values, utc=True, format="ISO8601")


# -- the published file ------------------------------------------------------------


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def _blob(key: str, _settings: Settings) -> tuple[bytes | None, list[str]]:
    publisher = build_publisher(_settings)  # dev/prd: loads the Azure SDK
    try:
        return publisher.current(), publisher.versions()
    except Exception as failure:  # BlobStorageError names the call and holds no secret
        raise UnavailableError(first_line(failure)) from failure


def _published_file(settings: Settings) -> tuple[bytes | None, list[str]]:
    """The live ddrc-metrics.json (None before the first publish) and its kept versions."""
    if is_local(settings):
        local = build_publisher(settings)  # a LocalPublisher: reads, creates nothing
        return local.current(), local.versions()
    return _blob(location(settings), settings)


def published(settings: Settings) -> pd.DataFrame:
    """The public numbers, exactly as the website reads them."""
    content, _ = _published_file(settings)
    if content is None:
        raise NotBuiltError("nothing published yet")
    try:
        document = validate(content)  # the website's contract: a broken file is news
    except PublicationError as broken:
        raise UnavailableError(str(broken)) from broken
    frame = pd.DataFrame(document).rename(columns=str.lower)
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


def label_from_name(name: str) -> str:
    """A metric's snake_case name as a sentence-case label, for a metric with no title."""
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


def _airtable_titles(session: _Session) -> pd.DataFrame:
    """Airtable's "Metric Title for Interface" of each manual metric, from its latest entry."""
    entries = session.frame(
        'select "METRIC_MACHINE_NAME_FROM_METRIC_DEFINITION_" as metric_name, '
        '"METRIC_TITLE_FOR_INTERFACE" as title, "DATE_CREATED" as date_created '
        f"from {session.reader.raw(AIRTABLE)}"
    )
    entries = entries.assign(
        metric_name=entries["metric_name"].map(first_value), title=entries["title"].map(first_value)
    ).dropna(subset=["metric_name", "title"])
    latest = entries.sort_values("date_created").drop_duplicates("metric_name", keep="last")
    return latest[["metric_name", "title"]]


# -- sources -----------------------------------------------------------------------


def _source_facts(session: _Session, table: catalog.RawTable) -> dict[str, Any]:
    """Last load, rows (and, for ArcGIS layers, last edit) of a raw table's latest data.

    Snapshot tables: the latest snapshot's `_LOADED_AT`, the loader's UTC clock (the loads
    log's `loaded_at` is DuckDB's `now()` in the machine's time zone). Fivetran-shaped
    tables: the newest `_FIVETRAN_SYNCED`, when a sync last changed a row, and the rows
    not deleted. Raises NotBuiltError when the table does not exist.
    """
    relation = session.reader.raw(table)
    signal = "".join(f', max("{column}") as "{name}"' for name, column in _signal_columns(table))
    if table.keeping is catalog.Keeping.SNAPSHOT:
        edit = (
            f', max("{catalog.LAST_EDIT_DATE}") as last_edit'
            if catalog.LAST_EDIT_DATE in table.system_columns
            else ""
        )
        day = f'"{catalog.LOAD_DATE}"'
        sql = (
            f"select max({day}) as load_date, count(*) as row_count, "
            f'max("{catalog.LOADED_AT}") as last_load{edit}{signal} from {relation} '
            f"where {day} = (select max({day}) from {relation})"
        )
    else:
        live = (
            f'where not coalesce("{catalog.FIVETRAN_DELETED}", false)'
            if catalog.FIVETRAN_DELETED in table.system_columns
            else ""
        )
        sql = (
            f'select count(*) as row_count, max("{catalog.FIVETRAN_SYNCED}") as last_load'
            f"{signal} from {relation} {live}"
        )
    return session.frame(sql).iloc[0].to_dict()


def source_row(table: catalog.RawTable, found: dict[str, Any], now: datetime) -> dict:
    """A raw table's declaration, its facts and where its last load stands: the one
    definition of freshness (core/freshness.py) the incidents and `./ddrc` ask too."""
    policy, last_load = table.freshness, _utc(found.get("last_load"))
    return {
        "name": table.name,
        "title": table.title,
        "table": table.path,
        "asset_key": table.asset_key.to_user_string(),
        "source_url": table.source_url,
        "keeping": table.keeping.value,
        "load_date": found.get("load_date"),
        "last_load": last_load,
        "last_edit": _utc(found.get("last_edit")),
        "change_signal": change_signal(table, found, now),
        "row_count": found.get("row_count") or None,
        "freshness": freshness(None if pd.isna(last_load) else last_load, policy, now).value,
        "late_after": policy.warn_window.to_timedelta() if policy.warn_window else None,
        "stale_after": policy.fail_window.to_timedelta(),
    }


# What each source's change sensor watches (ingest/signals.py), where the dashboard shows it:
# the newest value of an ArcGIS layer's edit field, Airtable's newest created and modified
# entries. (name in the facts, column of the raw table)
AIRTABLE_SIGNAL = (("newest_created", "DATE_CREATED"), ("newest_modified", "DATE_METRIC_MODIFIED"))


def _signal_columns(table: catalog.RawTable) -> tuple[tuple[str, str], ...]:
    if table.edit_field is not None:
        return (("newest_edit", table.edit_field),)
    return AIRTABLE_SIGNAL if table.family is catalog.Family.AIRTABLE else ()


def shown_time(moment: Any, now: datetime) -> str:
    """A time from a source, in Pacific time; one ahead of our clock (beyond a source's
    usual skew) cannot be true, and says so rather than pass for a normal time."""
    at = _utc(moment)
    if at is None or pd.isna(at):
        return "none"
    text = at.astimezone(PACIFIC).strftime("%b %-d %Y, %-I:%M %p PT")
    if at > now + MAX_CLOCK_SKEW:
        return f"⚠ {text}: in the future, impossible (the source's clock or data is wrong)"
    return text


def _epoch_or_time(value: Any) -> Any:
    """An edit field as a time: ArcGIS keeps epoch milliseconds (USACE's GDB_FROM_DATE)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and not pd.isna(value):
        return pd.Timestamp(int(value), unit="ms", tz=UTC)
    return value


def change_signal(table: catalog.RawTable, found: Mapping[str, Any], now: datetime) -> str:
    """What tells the change sensor this source changed, as its latest data shows it: the
    layer's last edit, else what the sensor watches instead (never a bare "None")."""
    if catalog.LAST_EDIT_DATE in table.system_columns and pd.notna(found.get("last_edit")):
        return f"last edit {shown_time(found['last_edit'], now)}"
    if table.edit_field is not None:
        newest = shown_time(_epoch_or_time(found.get("newest_edit")), now)
        rows = found.get("row_count")
        count = f" · {int(rows):,} features" if rows and pd.notna(rows) else ""
        return f"newest {table.edit_field} {newest}{count} (the layer reports no edit date)"
    if table.family is catalog.Family.AIRTABLE:
        created, modified = (shown_time(found.get(name), now) for name, _ in AIRTABLE_SIGNAL)
        return f"newest entry created {created}, modified {modified}"
    if table.family is catalog.Family.MALIBU:
        return "a hash of each delivery (the endpoint gives no edit date)"
    if table.family is catalog.Family.FEEDBACK:
        return "none: the daily reconcile loads it (Fivetran's sync in dev/prd)"
    return "none: the layer reported no edit date"


def _sources(session: _Session, now: datetime) -> pd.DataFrame:
    """Each raw table's facts and freshness; a table not there yet was never loaded.

    Snowflake says "does not exist or not authorized" alike: when no table at all can be
    read, that is the answer (a missing grant, or nothing loaded), not nine blank rows.
    """
    facts, unreadable = {}, []
    for table in catalog.RAW_TABLES:
        try:
            facts[table.name] = _source_facts(session, table)
        except NotBuiltError:
            facts[table.name] = {}
        except UnavailableError as failure:
            facts[table.name] = {}
            unreadable.append(failure)
    if len(unreadable) == len(catalog.RAW_TABLES):
        raise unreadable[0]
    rows = [source_row(table, facts[table.name], now) for table in catalog.RAW_TABLES]
    return pd.DataFrame(rows).astype({"row_count": "Int64"})


def sources(settings: Settings, now: datetime | None = None) -> pd.DataFrame:
    """Each raw table: last successful load, last edit at the source, rows, freshness."""
    with _session(settings) as session:
        found = _sources(session, now or datetime.now(UTC))
    return _stale_as_incidents_say(found, settings)


# the incidents the sensor opens when an asset is past its fail window (core/freshness.py)
STALE_KINDS = frozenset({FailureKind.SOURCE_STALE.label, FailureKind.PUBLISHED_FILE_STALE.label})


def stale_as_incidents_say(sources: pd.DataFrame, incidents: pd.DataFrame) -> pd.DataFrame:
    """ "Stale" exactly when an open incident says so.

    The incident sensor judges freshness (core/freshness.py) on each asset's last
    successful load, its materialization, which the warehouse does not keep: a reload of
    unchanged data keeps the snapshot's `_LOADED_AT`, and a Fivetran sync that changed no
    row moves no `_FIVETRAN_SYNCED`. Judged here on those older times, a source loaded
    this morning whose data last changed three days ago would read "stale" with no
    incident. So the sensor decides: stale where a stale incident is open (whatever the
    times here say), and otherwise at most late (past its warn window, as far as the
    warehouse's times show).
    """
    ongoing = incidents[incidents["open"].astype(bool) & incidents["kind"].isin(STALE_KINDS)]
    stale = {key for keys in ongoing["asset_keys"] for key in keys}
    judged = [
        Freshness.STALE.value
        if key in stale
        else (Freshness.LATE.value if state == Freshness.STALE.value else state)
        for key, state in zip(sources["asset_key"], sources["freshness"], strict=True)
    ]
    return sources.assign(freshness=judged)


def _stale_as_incidents_say(sources: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """As `stale_as_incidents_say`; unjudged (the times' own verdict) without the store."""
    try:
        return stale_as_incidents_say(sources, incidents(settings))
    except UnavailableError:
        return sources


# -- metrics -----------------------------------------------------------------------


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
    return names.map(lambda name: titles.get(name) or label_from_name(name))


def _with_source_state(frame: pd.DataFrame, sources: pd.DataFrame | None) -> pd.DataFrame:
    """Each metric with its source's title, freshness and last load (empty without them)."""
    state = pd.DataFrame(columns=["title", "freshness", "last_load", "stale_after"])
    if sources is not None:
        state = sources.set_index("name")
    for column in ("freshness", "last_load", "stale_after"):
        frame[column] = frame["source_table"].map(state[column])
    frame["source_title"] = frame["source_table"].map(state["title"])
    return frame


def _with_changes(frame: pd.DataFrame, history: pd.DataFrame | None, now: datetime) -> pd.DataFrame:
    """Each metric with its change over `CHANGE_DAYS` and its values for a trend line."""
    if history is None:
        return frame.assign(**{f"change_{d}d": math.nan for d in CHANGE_DAYS}, trend=None)
    frame = frame.join(metric_changes(history, now.astimezone(PACIFIC).date()), on="metric_name")
    frame["trend"] = frame["metric_name"].map(
        history.groupby("metric_name")["metric_value"].agg(list)
    )
    return frame


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
            summary = _optional(lambda: session.mart(SUMMARY))
            history = _optional(lambda: _history_frame(session.mart(HISTORY)))
            airtable = _optional(lambda: _airtable_titles(session))
            source_state = _optional(lambda: _sources(session, now))
    except NotBuiltError:  # a published file without a warehouse beside it
        summary = history = airtable = source_state = None
    if source_state is not None:
        source_state = _stale_as_incidents_say(source_state, settings)

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

    frame = _with_changes(_with_source_state(frame, source_state), history, now)
    return _in_catalog_order(frame, labels, "title")


def metric_history(settings: Settings) -> pd.DataFrame:
    """Every pipeline metric at every load date (mart metric_history), with its title."""
    with _session(settings) as session:
        history = _history_frame(session.mart(HISTORY))
    labels = metric_catalog()
    titled = history.merge(labels, on="metric_name", how="left").assign(
        title=lambda f: f["title"].fillna(f["metric_name"].map(label_from_name))
    )
    return _in_catalog_order(titled, labels, "load_date")


def page_feedback(settings: Settings) -> pd.DataFrame:
    """Answers to "Was this page helpful?" per site, page and week (page_feedback_weekly)."""
    with _session(settings) as session:
        weekly = session.mart(FEEDBACK)
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
    try:  # opening PostgreSQL connects: a server down fails here, not at the read
        store = existing_incident_store(settings.incident_store_location)
        if store is None:  # opening would create the file and its folder
            return pd.DataFrame(columns=list(INCIDENT_COLUMNS))
        rows = store.list_incidents()
    except Exception as failure:  # locked beyond its timeout, unreachable, unreadable
        raise UnavailableError(f"incident store: {first_line(failure)}") from failure
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
