"""The raw tables as the loaders create them (column types included), for the dbt rule tests
on tiny rows; `test_catalog.py` checks their columns against the catalog."""

RAW_DDL = """
create schema EPA;
create table EPA.PUBLIC_STATUS_ASSESSMENT (
    OBJECTID bigint, APN varchar, ADDRESS varchar, ASSESSMENTDATE bigint, FIRENAME varchar,
    GLOBALID varchar, LANDUSE varchar, PUBLICSTATUS varchar, SHAPE__AREA double,
    SHAPE__LENGTH double, GEOMETRY varchar, _LAST_EDIT_DATE timestamp, _LOAD_DATE date,
    _LOADED_AT timestamp
);
create schema USACE;
create table USACE.PARCEL_DEBRIS_REMOVAL (
    OBJECTID bigint, MA varchar, APN varchar, APN_COINCIDENT_LIST varchar, ADDRESS varchar,
    EPA_STATUS varchar, ROE_STATUS varchar, ROE_RECEIVED bigint, ROE_APPROVED bigint,
    ROE_SUBMITTED bigint, ROE_WITHDRAWN bigint, ROE_DETAILS varchar, HSA_STATUS varchar,
    HSA_REPORT_RECEIVED bigint, HSA_REPORT_APPROVED bigint, PCR_STATUS varchar,
    PCR_RECEIVED bigint, PCR_APPROVED bigint, PCR_DELIVERY bigint, FSO_PKG_RETURNED bigint,
    FSO_PKG_RECEIVED bigint, FSO_PKG_APPROVED bigint, FSO_PKG_STATUS varchar,
    HHM_REMOVAL_STATUS varchar, EVENT_SUB_NAME varchar, ROE_RETURNED_COMPLETE bigint,
    ROE_RETURNED_INELIGIBLE bigint, ROE_RETURNED_WITHDRAWN bigint, GDB_FROM_DATE bigint,
    GDB_TO_DATE bigint, GEOMETRY varchar, _LAST_EDIT_DATE timestamp, _LOAD_DATE date,
    _LOADED_AT timestamp
);
create schema PASADENA;
create table PASADENA.EATON_FIRE_REBUILD_PERMITS (
    ID bigint, PMPERMITID varchar, PERMIT_NUMBER varchar, PARCEL_NUMBER varchar,
    ADDRESS varchar, CITY varchar, STATE varchar, ZIPCODE varchar, PERMIT_STATUS varchar,
    WORK_CLASS varchar, PERMIT_TYPE varchar, DESCRIPTION varchar, COUNCIL_DISTRICT varchar,
    SHAPE__AREA double, SHAPE__LENGTH double, GEOMETRY varchar, _LAST_EDIT_DATE timestamp,
    _LOAD_DATE date, _LOADED_AT timestamp
);
create schema MALIBU;
-- STRUCTURES and LAT arrive as text here: Malibu's types drift, staging casts defensively.
create table MALIBU.FIRE_REBUILD_POINTS (
    TYPE varchar, LAT varchar, LNG double, PROJECTNUMBER varchar, PLANNINGAPPROVED varchar,
    CASETYPE varchar, CASECATEGORY varchar, STRUCTURES varchar, DAYSTODECISION bigint,
    DAYSTOFIRSTRESPONSE bigint, COUNTFORDECISION bigint, COUNTFORFIRSTRESPONSE bigint,
    _LOAD_DATE date, _LOADED_AT timestamp
);
create table MALIBU.PALISADES_PERMITS_ISSUED (
    PERMITTYPE varchar, PALISADESPERMITS bigint, _LOAD_DATE date, _LOADED_AT timestamp
);
create table MALIBU.OVERALL_REBUILD_STATS (
    REBUILDGROUP varchar, REBUILDTYPECOUNT bigint, VALUECOLOR varchar, _LOAD_DATE date,
    _LOADED_AT timestamp
);
create table MALIBU.FIRE_REBUILD_VISIT_POINTS (
    INITIALVISITS bigint, FOLLOWUPVISITS bigint, LAT double, LNG double, _LOAD_DATE date,
    _LOADED_AT timestamp
);
create schema AIRTABLE;
create table AIRTABLE.METRICS (
    ID varchar, METRIC double, DATE_CREATED timestamp, DATE_METRIC_MODIFIED timestamp,
    METRIC_MODIFIED_BY varchar, AS_OF_LABEL varchar, AS_OF_DATE_AND_TIME timestamp,
    DATETIME_OFFSET_NUMBER double, DATETIME_OFFSET_VARIABLE varchar,
    METRIC_DEFINITION varchar, METRIC_TITLE_FOR_INTERFACE varchar,
    METRIC_MACHINE_NAME_FROM_METRIC_DEFINITION_ varchar,
    METRIC_NAME_FROM_METRIC_DEFINITION_ varchar, METRIC_TYPE_FROM_METRIC_DEFINITION_ varchar,
    METRIC_UNIT_LABEL_FROM_METRIC_DEFINITION_ varchar,
    UPDATE_FREQUENCY_FROM_METRIC_DEFINITION_ varchar, TOPIC_FROM_METRIC_DEFINITION_ varchar,
    AS_OF_TIME_FROM_METRIC_DEFINITION_ varchar, AS_OF_OFFSET_FROM_METRIC_DEFINITION_ varchar,
    METRIC_CONTACT_NAME_FROM_METRIC_DEFINITION_ varchar,
    METRIC_CONTACT_EMAIL_FROM_METRIC_DEFINITION_ varchar, _FIVETRAN_SYNCED timestamp
);
create schema FEEDBACK;
create table FEEDBACK.PAGE_FEEDBACK (
    FEEDBACK_KEY varchar, SITE_DOMAIN varchar, PAGE varchar, PAGE_SECTION varchar,
    URL varchar, TIME timestamp, IS_HELPFUL boolean, COMMENTS varchar,
    _FIVETRAN_SYNCED timestamp, _FIVETRAN_DELETED boolean
);
"""
