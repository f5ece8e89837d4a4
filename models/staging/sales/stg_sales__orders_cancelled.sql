-- One row per sales.order.cancelled event (contract: catalog/contracts/events/sales.order.cancelled.yml).
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
    where type = 'sales.order.cancelled'
    {% if is_incremental() %}
    and {{ landed_after_literal('_ingested_at') }}
    {% endif %}
),

typed as (
    select
        id as event_id,
        source as event_source,
        data ->> 'order_id' as order_id,
        data ->> 'reason' as cancellation_reason,
        time at time zone 'UTC' as cancelled_at,
        _ingested_at at time zone 'UTC' as ingested_at,
    from events
),

final as (
    select * from typed
    qualify row_number() over (partition by event_source, event_id order by ingested_at) = 1
)

select * from final
