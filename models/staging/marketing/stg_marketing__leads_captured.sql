-- One row per marketing.lead.captured event (contract: catalog/contracts/events/marketing.lead.captured.yml).
{{
    config(
        materialized='incremental',
        unique_key=['event_source', 'event_id'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

with

events as (
    select * from {{ source('raw_marketing', 'events') }}
    where type = 'marketing.lead.captured'
    {% if is_incremental() %}
    and {{ landed_after_literal('_ingested_at') }}
    {% endif %}
),

typed as (
    select
        id as event_id,
        source as event_source,
        data ->> 'lead_id' as lead_id,
        data ->> 'campaign_id' as campaign_id,
        -- prospects come without a customer
        data ->> 'customer_id' as customer_id,
        data ->> 'touchpoint' as touchpoint,
        time at time zone 'UTC' as captured_at,
        _ingested_at at time zone 'UTC' as ingested_at,
    from events
),

final as (
    select * from typed
    -- landing already keeps one row per (source, id); stay safe if a source is re-landed
    qualify row_number() over (partition by event_source, event_id order by ingested_at) = 1
)

select * from final
