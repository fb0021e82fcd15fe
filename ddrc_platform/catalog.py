"""The raw tables of the platform: where each lives, what it documents, how it is kept.

Declared once here so the loaders, the schema contract checks, the warehouse and the
tests agree on names. Column names are stored upper case in every warehouse (that is
what Fivetran does and what unquoted identifiers resolve to in Snowflake), so a
source that changes the case of a field name between deliveries loads unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import dagster as dg


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
class RawTable:
    """One raw table: its asset key, its warehouse location and its documented columns."""

    name: str  # short name, e.g. "epa"
    asset_key: dg.AssetKey
    schema: str  # warehouse schema (Fivetran's destination schema in dev/prd)
    table: str
    columns: tuple[str, ...]  # documented source columns, upper case, as DOMAIN.md lists
    keeping: Keeping
    title: str
    source_url: str  # where the data comes from, for the UI and incidents
    system_columns: tuple[str, ...] = ()
    record_key: str | None = None  # CURRENT_STATE tables: the record id column

    @property
    def all_columns(self) -> tuple[str, ...]:
        return self.columns + self.system_columns

    @property
    def path(self) -> str:
        return f"{self.schema}.{self.table}"


_SNAPSHOT_COLS = (LOAD_DATE, LOADED_AT)
_ARCGIS_COLS = (GEOMETRY, LAST_EDIT_DATE, *_SNAPSHOT_COLS)

EPA_URL = (
    "https://services.arcgis.com/cJ9YHowT8TU7DUyn/ArcGIS/rest/services/"
    "SoCalFires2025_PublicStatusNightly/FeatureServer/0"
)
USACE_URL = (
    "https://jecop-public.usace.army.mil/arcgis/rest/services/"
    "USACE_Debris_Parcels_Southern_California_Public/MapServer/0"
)
PASADENA_URL = (
    "https://services2.arcgis.com/zNjnZafDYCAJAbN0/arcgis/rest/services/"
    "Eaton_Fire_Rebuild_Permits/FeatureServer/0"
)
MALIBU_BASE_URL = "https://mlb-pptsrv.ci.malibu.ca.us"
AIRTABLE_API_URL = "https://api.airtable.com"

EPA = RawTable(
    name="epa",
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
    system_columns=_ARCGIS_COLS,
    keeping=Keeping.SNAPSHOT,
    title="EPA hazardous-material (Phase 1) assessment",
    source_url=EPA_URL,
)

USACE = RawTable(
    name="usace",
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
    system_columns=_ARCGIS_COLS,
    keeping=Keeping.SNAPSHOT,
    title="USACE debris removal (Phase 2) parcels",
    source_url=USACE_URL,
)

PASADENA = RawTable(
    name="pasadena",
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
    system_columns=_ARCGIS_COLS,
    keeping=Keeping.SNAPSHOT,
    title="Pasadena Eaton-fire rebuild permits",
    source_url=PASADENA_URL,
)

MALIBU_FIRE_REBUILD_POINTS = RawTable(
    name="malibu_fire_rebuild_points",
    asset_key=dg.AssetKey(["raw", "malibu", "fire_rebuild_points"]),
    schema="MALIBU",
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
    system_columns=_SNAPSHOT_COLS,
    keeping=Keeping.SNAPSHOT,
    title="Malibu rebuild points",
    source_url=f"{MALIBU_BASE_URL}/Home/FireRebuildPoints/?sFireView=vPalisadesRebuildStatsDetailWithTimes",
)

MALIBU_PALISADES_PERMITS_ISSUED = RawTable(
    name="malibu_palisades_permits_issued",
    asset_key=dg.AssetKey(["raw", "malibu", "palisades_permits_issued"]),
    schema="MALIBU",
    table="PALISADES_PERMITS_ISSUED",
    columns=("PERMITTYPE", "PALISADESPERMITS"),
    system_columns=_SNAPSHOT_COLS,
    keeping=Keeping.SNAPSHOT,
    title="Malibu Palisades permits issued, by type",
    source_url=f"{MALIBU_BASE_URL}/Home/PalisadesPermitsIssued_Read",
)

MALIBU_OVERALL_REBUILD_STATS = RawTable(
    name="malibu_overall_rebuild_stats",
    asset_key=dg.AssetKey(["raw", "malibu", "overall_rebuild_stats"]),
    schema="MALIBU",
    table="OVERALL_REBUILD_STATS",
    columns=("REBUILDGROUP", "REBUILDTYPECOUNT", "VALUECOLOR"),
    system_columns=_SNAPSHOT_COLS,
    keeping=Keeping.SNAPSHOT,
    title="Malibu overall rebuild statistics",
    source_url=(
        f"{MALIBU_BASE_URL}/Home/OverallRebuildStatsPie_Read"
        "?sFireView=PalisadesRebuildStatsDetailWithBPComplete"
    ),
)

MALIBU_FIRE_REBUILD_VISIT_POINTS = RawTable(
    name="malibu_fire_rebuild_visit_points",
    asset_key=dg.AssetKey(["raw", "malibu", "fire_rebuild_visit_points"]),
    schema="MALIBU",
    table="FIRE_REBUILD_VISIT_POINTS",
    columns=("INITIALVISITS", "FOLLOWUPVISITS", "LAT", "LNG"),  # + location, as delivered
    system_columns=_SNAPSHOT_COLS,
    keeping=Keeping.SNAPSHOT,
    title="Malibu rebuild site visits",
    source_url=f"{MALIBU_BASE_URL}/Home/FireRebuildVisitPoints",
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
    source_url="https://airtable.com",
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
    source_url="https://fivetran.com/docs/connectors/databases/dynamodb",
)

ARCGIS_TABLES = (EPA, USACE, PASADENA)
MALIBU_TABLES = (
    MALIBU_FIRE_REBUILD_POINTS,
    MALIBU_PALISADES_PERMITS_ISSUED,
    MALIBU_OVERALL_REBUILD_STATS,
    MALIBU_FIRE_REBUILD_VISIT_POINTS,
)
FIVETRAN_TABLES = (AIRTABLE_METRICS, PAGE_FEEDBACK)
RAW_TABLES = ARCGIS_TABLES + MALIBU_TABLES + FIVETRAN_TABLES
