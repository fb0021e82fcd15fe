{#-
  Where relations live.

  Locally (dbt-duckdb) there is one DuckDB file, so one catalog ('warehouse', from the
  file name) holds the raw schemas and every model: database = target.database always.
  On Snowflake each layer has its own database per environment:
    RAW_DDRC_{DEV,PRD}        raw tables (sources, see models/staging/*/_*__sources.yml)
    TRANSFORM_DDRC_{DEV,PRD}  staging, intermediate, seeds (the profile's database)
    ANALYTICS_DDRC_{DEV,PRD}  marts (the logical database 'analytics' in dbt_project.yml)
-#}

{% macro generate_database_name(custom_database_name=none, node=none) -%}
    {%- if custom_database_name is none or target.type != 'snowflake' -%}
        {{ target.database }}
    {%- elif custom_database_name == 'analytics' -%}
        {{ analytics_database() }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("Unknown logical database '" ~ custom_database_name ~ "'; known: analytics") }}
    {%- endif -%}
{%- endmacro %}

{% macro analytics_database() -%}
    {{ var('snowflake_analytics_database', 'unset') }}
{%- endmacro %}

{#-
  Schema names are used as configured (staging, intermediate, marts, seeds), without
  dbt's default '<target schema>_' prefix: each environment already has its own
  database, so the prefix would only make names longer.
-#}
{% macro generate_schema_name(custom_schema_name=none, node=none) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
