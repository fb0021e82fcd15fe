with source as (

    select * from {{ source('epa', 'public_status_assessment') }}

),

renamed as (

    select
        "OBJECTID" as objectid,
        "APN" as apn,
        "ADDRESS" as address,
        {{ epoch_ms_to_timestamp('"ASSESSMENTDATE"') }} as assessed_at,
        "FIRENAME" as fire_name,
        "GLOBALID" as global_id,
        "LANDUSE" as land_use,
        "PUBLICSTATUS" as public_status,
        "SHAPE__AREA" as shape_area,
        "SHAPE__LENGTH" as shape_length,
        "GEOMETRY" as geometry_geojson,
        {{ utc_timestamp('"_LAST_EDIT_DATE"') }} as layer_last_edited_at,
        "_LOAD_DATE" as load_date,
        {{ utc_timestamp('"_LOADED_AT"') }} as loaded_at
    from source

)

select * from renamed
