{#-
  The Pasadena metric rules, applied to every snapshot. Changing a definition is an edit
  here; the history is recomputed on the next build.
-#}
with permits as (

    select * from {{ ref('stg_pasadena__eaton_fire_rebuild_permits') }}

),

metrics_by_load_date as (

    select
        load_date,
        max(layer_last_edited_at) as last_updated,
        count(*) as pasadena_rebuild_applications_received,
        count(case when permit_status = 'In Review' then 1 end)
            as pasadena_rebuild_applications_in_review,
        count(case when permit_status = 'Issued' then 1 end)
            as pasadena_building_permits_issued
    from permits
    group by load_date

)

{{ unpivot_metrics('metrics_by_load_date', [
    'pasadena_rebuild_applications_received',
    'pasadena_rebuild_applications_in_review',
    'pasadena_building_permits_issued',
]) }}
