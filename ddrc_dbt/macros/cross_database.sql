{#-
  SQL that differs between DuckDB (local) and Snowflake (dev/prd). Each macro dispatches
  on the adapter; models call these and never adapter-specific functions directly.
-#}

{#- Epoch milliseconds (ArcGIS dates) -> naive timestamp in UTC. -#}
{% macro epoch_ms_to_timestamp(expression) -%}
    {{ return(adapter.dispatch('epoch_ms_to_timestamp', 'ddrc_dbt')(expression)) }}
{%- endmacro %}

{% macro default__epoch_ms_to_timestamp(expression) -%}
    {{ dbt.dateadd('millisecond', expression, "cast('1970-01-01 00:00:00' as " ~ dbt.type_timestamp() ~ ")") }}
{%- endmacro %}

{% macro duckdb__epoch_ms_to_timestamp(expression) -%}
    epoch_ms(cast({{ expression }} as bigint))
{%- endmacro %}

{% macro snowflake__epoch_ms_to_timestamp(expression) -%}
    {#- scale 3 = milliseconds; a number is always read as UTC by to_timestamp_ntz -#}
    to_timestamp_ntz(cast({{ expression }} as number(38, 0)), 3)
{%- endmacro %}


{#-
  A timestamp column that holds UTC, as a naive (time-zone-less) UTC timestamp.
  Locally the loaders write naive UTC already. In Snowflake, Fivetran lands its time
  columns as TIMESTAMP_TZ in UTC; casting to TIMESTAMP_NTZ keeps that UTC wall time.
-#}
{% macro utc_timestamp(expression) -%}
    {{ return(adapter.dispatch('utc_timestamp', 'ddrc_dbt')(expression)) }}
{%- endmacro %}

{% macro default__utc_timestamp(expression) -%}
    cast({{ expression }} as {{ dbt.type_timestamp() }})
{%- endmacro %}


{#- Naive UTC timestamp -> naive wall-clock time in time_zone (e.g. America/Los_Angeles). -#}
{% macro utc_to_local(expression, time_zone) -%}
    {{ return(adapter.dispatch('utc_to_local', 'ddrc_dbt')(expression, time_zone)) }}
{%- endmacro %}

{% macro default__utc_to_local(expression, time_zone) -%}
    (({{ expression }}) at time zone 'UTC') at time zone '{{ time_zone }}'
{%- endmacro %}

{% macro snowflake__utc_to_local(expression, time_zone) -%}
    convert_timezone('UTC', '{{ time_zone }}', {{ expression }})
{%- endmacro %}


{#-
  First element of an Airtable lookup array, as text. The array may be JSON text
  ('["people_helped_drc"]', as the local loader and some Fivetran setups store it) or,
  in Snowflake, a VARIANT array. Anything that is not a JSON array yields null.
-#}
{% macro first_array_element(expression) -%}
    {{ return(adapter.dispatch('first_array_element', 'ddrc_dbt')(expression)) }}
{%- endmacro %}

{% macro default__first_array_element(expression) -%}
    {{ exceptions.raise_compiler_error("first_array_element is not implemented for adapter " ~ target.type) }}
{%- endmacro %}

{% macro duckdb__first_array_element(expression) -%}
    json_extract_string(cast({{ expression }} as varchar), '$[0]')
{%- endmacro %}

{% macro snowflake__first_array_element(expression) -%}
    {#- to_varchar serializes a VARIANT array to its JSON text and leaves text as is -#}
    try_parse_json(to_varchar({{ expression }}))[0]::varchar
{%- endmacro %}


{#- Exact decimal of the given precision and scale (published values: 18, 2). -#}
{% macro to_decimal(expression, precision=18, scale=2) -%}
    {{ return(adapter.dispatch('to_decimal', 'ddrc_dbt')(expression, precision, scale)) }}
{%- endmacro %}

{% macro default__to_decimal(expression, precision, scale) -%}
    cast({{ expression }} as decimal({{ precision }}, {{ scale }}))
{%- endmacro %}

{% macro snowflake__to_decimal(expression, precision, scale) -%}
    cast({{ expression }} as number({{ precision }}, {{ scale }}))
{%- endmacro %}


{#-
  Cast that yields null instead of failing, whatever the input type. For sources whose
  column types drift between deliveries (Malibu's JSON endpoints). dbt's own safe_cast
  fails on Snowflake for non-text input, because Snowflake's try_cast only reads text.
-#}
{% macro try_cast_any(expression, data_type) -%}
    {{ return(adapter.dispatch('try_cast_any', 'ddrc_dbt')(expression, data_type)) }}
{%- endmacro %}

{% macro default__try_cast_any(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}

{% macro snowflake__try_cast_any(expression, data_type) -%}
    try_cast(to_varchar({{ expression }}) as {{ data_type }})
{%- endmacro %}
