{#-
  Schema drift checks: the columns a relation really has against the columns its yml
  documents, compared case-insensitively (Snowflake reports upper case, DuckDB keeps the
  case it was given). Two tests so each can carry its own severity:
    documented_columns_exist  a documented column is missing (a source dropped or renamed
                              a field; downstream SQL would break or silently go null)
    all_columns_documented    the relation has a column nobody documented (a source added
                              a field: worth a look, usually harmless for sources)
-#}

{% test documented_columns_exist(model) %}
    {%- set drift = column_documentation_drift(model) -%}
    {{ column_drift_rows(drift.missing, 'documented but missing from the relation') }}
{% endtest %}

{% test all_columns_documented(model) %}
    {%- set drift = column_documentation_drift(model) -%}
    {{ column_drift_rows(drift.undocumented, 'present in the relation but not documented') }}
{% endtest %}
