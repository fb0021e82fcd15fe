{#- Helpers of the schema drift tests in tests/generic/documented_columns.sql. -#}

{#- {missing: [...], undocumented: [...]} for a model, seed or source relation. -#}
{% macro column_documentation_drift(relation) %}
    {%- if not execute -%}
        {{ return({'missing': [], 'undocumented': []}) }}
    {%- endif -%}
    {%- set documented = documented_columns(relation) -%}
    {%- set actual = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {{ return({
        'missing': documented | reject('in', actual) | list,
        'undocumented': actual | reject('in', documented) | list,
    }) }}
{% endmacro %}


{#- Lower-cased column names the project documents for the node behind a relation. -#}
{% macro documented_columns(relation) %}
    {%- set nodes = (graph.nodes.values() | list) + (graph.sources.values() | list) -%}
    {%- for node in nodes if node.resource_type in ['model', 'seed', 'snapshot', 'source'] -%}
        {%- set identifier = node.identifier if node.resource_type == 'source' else node.alias -%}
        {%- if (node.database or '') | lower == (relation.database or '') | lower
              and node.schema | lower == relation.schema | lower
              and identifier | lower == relation.identifier | lower -%}
            {{ return(node.columns.keys() | map('lower') | list) }}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("No model, seed or source is documented for relation " ~ relation) }}
{% endmacro %}


{% macro column_drift_rows(column_names, problem) %}
    {%- for column_name in column_names %}
    select '{{ column_name }}' as column_name, '{{ problem }}' as problem
    {%- if not loop.last %} union all{% endif %}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as column_name,
        cast(null as {{ dbt.type_string() }}) as problem
    where 1 = 0
    {%- endfor %}
{% endmacro %}
