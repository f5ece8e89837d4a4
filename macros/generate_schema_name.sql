{#- Schemas are named by layer, not prefixed by the target: staging, public, marts. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
