-- One row per finance.refund.issued event (contract: catalog/contracts/events/finance.refund.issued.yml).
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
    select * from {{ source('raw_finance', 'events') }}
    where type = 'finance.refund.issued'
    {% if is_incremental() %}
    and {{ landed_after_literal('_ingested_at') }}
    {% endif %}
),

typed as (
    select
        id as event_id,
        source as event_source,
        data ->> 'refund_id' as refund_id,
        data ->> 'payment_id' as payment_id,
        (data ->> 'amount')::decimal(18, 2) as refund_amount,
        data ->> 'currency' as currency,
        data ->> 'reason' as reason,
        time at time zone 'UTC' as refunded_at,
        _ingested_at at time zone 'UTC' as ingested_at,
    from events
),

final as (
    select * from typed
    -- landing already keeps one row per (source, id); stay safe if a source is re-landed
    qualify row_number() over (partition by event_source, event_id order by ingested_at) = 1
)

select * from final
