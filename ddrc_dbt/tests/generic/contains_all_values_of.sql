{#-
  The reverse of dbt's relationships test: every value of `field` in `to` must appear in
  the tested column. Used to prove that every catalogued metric is actually published.
-#}
{% test contains_all_values_of(model, column_name, to, field) %}
    select expected.{{ field }} as missing_value
    from {{ to }} as expected
    where expected.{{ field }} is not null
        and not exists (
            select 1
            from {{ model }} as tested
            where tested.{{ column_name }} = expected.{{ field }}
        )
{% endtest %}
