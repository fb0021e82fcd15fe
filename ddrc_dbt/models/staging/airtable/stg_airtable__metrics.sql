{#-
  Lookup fields arrive as arrays of one value (JSON text locally, VARIANT in Snowflake);
  first_array_element reads either.
-#}
with source as (

    select * from {{ source('airtable', 'metrics') }}

),

renamed as (

    select
        "ID" as airtable_record_id,
        {{ first_array_element('"METRIC_MACHINE_NAME_FROM_METRIC_DEFINITION_"') }} as metric_name,
        cast("METRIC" as {{ dbt.type_float() }}) as metric_value,
        {{ utc_timestamp('"DATE_CREATED"') }} as created_at,
        {{ utc_timestamp('"DATE_METRIC_MODIFIED"') }} as metric_modified_at,
        cast("METRIC_MODIFIED_BY" as {{ dbt.type_string() }}) as metric_modified_by,
        "AS_OF_LABEL" as as_of_label,
        {{ utc_timestamp('"AS_OF_DATE_AND_TIME"') }} as as_of_at,
        "DATETIME_OFFSET_NUMBER" as datetime_offset_number,
        "DATETIME_OFFSET_VARIABLE" as datetime_offset_unit,
        {{ first_array_element('"METRIC_DEFINITION"') }} as metric_definition_id,
        {{ first_array_element('"METRIC_TITLE_FOR_INTERFACE"') }} as metric_title,
        {{ first_array_element('"METRIC_NAME_FROM_METRIC_DEFINITION_"') }} as metric_display_name,
        {{ first_array_element('"METRIC_TYPE_FROM_METRIC_DEFINITION_"') }} as metric_type,
        {{ first_array_element('"METRIC_UNIT_LABEL_FROM_METRIC_DEFINITION_"') }} as metric_unit_label,
        {{ first_array_element('"UPDATE_FREQUENCY_FROM_METRIC_DEFINITION_"') }} as update_frequency,
        {{ first_array_element('"TOPIC_FROM_METRIC_DEFINITION_"') }} as topic,
        {{ first_array_element('"AS_OF_TIME_FROM_METRIC_DEFINITION_"') }} as as_of_time,
        {{ first_array_element('"AS_OF_OFFSET_FROM_METRIC_DEFINITION_"') }} as as_of_offset,
        {{ first_array_element('"METRIC_CONTACT_NAME_FROM_METRIC_DEFINITION_"') }} as metric_contact_name,
        {{ first_array_element('"METRIC_CONTACT_EMAIL_FROM_METRIC_DEFINITION_"') }} as metric_contact_email,
        {{ utc_timestamp('"_FIVETRAN_SYNCED"') }} as fivetran_synced_at
    from source

)

select * from renamed
