"""The sources of the platform: one declaration per raw table, every fact about it here.

Everything per source (where it lives, its documented columns, how it is kept, how fresh
it must be, its UI kind, where its endpoint comes from, the metric family it feeds, a
runbook hint) is a field of its `RawTable`, so the loaders, the settings, the stand-ins,
the sensors and the runbooks read the same fact and a new source is one declaration here
plus its sample generator (`ingest/sample/`). A test fails when a declaration lacks a fact
or a sample (`tests/test_catalog.py`).

The sample generators register themselves here (`register_sample`) rather than being
named by the declarations: the catalog is read by every part of the platform, and none of
them should pull in the code that fabricates data to learn where a source lives.

Column names are stored upper case in every warehouse (that is what Fivetran does and what
unquoted identifiers resolve to in Snowflake), so a source that changes the case of a
field name between deliveries loads unchanged. The documented columns are the ones
`docs/sources.md` lists.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

import dagster as dg


class Family(StrEnum):
    """How a source is read: one reader per family (`ingest/fetch.py`)."""

    ARCGIS = "arcgis"  # an ArcGIS REST layer, paged
    MALIBU = "malibu"  # one JSON list endpoint of the city's permit server
    AIRTABLE = "airtable"  # the Airtable REST API (Fivetran in dev/prd)
    FEEDBACK = "feedback"  # no public endpoint: Fivetran in dev/prd, sample data locally


class Kind(StrEnum):
    """What a column holds, as coarsely as the sources and both warehouses agree on it:
    a change of kind (text served as numbers, numbers as text) changes what the metrics
    mean, so the schema contract refuses it (`ingest/contract.py`)."""

    TEXT = "text"
    NUMBER = "number"  # ArcGIS dates too: epoch milliseconds
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"


class Keeping(StrEnum):
    """How a raw table keeps history."""

    SNAPSHOT = "snapshot"  # one dated snapshot per Pacific day, earlier days kept
    CURRENT_STATE = "current_state"  # upserted by record id, as Fivetran keeps a table


LOAD_DATE = "_LOAD_DATE"
LOADED_AT = "_LOADED_AT"
LAST_EDIT_DATE = "_LAST_EDIT_DATE"
GEOMETRY = "GEOMETRY"
FIVETRAN_SYNCED = "_FIVETRAN_SYNCED"
FIVETRAN_DELETED = "_FIVETRAN_DELETED"


@dataclass(frozen=True)
class Endpoint:
    """Where a live source is read: a settings variable, its public default, a path below."""

    setting: str  # key in `Settings.endpoints`, shared by the tables of one server
    variable: str  # the environment variable that points it elsewhere (a stand-in, a mirror)
    default: str  # the public URL
    path: str = ""  # below the URL: Malibu's endpoints share one base

    @property
    def public_url(self) -> str:
        return self.default + self.path

    @property
    def stand_in_path(self) -> str:
        """The route a local stand-in serves this source under: the public URL's path."""
        return urlsplit(self.public_url)._replace(scheme="", netloc="").geturl()


def _kinds(kind: Kind, *columns: str) -> tuple[tuple[str, Kind], ...]:
    return tuple((column, kind) for column in columns)


def _window(warn_hours: float, fail_hours: float) -> dg.FreshnessPolicy:
    return dg.FreshnessPolicy.time_window(
        warn_window=timedelta(hours=warn_hours), fail_window=timedelta(hours=fail_hours)
    )


# Each source's own cadence, with slack for a missed night: a daily layer that has not
# loaded for a day warns, for two days fails. Airtable changes "as needed" (by hand).
DAILY = _window(26, 50)
AS_NEEDED = _window(24 * 3, 24 * 7)


