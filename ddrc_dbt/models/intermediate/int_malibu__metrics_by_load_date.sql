{#-
  The Malibu metric rules, applied to every snapshot. Changing a definition (as the city
  did when it asked to drop PendingBSReview from "in review") is an edit here; the
  history is recomputed on the next build.
-#}
with applications as (

    select * from {{ ref('stg_malibu__fire_rebuild_points') }}

),

metrics_by_load_date as (

    -- The endpoints report no edit time: last_updated is when the snapshot was loaded.
    select
        load_date,
        max(loaded_at) as last_updated,
        count(*) as malibu_rebuild_applications_received,
        count(case when application_stage in ('InPlanning', 'InBPC') then 1 end)
            as malibu_rebuild_applications_in_review,
        count(case when application_stage = 'PermitIssued' then 1 end)
            as malibu_building_permits_issued
    from applications
    group by load_date

)

{{ unpivot_metrics('metrics_by_load_date', [
    'malibu_rebuild_applications_received',
    'malibu_rebuild_applications_in_review',
    'malibu_building_permits_issued',
]) }}
