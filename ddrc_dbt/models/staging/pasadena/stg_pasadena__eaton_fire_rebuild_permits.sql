with source as (

    select * from {{ source('pasadena', 'eaton_fire_rebuild_permits') }}

),

renamed as (

    select
        "ID" as feature_id,
        "PMPERMITID" as pm_permit_id,
        "PERMIT_NUMBER" as permit_number,
        "PARCEL_NUMBER" as parcel_number,
        "ADDRESS" as address,
        "CITY" as city,
        "STATE" as state,
        "ZIPCODE" as zipcode,
        "PERMIT_STATUS" as permit_status,
        "WORK_CLASS" as work_class,
        "PERMIT_TYPE" as permit_type,
        "DESCRIPTION" as description,
        "COUNCIL_DISTRICT" as council_district,
        "SHAPE__AREA" as shape_area,
        "SHAPE__LENGTH" as shape_length,
        "GEOMETRY" as geometry_geojson,
        {{ utc_timestamp('"_LAST_EDIT_DATE"') }} as layer_last_edited_at,
        "_LOAD_DATE" as load_date,
        {{ utc_timestamp('"_LOADED_AT"') }} as loaded_at
    from source

)

select * from renamed
