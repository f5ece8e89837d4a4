-- One row per marketing.campaign.launched event (contract: catalog/contracts/events/marketing.campaign.launched.yml).
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
    where type = 'marketing.campaign.launched'
    {% if is_incremental() %}
    and {{ landed_after_literal('_ingested_at') }}
    {% endif %}
),

typed as (
    select
        id as event_id,
        source as event_source,
        data ->> 'campaign_id' as campaign_id,
        data ->> 'channel' as channel,
        (data ->> 'budget')::decimal(18, 2) as launch_budget,
        data ->> 'currency' as currency,
        time at time zone 'UTC' as launched_at,
        _ingested_at at time zone 'UTC' as ingested_at,
    from events
),

final as (
    select * from typed
    -- landing already keeps one row per (source, id); stay safe if a source is re-landed
    qualify row_number() over (partition by event_source, event_id order by ingested_at) = 1
)

select * from final
