with source as (

    select * from {{ source('malibu', 'overall_rebuild_stats') }}

),

renamed as (

    select
        cast("REBUILDGROUP" as {{ dbt.type_string() }}) as rebuild_group,
        {{ try_cast_any('"REBUILDTYPECOUNT"', dbt.type_bigint()) }} as project_count,
        cast("VALUECOLOR" as {{ dbt.type_string() }}) as display_color,
        cast("_LOAD_DATE" as date) as load_date,
        {{ utc_timestamp('"_LOADED_AT"') }} as loaded_at
    from source

)

select * from renamed
