{#- COMMENTS is free text from the public that may hold personal data: it stops here. -#}
with source as (

    select * from {{ source('feedback', 'page_feedback') }}

),

renamed as (

    select
        "FEEDBACK_KEY" as feedback_key,
        "SITE_DOMAIN" as site_domain,
        "PAGE" as page,
        "PAGE_SECTION" as page_section,
        "URL" as url,
        {{ utc_timestamp('"TIME"') }} as submitted_at,
        "IS_HELPFUL" as is_helpful,
        coalesce("_FIVETRAN_DELETED", false) as is_deleted,
        {{ utc_timestamp('"_FIVETRAN_SYNCED"') }} as fivetran_synced_at
    from source

)

select * from renamed
