{#-
    What an incremental model must (re)process: rows that landed after what it has already seen.

    Two watermarks, whichever reaches further back:
    - what the model has seen: the latest landing time among its own rows (`seen_through`);
    - `landed_since()`, when Agora passes it: the earliest landing time of the batches the last
      successful build had not seen (pipelines/transform.py finds them by batch id in ops.batches,
      so a batch that committed out of clock order is still caught).
    Without it (a plain `dbt build`), `seen_through` is moved back by `lookback_hours`, the
    safety margin for landings whose clock ran behind. With it, no margin is needed: the batches
    are known exactly, and the margin would only make every build redo the last hour.
-#}

{#-
    Agora's `AGORA_LANDED_SINCE` (UTC, 'YYYY-MM-DD HH:MM:SS[.ffffff]'), or none. An environment
    variable read only while executing, not a `--vars` value: dbt re-parses the whole project
    when vars change, and this one changes with every build.
-#}
{% macro landed_since() -%}
    {%- set value = env_var('AGORA_LANDED_SINCE', '') if execute else '' -%}
    {%- do return(value if value else none) -%}
{%- endmacro %}

{#- Columns of a one-row `watermark` CTE over `this`: seen_through and landed_since. -#}
{% macro watermark_columns(landed_column) -%}
    {%- set landed = landed_since() -%}
    {%- if landed -%}
        coalesce(max({{ landed_column }}), '-infinity'::timestamp) as seen_through,
        timestamp '{{ landed }}' as landed_since,
    {%- else -%}
        coalesce(max({{ landed_column }}) - interval '{{ var("lookback_hours") }} hours', '-infinity'::timestamp)
            as seen_through,
        null::timestamp as landed_since,
    {%- endif -%}
{%- endmacro %}

{#- True for rows whose landing time `column` is past the watermark CTE `watermark`. -#}
{% macro landed_after(column, watermark='watermark') -%}
    ({{ column }} > {{ watermark }}.seen_through or {{ column }} >= {{ watermark }}.landed_since)
{%- endmacro %}

{#-
    The same test against a literal, for a staging model reading a raw table: DuckDB prunes row
    groups by a constant bound on `_ingested_at` (rows are appended in landing order), so only the
    new rows are read and their JSON parsed. The bound is read from `this` when the model runs.
-#}
{% macro landed_after_literal(raw_column, seen_column='ingested_at') -%}
    {%- set landed = landed_since() -%}
    {%- set query -%}
        with seen as (
            select
                coalesce(
                    max({{ seen_column }}){% if not landed %} - interval '{{ var("lookback_hours") }} hours'{% endif %},
                    '-infinity'::timestamp
                ) as seen_through,
                {% if landed %}timestamp '{{ landed }}'{% else %}null::timestamp{% endif %} as landed_since,
            from {{ this }}
        )
        select
            case when landed_since <= seen_through then '>=' else '>' end as operator,
            least(landed_since, seen_through)::varchar as bound,
        from seen
    {%- endset -%}
    {%- if execute -%}
        {%- set row = run_query(query).rows[0] -%}
        {{ raw_column }} {{ row['operator'] }} timestamptz '{{ row['bound'] }}{{ "" if row["bound"] == "-infinity" else "+00" }}'
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
