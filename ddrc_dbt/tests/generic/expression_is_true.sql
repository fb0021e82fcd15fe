{#-
  Fails on every row where the expression is false. Combine with the test's `where`
  config to scope it (e.g. to one metric_name or one metric_type).
-#}
{% test expression_is_true(model, expression) %}
    select *
    from {{ model }}
    where not ({{ expression }})
{% endtest %}
