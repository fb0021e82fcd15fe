with source as (

    select * from {{ source('malibu', 'fire_rebuild_visit_points') }}

),

renamed as (

    select
        {{ try_cast_any('"INITIALVISITS"', dbt.type_bigint()) }} as initial_visits,
        {{ try_cast_any('"FOLLOWUPVISITS"', dbt.type_bigint()) }} as followup_visits,
        {{ try_cast_any('"LAT"', dbt.type_float()) }} as latitude,
        {{ try_cast_any('"LNG"', dbt.type_float()) }} as longitude,
        cast("_LOAD_DATE" as date) as load_date,
        {{ utc_timestamp('"_LOADED_AT"') }} as loaded_at
    from source

)

select * from renamed
