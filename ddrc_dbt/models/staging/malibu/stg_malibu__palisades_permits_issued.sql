with source as (

    select * from {{ source('malibu', 'palisades_permits_issued') }}

),

renamed as (

    select
        cast("PERMITTYPE" as {{ dbt.type_string() }}) as permit_type,
        {{ try_cast_any('"PALISADESPERMITS"', dbt.type_bigint()) }} as permits_issued,
        cast("_LOAD_DATE" as date) as load_date,
        {{ utc_timestamp('"_LOADED_AT"') }} as loaded_at
    from source

)

select * from renamed
