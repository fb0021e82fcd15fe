{#-
  Every pipeline metric for every load date: the trend dashboards' table. Daily
  partitioned in Dagster and incremental here: a run computes only the load dates of its
  partitions, given as the environment variables DDRC_HISTORY_MIN_DATE (inclusive) and
  DDRC_HISTORY_MAX_DATE (exclusive): not vars, because dbt re-parses the whole project
  when its vars change, and only this file when an env_var it reads does. A run after a
  source's change (or the daily reconcile) computes today, and after a rule change a range
  backfill from the UI recomputes exactly the days it names. A first build (no table yet),
  or dbt by hand without the vars, computes every day.
  delete+insert (and transient temporary tables) because that is what works on every
  target, fakesnow included.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['metric_name', 'load_date'],
    tmp_relation_type='transient',
    on_schema_change='fail',
) }}

select
    metric_name,
    load_date,
    metric_value,
    last_updated
from {{ ref('int_pipeline__metrics_by_load_date') }}
{% if is_incremental() %}
where load_date >= cast('{{ env_var("DDRC_HISTORY_MIN_DATE", "0001-01-01") }}' as date)
    and load_date < cast('{{ env_var("DDRC_HISTORY_MAX_DATE", "9999-12-31") }}' as date)
{% endif %}
