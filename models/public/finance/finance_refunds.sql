{{
    config(
        materialized='incremental',
        unique_key='refund_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

with

refunds as not materialized (
    select * from {{ ref('stg_finance__refunds_issued') }}
),

{% if is_incremental() %}
-- refunds touched by an event that landed after what this model has seen (macros/incremental.sql):
-- landing time, not event time, so an event days late still reaches its refund
watermark as (
    select {{ watermark_columns('_built_at') }}
    from {{ this }}
),

touched as (
    select refunds.refund_id
    from refunds
    cross join watermark
    where {{ landed_after('refunds.ingested_at') }}
),
{% endif %}

first_refunds as (
    select * from refunds
    {% if is_incremental() %} where refund_id in (select refund_id from touched) {% endif %}
    qualify row_number() over (partition by refund_id order by refunded_at, event_id) = 1
),

final as (
    select
        refund_id,
        payment_id,
        refund_amount,
        currency,
        reason,
        refunded_at,
        ingested_at as _built_at,
    from first_refunds
)

select * from final
