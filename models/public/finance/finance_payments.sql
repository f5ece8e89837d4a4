{{
    config(
        materialized='incremental',
        unique_key='payment_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

with

received as not materialized (
    select * from {{ ref('stg_finance__payments_received') }}
),

{% if is_incremental() %}
-- payments touched by an event that landed after what this model has seen (macros/incremental.sql):
-- landing time, not event time, so an event days late still reaches its payment
watermark as (
    select {{ watermark_columns('_built_at') }}
    from {{ this }}
),

touched as (
    select received.payment_id
    from received
    cross join watermark
    where {{ landed_after('received.ingested_at') }}
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
