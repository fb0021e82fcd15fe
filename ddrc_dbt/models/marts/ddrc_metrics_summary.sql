{#-
  The published metrics: the row ddrc-metrics.json is built from, one per metric.
  Pipeline metrics take their values from their family's latest good snapshot: the
  latest load date that loaded (a failed load writes nothing, so the snapshot dates are
  exactly the successful loads), so a source that is down leaves its metrics at their
  last good value while the others move on. A metric with no row on its family's latest
  load date is missing here, never taken from an older day: the blocking test
  publishes_every_catalog_metric then holds the publication back. Labels come from the
  metric_catalog seed; hand-entered Airtable metrics fill in the rest, but never a name
  the catalog gives to a pipeline metric.
-#}
with metrics as (

    select * from {{ ref('int_pipeline__metrics_by_load_date') }}

),

catalog as (

    select * from {{ ref('metric_catalog') }}

),

latest_good_loads as (

    select
        metric_family,
        max(load_date) as load_date
    from metrics
    group by metric_family

),

latest_pipeline_metrics as (

    select metrics.*
    from metrics
    inner join latest_good_loads
        on latest_good_loads.metric_family = metrics.metric_family
        and latest_good_loads.load_date = metrics.load_date

),

pipeline_metrics as (

    -- A left join: a computed metric missing from the catalog gets null labels, which the
    -- contract's not-null constraints turn into a failed build instead of a silent drop.
    select
        latest_pipeline_metrics.metric_name,
        latest_pipeline_metrics.metric_value,
        catalog.metric_type,
        catalog.metric_unit_label,
        catalog.update_frequency,
        latest_pipeline_metrics.last_updated,
        'pipeline' as metric_source
    from latest_pipeline_metrics
    left join catalog
        on catalog.metric_name = latest_pipeline_metrics.metric_name

),

manual_metrics as (

    select
        manual.metric_name,
        manual.metric_value,
        manual.metric_type,
        manual.metric_unit_label,
        manual.update_frequency,
        manual.last_updated,
        'airtable' as metric_source
    from {{ ref('int_airtable__latest_manual_metrics') }} as manual
    where not exists (
        select 1
        from catalog
        where catalog.metric_name = manual.metric_name
    )

),

published as (

    select * from pipeline_metrics
    union all
    select * from manual_metrics

)

select
    cast(metric_name as {{ dbt.type_string() }}) as metric_name,
    {{ to_decimal('metric_value', 18, 2) }} as metric_value,
    cast(metric_type as {{ dbt.type_string() }}) as metric_type,
    cast(metric_unit_label as {{ dbt.type_string() }}) as metric_unit_label,
    cast(update_frequency as {{ dbt.type_string() }}) as update_frequency,
    cast(last_updated as {{ dbt.type_timestamp() }}) as last_updated,
    cast(metric_source as {{ dbt.type_string() }}) as metric_source
from published
