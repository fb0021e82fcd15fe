{#- Malibu's JSON fields change type between deliveries: every column is cast defensively. -#}
with source as (

    select * from {{ source('malibu', 'fire_rebuild_points') }}

),

renamed as (

    select
        cast("TYPE" as {{ dbt.type_string() }}) as application_stage,
        {{ try_cast_any('"LAT"', dbt.type_float()) }} as latitude,
        {{ try_cast_any('"LNG"', dbt.type_float()) }} as longitude,
        cast("PROJECTNUMBER" as {{ dbt.type_string() }}) as project_number,
        cast("PLANNINGAPPROVED" as {{ dbt.type_string() }}) as planning_approved,
        cast("CASETYPE" as {{ dbt.type_string() }}) as case_type,
        cast("CASECATEGORY" as {{ dbt.type_string() }}) as case_category,
        {{ try_cast_any('"STRUCTURES"', dbt.type_bigint()) }} as structures,
        {{ try_cast_any('"DAYSTODECISION"', dbt.type_bigint()) }} as days_to_decision,
        {{ try_cast_any('"DAYSTOFIRSTRESPONSE"', dbt.type_bigint()) }} as days_to_first_response,
        {{ try_cast_any('"COUNTFORDECISION"', dbt.type_bigint()) }} as count_for_decision,
        {{ try_cast_any('"COUNTFORFIRSTRESPONSE"', dbt.type_bigint()) }} as count_for_first_response,
        cast("_LOAD_DATE" as date) as load_date,
        {{ utc_timestamp('"_LOADED_AT"') }} as loaded_at
    from source

)

select * from renamed
