{#-
  The publication rules of the hand-entered metrics: per metric (the machine name of its
  definition), the latest entry that has a value. Whether a pipeline already produces
  the metric is decided in ddrc_metrics_summary, which knows the pipeline's metrics.
-#}

{#- Every entry column except the record id and the sync time: entries equal in all of
    these are one entry typed (or synced) twice. -#}
{%- set entry_columns = [
    'metric_name', 'metric_value', 'created_at', 'metric_modified_at', 'metric_modified_by',
    'as_of_label', 'as_of_at', 'datetime_offset_number', 'datetime_offset_unit',
    'metric_definition_id', 'metric_title', 'metric_display_name', 'metric_type',
    'metric_unit_label', 'update_frequency', 'topic', 'as_of_time', 'as_of_offset',
    'metric_contact_name', 'metric_contact_email',
] -%}

with entries as (

    -- An entry saved empty never replaces a value; an entry without a definition has no name.
    select *
    from {{ ref('stg_airtable__metrics') }}
    where metric_value is not null
        and metric_name is not null

),

distinct_entries as (

    select
        {{ entry_columns | join(',\n        ') }},
        min(airtable_record_id) as airtable_record_id
    from entries
    group by
        {{ entry_columns | join(',\n        ') }}

),

ranked_entries as (

    -- Latest created first; a remaining tie goes to the latest modified, then to the
    -- smallest record id, so a rebuild always picks the same entry.
    select
        *,
        row_number() over (
            partition by metric_name
            order by
                created_at desc nulls last,
                metric_modified_at desc nulls last,
                airtable_record_id
        ) as entry_rank
    from distinct_entries

)

select
    metric_name,
    metric_value,
    metric_type,
    metric_unit_label,
    lower(update_frequency) as update_frequency,
    coalesce(metric_modified_at, created_at) as last_updated,
    metric_title,
    created_at,
    airtable_record_id
from ranked_entries
where entry_rank = 1
