{#-
  The grain of a model: no two rows share the values of `columns` (dbt's own `unique`
  takes one column, and no dbt package is reachable from these machines). Fails with the
  duplicated keys and how often each occurs.
-#}
{% test unique_key(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}
