with source as (

    select * from {{ source('usace', 'parcel_debris_removal') }}

),

renamed as (

    select
        "OBJECTID" as objectid,
        "MA" as mission_assignment,
        "APN" as apn,
        "APN_COINCIDENT_LIST" as apn_coincident_list,
        "ADDRESS" as address,
        "EPA_STATUS" as epa_status,
        "ROE_STATUS" as roe_status,
        "ROE_DETAILS" as roe_details,
        "HSA_STATUS" as hsa_status,
        "PCR_STATUS" as pcr_status,
        "FSO_PKG_STATUS" as fso_pkg_status,
        "HHM_REMOVAL_STATUS" as hhm_removal_status,
        "EVENT_SUB_NAME" as event_sub_name,
        {{ epoch_ms_to_timestamp('"ROE_RECEIVED"') }} as roe_received_at,
        {{ epoch_ms_to_timestamp('"ROE_APPROVED"') }} as roe_approved_at,
        {{ epoch_ms_to_timestamp('"ROE_SUBMITTED"') }} as roe_submitted_at,
        {{ epoch_ms_to_timestamp('"ROE_WITHDRAWN"') }} as roe_withdrawn_at,
        {{ epoch_ms_to_timestamp('"HSA_REPORT_RECEIVED"') }} as hsa_report_received_at,
        {{ epoch_ms_to_timestamp('"HSA_REPORT_APPROVED"') }} as hsa_report_approved_at,
        {{ epoch_ms_to_timestamp('"PCR_RECEIVED"') }} as pcr_received_at,
        {{ epoch_ms_to_timestamp('"PCR_APPROVED"') }} as pcr_approved_at,
        {{ epoch_ms_to_timestamp('"PCR_DELIVERY"') }} as pcr_delivered_at,
        {{ epoch_ms_to_timestamp('"FSO_PKG_RETURNED"') }} as fso_pkg_returned_at,
        {{ epoch_ms_to_timestamp('"FSO_PKG_RECEIVED"') }} as fso_pkg_received_at,
        {{ epoch_ms_to_timestamp('"FSO_PKG_APPROVED"') }} as fso_pkg_approved_at,
        {{ epoch_ms_to_timestamp('"ROE_RETURNED_COMPLETE"') }} as roe_returned_complete_at,
        {{ epoch_ms_to_timestamp('"ROE_RETURNED_INELIGIBLE"') }} as roe_returned_ineligible_at,
        {{ epoch_ms_to_timestamp('"ROE_RETURNED_WITHDRAWN"') }} as roe_returned_withdrawn_at,
        {{ epoch_ms_to_timestamp('"GDB_FROM_DATE"') }} as gdb_valid_from,
        {{ epoch_ms_to_timestamp('"GDB_TO_DATE"') }} as gdb_valid_to,
        "GEOMETRY" as geometry_geojson,
        {{ utc_timestamp('"_LAST_EDIT_DATE"') }} as layer_last_edited_at,
        "_LOAD_DATE" as load_date,
        {{ utc_timestamp('"_LOADED_AT"') }} as loaded_at
    from source

)

select * from renamed
