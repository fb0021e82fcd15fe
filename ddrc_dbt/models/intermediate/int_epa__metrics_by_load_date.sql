{#-
  The EPA metric rule, applied to every snapshot. Changing the definition is an edit
  here; the history is recomputed under the new rule on the next build.
-#}
with parcels as (

    select * from {{ ref('stg_epa__public_status_assessment') }}

),

metrics_by_load_date as (

    select
        load_date,
        max(layer_last_edited_at) as last_updated,
        count(
            case
                when public_status in ('Phase 1 Complete', 'Deferred to Phase 2')
                    and land_use = 'Residential'
                    then 1
            end
        ) as cleanup_phase1_complete
    from parcels
    group by load_date

)

{{ unpivot_metrics('metrics_by_load_date', ['cleanup_phase1_complete']) }}
