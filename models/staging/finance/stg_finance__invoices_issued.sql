-- One row per finance.invoice.issued event (contract: catalog/contracts/events/finance.invoice.issued.yml).
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
    where type = 'finance.invoice.issued'
    {% if is_incremental() %}
    and {{ landed_after_literal('_ingested_at') }}
    {% endif %}
),

typed as (
    select
        id as event_id,
        source as event_source,
        data ->> 'invoice_id' as invoice_id,
        data ->> 'order_id' as order_id,
        (data ->> 'amount')::decimal(18, 2) as invoice_amount,
        data ->> 'currency' as currency,
        (data ->> 'due_date')::date as due_date,
        time at time zone 'UTC' as issued_at,
        _ingested_at at time zone 'UTC' as ingested_at,
    from events
),

final as (
    select * from typed
    -- landing already keeps one row per (source, id); stay safe if a source is re-landed
    qualify row_number() over (partition by event_source, event_id order by ingested_at) = 1
)

select * from final
