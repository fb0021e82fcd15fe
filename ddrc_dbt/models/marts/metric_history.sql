{#-
  Every pipeline metric for every load date, recomputed from the kept snapshots under the
  current rules. Trend dashboards read it; ddrc_metrics_summary publishes its latest row
  per metric.
-#}
{%- set family_metrics = [
    ref('int_epa__metrics_by_load_date'),
    ref('int_usace__metrics_by_load_date'),
    ref('int_malibu__metrics_by_load_date'),
    ref('int_pasadena__metrics_by_load_date'),
] -%}

with metrics as (
{% for relation in family_metrics %}
    select
        metric_name,
        load_date,
        metric_value,
        last_updated
    from {{ relation }}
    {%- if not loop.last %}

    union all
    {%- endif %}
{% endfor %}
)

select * from metrics