@dataclass(frozen=True)
class RawTable:
    """One raw table and every fact the platform keeps about its source."""

    name: str  # short name, e.g. "epa"
    asset_key: dg.AssetKey
    schema: str  # warehouse schema (Fivetran's destination schema in dev/prd)
    table: str
    columns: tuple[str, ...]  # documented source columns, upper case (docs/sources.md)
    keeping: Keeping
    title: str
    family: Family
    kind: str  # what the UI shows as the source's kind
    freshness: dg.FreshnessPolicy
    endpoint: Endpoint | None = None  # None: no public endpoint (page feedback)
    docs_url: str | None = None  # where to read about a source without an endpoint
    system_columns: tuple[str, ...] = ()
    record_key: str | None = None  # CURRENT_STATE tables: the record id column
    metric_family: str | None = None  # the `source` of its metrics in metric_catalog.csv
    runbook_note: str | None = None  # what a responder should know of this source
    synced_by_fivetran: bool = False  # dev/prd: Fivetran lands it, not our loader
    # a delivery that lost more than this fraction of the last kept rows is refused
    # (ingest/delivery.py); an empty one always is, unless acknowledged
    max_shrink: float = 0.5
    # the documented columns that are not text, with their kind (`Kind`); the others are
    # text. The one declaration of column types: the contract compares deliveries with it.
    kinds: tuple[tuple[str, Kind], ...] = ()
    # ArcGIS layers that report no `editingInfo`: the field whose newest value moves with
    # every edit, read with the feature count as the layer's change signal (ingest/signals.py)
    edit_field: str | None = None

    def column_kind(self, column: str) -> Kind:
        """The declared kind of a documented column (upper case)."""
        return dict(self.kinds).get(column, Kind.TEXT)

    @property
    def all_columns(self) -> tuple[str, ...]:
        return self.columns + self.system_columns

    @property
    def path(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def source_url(self) -> str:
        """Where the data comes from, for the UI and incidents."""
        if self.docs_url is not None:
            return self.docs_url
        assert self.endpoint is not None  # every declaration has one or the other
        return self.endpoint.public_url


_SNAPSHOT_COLS = (LOAD_DATE, LOADED_AT)
_ARCGIS_COLS = (GEOMETRY, LAST_EDIT_DATE, *_SNAPSHOT_COLS)

MALIBU_BASE_URL = "https://mlb-pptsrv.ci.malibu.ca.us"
MALIBU_FLAKY = "The city's permit server is flaky: a rerun usually succeeds."


def _malibu(path: str) -> dict:
    """The facts the four Malibu endpoints share; they differ in path and columns."""
    return {
        "schema": "MALIBU",
        "keeping": Keeping.SNAPSHOT,
        "system_columns": _SNAPSHOT_COLS,
        "family": Family.MALIBU,
        "kind": "api",
        "freshness": DAILY,
        "endpoint": Endpoint("malibu", "DDRC_MALIBU_BASE_URL", MALIBU_BASE_URL, path),
        "runbook_note": MALIBU_FLAKY,
    }


def _arcgis(name: str, url: str) -> dict:
    """The facts every ArcGIS layer shares."""
    return {
        "keeping": Keeping.SNAPSHOT,
        "system_columns": _ARCGIS_COLS,
        "family": Family.ARCGIS,
        "kind": "arcgis",
        "freshness": DAILY,
        "endpoint": Endpoint(name, f"DDRC_{name.upper()}_URL", url),
        "metric_family": name,
        # parcels and permits are only ever added: a fifth gone is a broken rebuild
        "max_shrink": 0.2,
    }


EPA = RawTable(
    name="epa",
    **_arcgis(
        "epa",
        "https://services.arcgis.com/cJ9YHowT8TU7DUyn/ArcGIS/rest/services/"
        "SoCalFires2025_PublicStatusNightly/FeatureServer/0",
    ),
    asset_key=dg.AssetKey(["raw", "epa", "public_status_assessment"]),
    schema="EPA",
    table="PUBLIC_STATUS_ASSESSMENT",
    columns=(
        "OBJECTID",
        "APN",
        "ADDRESS",
        "ASSESSMENTDATE",
        "FIRENAME",
        "GLOBALID",
        "LANDUSE",
        "PUBLICSTATUS",
        "SHAPE__AREA",
        "SHAPE__LENGTH",
    ),
    title="EPA hazardous-material (Phase 1) assessment",
    kinds=_kinds(Kind.NUMBER, "OBJECTID", "ASSESSMENTDATE", "SHAPE__AREA", "SHAPE__LENGTH"),
)

USACE = RawTable(
    name="usace",
    **_arcgis(
        "usace",
        "https://jecop-public.usace.army.mil/arcgis/rest/services/"
        "USACE_Debris_Parcels_Southern_California_Public/MapServer/0",
    ),
    runbook_note="Its TLS chain has been broken before: check its CA bundle "
    "(`DDRC_USACE_CA_BUNDLE`) before suspecting the data.",
    # an archived geodatabase: a row version's creation time, so an edit moves its maximum
    edit_field="GDB_FROM_DATE",
    asset_key=dg.AssetKey(["raw", "usace", "parcel_debris_removal"]),
    schema="USACE",
    table="PARCEL_DEBRIS_REMOVAL",
    columns=(
        "OBJECTID",
        "MA",
        "APN",
        "APN_COINCIDENT_LIST",
        "ADDRESS",
        "EPA_STATUS",
        "ROE_STATUS",
        "ROE_RECEIVED",
        "ROE_APPROVED",
        "ROE_SUBMITTED",
        "ROE_WITHDRAWN",
        "ROE_DETAILS",
        "HSA_STATUS",
        "HSA_REPORT_RECEIVED",
        "HSA_REPORT_APPROVED",
        "PCR_STATUS",
        "PCR_RECEIVED",
        "PCR_APPROVED",
        "PCR_DELIVERY",
        "FSO_PKG_RETURNED",
        "FSO_PKG_RECEIVED",
        "FSO_PKG_APPROVED",
        "FSO_PKG_STATUS",
        "HHM_REMOVAL_STATUS",
        "EVENT_SUB_NAME",
        "ROE_RETURNED_COMPLETE",
        "ROE_RETURNED_INELIGIBLE",
        "ROE_RETURNED_WITHDRAWN",
        "GDB_FROM_DATE",
        "GDB_TO_DATE",
    ),
    title="USACE debris removal (Phase 2) parcels",
    kinds=_kinds(
        Kind.NUMBER,
        "OBJECTID",
        "ROE_RECEIVED",
        "ROE_APPROVED",
        "ROE_SUBMITTED",
        "ROE_WITHDRAWN",
        "HSA_REPORT_RECEIVED",
        "HSA_REPORT_APPROVED",
        "PCR_RECEIVED",
        "PCR_APPROVED",
        "PCR_DELIVERY",
        "FSO_PKG_RETURNED",
        "FSO_PKG_RECEIVED",
        "FSO_PKG_APPROVED",
        "ROE_RETURNED_COMPLETE",
        "ROE_RETURNED_INELIGIBLE",
        "ROE_RETURNED_WITHDRAWN",
        "GDB_FROM_DATE",
        "GDB_TO_DATE",
    ),  # dates: epoch ms
)

PASADENA = RawTable(
    name="pasadena",
    **_arcgis(
        "pasadena",
        "https://services2.arcgis.com/zNjnZafDYCAJAbN0/arcgis/rest/services/"
        "Eaton_Fire_Rebuild_Permits/FeatureServer/0",
    ),
    asset_key=dg.AssetKey(["raw", "pasadena", "eaton_fire_rebuild_permits"]),
    schema="PASADENA",
    table="EATON_FIRE_REBUILD_PERMITS",
    columns=(
        "ID",
        "PMPERMITID",
        "PERMIT_NUMBER",
        "PARCEL_NUMBER",
        "ADDRESS",
        "CITY",
        "STATE",
        "ZIPCODE",
        "PERMIT_STATUS",
        "WORK_CLASS",
        "PERMIT_TYPE",
        "DESCRIPTION",
        "COUNCIL_DISTRICT",
        "SHAPE__AREA",
        "SHAPE__LENGTH",
    ),
    title="Pasadena Eaton-fire rebuild permits",
    kinds=_kinds(Kind.NUMBER, "ID", "SHAPE__AREA", "SHAPE__LENGTH"),
)

MALIBU_FIRE_REBUILD_POINTS = RawTable(
    **_malibu("/Home/FireRebuildPoints/?sFireView=vPalisadesRebuildStatsDetailWithTimes"),
    name="malibu_fire_rebuild_points",
    asset_key=dg.AssetKey(["raw", "malibu", "fire_rebuild_points"]),
    table="FIRE_REBUILD_POINTS",
    columns=(
        "TYPE",
        "LAT",
        "LNG",
        "PROJECTNUMBER",
        "PLANNINGAPPROVED",
        "CASETYPE",
        "CASECATEGORY",
        "STRUCTURES",
        "DAYSTODECISION",
        "DAYSTOFIRSTRESPONSE",
        "COUNTFORDECISION",
        "COUNTFORFIRSTRESPONSE",
    ),
    title="Malibu rebuild points",
    kinds=(
        *_kinds(Kind.NUMBER, "LAT", "LNG", "STRUCTURES", "DAYSTODECISION", "DAYSTOFIRSTRESPONSE"),
        *_kinds(Kind.NUMBER, "COUNTFORDECISION", "COUNTFORFIRSTRESPONSE"),
        ("PLANNINGAPPROVED", Kind.BOOLEAN),
    ),
    metric_family="malibu",
)

MALIBU_PALISADES_PERMITS_ISSUED = RawTable(
    **_malibu("/Home/PalisadesPermitsIssued_Read"),
    name="malibu_palisades_permits_issued",
    asset_key=dg.AssetKey(["raw", "malibu", "palisades_permits_issued"]),
    table="PALISADES_PERMITS_ISSUED",
    columns=("PERMITTYPE", "PALISADESPERMITS"),
    title="Malibu Palisades permits issued, by type",
    kinds=_kinds(Kind.NUMBER, "PALISADESPERMITS"),
)

MALIBU_OVERALL_REBUILD_STATS = RawTable(
    **_malibu(
        "/Home/OverallRebuildStatsPie_Read?sFireView=PalisadesRebuildStatsDetailWithBPComplete"
    ),
    name="malibu_overall_rebuild_stats",
    asset_key=dg.AssetKey(["raw", "malibu", "overall_rebuild_stats"]),
    table="OVERALL_REBUILD_STATS",
    columns=("REBUILDGROUP", "REBUILDTYPECOUNT", "VALUECOLOR"),
    title="Malibu overall rebuild statistics",
    kinds=_kinds(Kind.NUMBER, "REBUILDTYPECOUNT"),
)

MALIBU_FIRE_REBUILD_VISIT_POINTS = RawTable(
    **_malibu("/Home/FireRebuildVisitPoints"),
    name="malibu_fire_rebuild_visit_points",
    asset_key=dg.AssetKey(["raw", "malibu", "fire_rebuild_visit_points"]),
    table="FIRE_REBUILD_VISIT_POINTS",
    columns=("INITIALVISITS", "FOLLOWUPVISITS", "LAT", "LNG"),  # + location, as delivered
    title="Malibu rebuild site visits",
    kinds=_kinds(Kind.NUMBER, "INITIALVISITS", "FOLLOWUPVISITS", "LAT", "LNG"),
)

AIRTABLE_METRICS = RawTable(
    name="airtable_metrics",
    asset_key=dg.AssetKey(["raw", "airtable", "metrics"]),
    schema="AIRTABLE",
    table="METRICS",
    columns=(
        "ID",
        "METRIC",
        "DATE_CREATED",
        "DATE_METRIC_MODIFIED",
        "METRIC_MODIFIED_BY",
        "AS_OF_LABEL",
        "AS_OF_DATE_AND_TIME",
        "DATETIME_OFFSET_NUMBER",
        "DATETIME_OFFSET_VARIABLE",
        "METRIC_DEFINITION",
        "METRIC_TITLE_FOR_INTERFACE",
        "METRIC_MACHINE_NAME_FROM_METRIC_DEFINITION_",
        "METRIC_NAME_FROM_METRIC_DEFINITION_",
        "METRIC_TYPE_FROM_METRIC_DEFINITION_",
        "METRIC_UNIT_LABEL_FROM_METRIC_DEFINITION_",
        "UPDATE_FREQUENCY_FROM_METRIC_DEFINITION_",
        "TOPIC_FROM_METRIC_DEFINITION_",
        "AS_OF_TIME_FROM_METRIC_DEFINITION_",
        "AS_OF_OFFSET_FROM_METRIC_DEFINITION_",
        "METRIC_CONTACT_NAME_FROM_METRIC_DEFINITION_",
        "METRIC_CONTACT_EMAIL_FROM_METRIC_DEFINITION_",
    ),
    system_columns=(FIVETRAN_SYNCED,),
    keeping=Keeping.CURRENT_STATE,
    record_key="ID",
    title="Manual metrics (Airtable)",
    kinds=(
        # kinds of the values Airtable sends: a lookup's one-item list (kept as JSON text)
        # has its item's kind
        *_kinds(Kind.NUMBER, "METRIC", "DATETIME_OFFSET_NUMBER"),
        ("AS_OF_OFFSET_FROM_METRIC_DEFINITION_", Kind.NUMBER),
        *_kinds(Kind.TIMESTAMP, "DATE_CREATED", "DATE_METRIC_MODIFIED", "AS_OF_DATE_AND_TIME"),
    ),
    family=Family.AIRTABLE,
    kind="airtable",
    freshness=AS_NEEDED,
    endpoint=Endpoint("airtable", "DDRC_AIRTABLE_ENDPOINT", "https://api.airtable.com"),
    docs_url="https://airtable.com",
    metric_family="airtable",
    synced_by_fivetran=True,
)

PAGE_FEEDBACK = RawTable(
    name="page_feedback",
    asset_key=dg.AssetKey(["raw", "feedback", "page_feedback"]),
    schema="FEEDBACK",
    table="PAGE_FEEDBACK",
    columns=(
        "FEEDBACK_KEY",
        "SITE_DOMAIN",
        "PAGE",
        "PAGE_SECTION",
        "URL",
        "TIME",
        "IS_HELPFUL",
        "COMMENTS",
    ),
    system_columns=(FIVETRAN_SYNCED, FIVETRAN_DELETED),
    keeping=Keeping.CURRENT_STATE,
    record_key="FEEDBACK_KEY",
    title="Website page feedback (DynamoDB)",
    kinds=(("TIME", Kind.TIMESTAMP), ("IS_HELPFUL", Kind.BOOLEAN)),
    family=Family.FEEDBACK,
    kind="dynamodb",
    freshness=DAILY,
    docs_url="https://fivetran.com/docs/connectors/databases/dynamodb",
    synced_by_fivetran=True,
)

RAW_TABLES = (
    EPA,
    USACE,
    PASADENA,
    MALIBU_FIRE_REBUILD_POINTS,
    MALIBU_PALISADES_PERMITS_ISSUED,
    MALIBU_OVERALL_REBUILD_STATS,
    MALIBU_FIRE_REBUILD_VISIT_POINTS,
    AIRTABLE_METRICS,
    PAGE_FEEDBACK,
)
ARCGIS_TABLES = tuple(t for t in RAW_TABLES if t.family is Family.ARCGIS)
MALIBU_TABLES = tuple(t for t in RAW_TABLES if t.family is Family.MALIBU)
FIVETRAN_TABLES = tuple(t for t in RAW_TABLES if t.synced_by_fivetran)
BY_KEY = {t.asset_key: t for t in RAW_TABLES}


def by_metric_family() -> dict[str, RawTable]:
    """metric_catalog.csv's `source` -> the raw table its metrics are computed from."""
    return {t.metric_family: t for t in RAW_TABLES if t.metric_family}


def strictest_freshness(tables: Iterable[RawTable]) -> dg.FreshnessPolicy | None:
    """What is built from these tables must be as fresh as the most demanding of them."""
    policies = [t.freshness for t in tables]
    return min(policies, key=lambda p: p.fail_window.to_timedelta(), default=None)


def endpoint_variables() -> dict[str, tuple[str, str]]:
    """Settings endpoint -> (its variable, its public default), one per server."""
    return {
        t.endpoint.setting: (t.endpoint.variable, t.endpoint.default)
        for t in RAW_TABLES
        if t.endpoint is not None
    }


SampleGenerator = Callable[..., object]  # (scale=, day=) -> the source's wire shape
_SAMPLES: dict[str, SampleGenerator] = {}
_SAMPLE_MODULES: list[str] = []


def register_sample(table: RawTable, generator: SampleGenerator) -> None:
    """Called by `ingest/sample/` for each table it generates, as it is imported."""
    _SAMPLES[table.name] = generator


def provide_samples(module: str) -> None:
    """A module whose import registers sample generators, imported at the first lookup.

    Not at load: the generators pull in numpy and pyarrow.compute (0.8 s of every process
    that loads the definitions, live deployments included), and most processes never read
    a sample. Importing `ddrc_platform.ingest` names `ddrc_platform.ingest.sample` here.
    """
    _SAMPLE_MODULES.append(module)


def sample_data(table: RawTable, *, scale: float, day: date) -> object:
    """The table's sample delivery on `day`, in its source's wire shape."""
    while table.name not in _SAMPLES and _SAMPLE_MODULES:
        importlib.import_module(_SAMPLE_MODULES.pop())
    generator = _SAMPLES.get(table.name)
    if generator is None:
        raise LookupError(
            f"no sample generator is registered for {table.name}: its module in "
            "ddrc_platform/ingest/sample/ registers it when `ddrc_platform.ingest` is imported"
        )
    return generator(scale=scale, day=day)
