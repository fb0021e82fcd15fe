{#-
  The USACE metric rules, applied to every snapshot. Changing the definition (the scope
  filter or a step) is an edit here; the history is recomputed on the next build.
-#}
with parcels as (

    select * from {{ ref('stg_usace__parcel_debris_removal') }}

),

snapshots as (

    -- The MapServer layer reports no edit time: last_updated is when the snapshot was loaded.
    select
        load_date,
        max(loaded_at) as last_updated
    from parcels
    group by load_date

),

parcels_in_scope as (

    -- County-handled right-of-entry under the LA fires mission assignment. A null in any
    -- of these columns excludes the row (SQL null semantics), e.g. a missing roe_status.
    select *
    from parcels
    where event_sub_name in ('Eaton', 'Palisades')
        and mission_assignment = '4856DR-CA-COE-SPD-09'
        and roe_details = 'County'
        and roe_status not in ('returned_ineligible', 'returned_withdrawn')

),

metrics_by_load_date as (

    -- The left join keeps a snapshot with no parcel in scope, so it reports zeros
    -- instead of leaving an older snapshot's numbers on the site.
    select
        snapshots.load_date,
        snapshots.last_updated,
        count(distinct case when parcels_in_scope.roe_approved_at is not null then parcels_in_scope.objectid end)
            as phase2_roes_accepted,
        count(distinct case when parcels_in_scope.roe_submitted_at is not null then parcels_in_scope.objectid end)
            as phase2_parcels_in_queue,
        count(distinct case when parcels_in_scope.fso_pkg_approved_at is not null then parcels_in_scope.objectid end)
            as phase2_parcels_completed
    from snapshots
    left join parcels_in_scope
        on parcels_in_scope.load_date = snapshots.load_date
    group by snapshots.load_date, snapshots.last_updated

)

{{ unpivot_metrics('metrics_by_load_date', [
    'phase2_roes_accepted',
    'phase2_parcels_in_queue',
    'phase2_parcels_completed',
]) }}
