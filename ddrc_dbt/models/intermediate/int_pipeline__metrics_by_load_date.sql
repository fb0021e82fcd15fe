{#-
  Every pipeline metric for every load date, under the current rules: the one union of
  the family models that both the summary (latest good load per family) and the
  partitioned metric_history read. A new family is one line here.
-#}
{%- set families = ['epa', 'usace', 'malibu', 'pasadena'] -%}

with metrics as (
{% for family in families %}
    select
        '{{ family }}' as metric_family,
        metric_name,
        load_date,
        metric_value,
        last_updated
    from {{ ref('int_' ~ family ~ '__metrics_by_load_date') }}
    {%- if not loop.last %}

    union all
    {%- endif %}
{% endfor %}
)

select * from metrics
