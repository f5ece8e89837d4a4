{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

with

placed as not materialized (
    select * from {{ ref('stg_sales__orders_placed') }}
),

cancelled as not materialized (
    select * from {{ ref('stg_sales__orders_cancelled') }}
),

{% if is_incremental() %}
-- orders touched by any event that landed after what this model has seen (macros/incremental.sql):
-- landing time, not event time, so an event days late still reaches its order
watermark as (
    select {{ watermark_columns('_built_at') }}
    from {{ this }}
),

touched as (
    select placed.order_id from placed cross join watermark where {{ landed_after('placed.ingested_at') }}
    union
    select cancelled.order_id from cancelled cross join watermark where {{ landed_after('cancelled.ingested_at') }}
),
{% endif %}

first_placed as (
    select * from placed
    {% if is_incremental() %} where order_id in (select order_id from touched) {% endif %}
    qualify row_number() over (partition by order_id order by placed_at, event_id) = 1
),

first_cancelled as (
    select * from cancelled
    {% if is_incremental() %} where order_id in (select order_id from touched) {% endif %}
    qualify row_number() over (partition by order_id order by cancelled_at, event_id) = 1
),

final as (
    select
        first_placed.order_id,
        first_placed.customer_id,
        first_placed.product_id,
        first_placed.quantity,
        first_placed.unit_price,
        first_placed.order_amount,
        first_placed.currency,
        first_placed.channel,
        first_placed.placed_at,
        first_placed.placed_at::date as placed_date,
        first_cancelled.order_id is not null as is_cancelled,
        first_cancelled.cancelled_at,
        first_cancelled.cancellation_reason,
        greatest(first_placed.ingested_at, first_cancelled.ingested_at) as _built_at,
    from first_placed
    left join first_cancelled on first_placed.order_id = first_cancelled.order_id
)

select * from final
