{{
    config(
        materialized='incremental',
        unique_key='payment_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

with

received as (
    select * from {{ ref('stg_finance__payments_received') }}
),

{% if is_incremental() %}
-- payments touched by an event that landed (or happened) within the lookback window before
-- the last build: landing time, so an event days late still reaches its payment
watermark as (
    select
        max(_built_at) - interval '{{ var("lookback_hours") }} hours' as since,
    from {{ this }}
),

touched as (
    select received.payment_id
    from received
    cross join watermark
    where received.ingested_at >= watermark.since or received.received_at >= watermark.since
),
{% endif %}

first_received as (
    select * from received
    {% if is_incremental() %} where payment_id in (select payment_id from touched) {% endif %}
    qualify row_number() over (partition by payment_id order by received_at, event_id) = 1
),

final as (
    select
        payment_id,
        invoice_id,
        payment_amount,
        currency,
        method,
        received_at,
        ingested_at as _built_at,
    from first_received
)

select * from final
