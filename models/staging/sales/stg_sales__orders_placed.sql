-- One row per sales.order.placed event (contract: catalog/contracts/events/sales.order.placed.yml).
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
    select * from {{ source('raw_sales', 'events') }}
    where type = 'sales.order.placed'
    {% if is_incremental() %}
    and {{ landed_after_literal('_ingested_at') }}
    {% endif %}
),

typed as (
    select
        id as event_id,
        source as event_source,
        data ->> 'order_id' as order_id,
        data ->> 'customer_id' as customer_id,
        data ->> 'product_id' as product_id,
        (data ->> 'quantity')::integer as quantity,
        (data ->> 'unit_price')::decimal(18, 2) as unit_price,
        (data ->> 'amount')::decimal(18, 2) as order_amount,
        data ->> 'currency' as currency,
        data ->> 'channel' as channel,
        time at time zone 'UTC' as placed_at,
        _ingested_at at time zone 'UTC' as ingested_at,
    from events
),

final as (
    select * from typed
    -- landing already keeps one row per (source, id); stay safe if a source is re-landed
    qualify row_number() over (partition by event_source, event_id order by ingested_at) = 1
)

select * from final
