{{
    config(
        materialized='incremental',
        unique_key='lead_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

with

captured as not materialized (
    select * from {{ ref('stg_marketing__leads_captured') }}
),

{% if is_incremental() %}
-- leads touched by an event that landed after what this model has seen (macros/incremental.sql):
-- landing time, not event time, so an event days late still reaches its lead
watermark as (
    select {{ watermark_columns('_built_at') }}
    from {{ this }}
),

touched as (
    select captured.lead_id
    from captured
    cross join watermark
    where {{ landed_after('captured.ingested_at') }}
),
{% endif %}

first_captured as (
    select * from captured
    {% if is_incremental() %} where lead_id in (select lead_id from touched) {% endif %}
    qualify row_number() over (partition by lead_id order by captured_at, event_id) = 1
),

final as (
    select
        lead_id,
        campaign_id,
        customer_id,
        touchpoint,
        captured_at,
        ingested_at as _built_at,
    from first_captured
)

select * from final
