{#-
    What a generic data test reads: the tested relation, narrowed by the test's `where` config as
    dbt does, and — on Agora's incremental builds (`landed_since()` set) — narrowed to what
    this build changed when the tested model is incremental:
    - most tests look at the rows that landed since (`meta.landed_at` names the column); the rows
      before were tested by the builds that made them, and an incremental build leaves them as
      they were;
    - `unique` looks at every row sharing a value with those rows, so a new row that repeats an
      old key still fails.
    Relationship tests narrow only the child side: new rows must still find their parent among
    all of the parent's rows. A full build (no `landed_since()`) tests every row.
-#}
{% macro duckdb__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set scope = agora_landed_scope(relation) -%}
    {%- set conditions = [] -%}
    {%- if where -%}{%- do conditions.append('(' ~ where ~ ')') -%}{%- endif -%}
    {%- if scope -%}{%- do conditions.append(scope) -%}{%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ') ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The condition that keeps the rows this build changed, or '' to keep them all. -#}
{% macro agora_landed_scope(relation) -%}
    {%- set landed = landed_since() -%}
    {%- if not landed or not execute -%}{%- do return('') -%}{%- endif -%}
    {%- set tested = graph.nodes.get(model.get('attached_node')) if model.get('attached_node') else none -%}
    {%- if not tested or tested.config.materialized != 'incremental' -%}{%- do return('') -%}{%- endif -%}
    {%- set landed_at = tested.config.meta.get('landed_at') -%}
    {%- if not landed_at -%}{%- do return('') -%}{%- endif -%}
    {%- set since = landed_at ~ " >= timestamp '" ~ landed ~ "'" -%}
    {%- set test_name = model.get('test_metadata', {}).get('name') -%}
    {%- set column = model.get('test_metadata', {}).get('kwargs', {}).get('column_name') -%}
    {%- if test_name == 'unique' and column -%}
        {%- do return('(' ~ column ~ ') in (select ' ~ column ~ ' from ' ~ relation ~ ' where ' ~ since ~ ')') -%}
    {%- endif -%}
    {%- do return(since) -%}
{%- endmacro %}
