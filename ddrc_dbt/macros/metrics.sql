{#-
  Turns a CTE with one row per load date and one column per metric into the long shape
  every family's metrics model returns: load_date, metric_name, metric_value, last_updated.
  The metric column's name is the published metric_name, so a rule and its name sit on
  the same line of the family model.
-#}
{% macro unpivot_metrics(cte_name, metric_names) -%}
    {%- for metric_name in metric_names %}
    select
        load_date,
        '{{ metric_name }}' as metric_name,
        {{ to_decimal(metric_name) }} as metric_value,
        last_updated
    from {{ cte_name }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
