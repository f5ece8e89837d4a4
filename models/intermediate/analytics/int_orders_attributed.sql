-- Last touch, per order: a non-cancelled order goes to its customer's latest lead captured in the
-- `attribution_window_days` before it (null when there is none, or the order is cancelled).
-- Every order keeps a row, so an order that loses its attribution is replaced, not left behind.
-- Incremental: orders whose cash row changed, and the orders of customers with a new lead.
{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

with

orders as not materialized (
    select * from {{ ref('int_orders_cashed') }}
),

leads as not materialized (
    select * from {{ ref('marketing_leads') }}
),

{% if is_incremental() %}
watermark as (
    select {{ watermark_columns('_built_at') }}
    from {{ this }}
),

touched_customers as (
    select leads.customer_id
    from leads
    cross join watermark
    where leads.customer_id is not null and {{ landed_after('leads._built_at') }}
),

touched as (
    select orders.order_id
    from orders
    cross join watermark
    where {{ landed_after('orders._built_at') }}
    union
    select orders.order_id
    from orders
    where orders.customer_id in (select touched_customers.customer_id from touched_customers)
),
{% endif %}

orders_in_scope as (
    select * from orders
    {% if is_incremental() %} where orders.order_id in (select touched.order_id from touched) {% endif %}
),

customer_leads as (
    select leads.*
    from leads
    where leads.customer_id in (select orders_in_scope.customer_id from orders_in_scope)
),

last_touch as (
    select
        orders_in_scope.order_id,
        customer_leads.campaign_id,
        customer_leads._built_at,
    from orders_in_scope
    inner join customer_leads
        on orders_in_scope.customer_id = customer_leads.customer_id
        and customer_leads.captured_at < orders_in_scope.placed_at
        and customer_leads.captured_at >= orders_in_scope.placed_at - interval '{{ var("attribution_window_days") }} days'
    where not orders_in_scope.is_cancelled
    qualify row_number() over (
        partition by orders_in_scope.order_id order by customer_leads.captured_at desc, customer_leads.lead_id desc
    ) = 1
),

final as (
    select
        orders_in_scope.order_id,
        last_touch.campaign_id,
        orders_in_scope.cash_received_eur,
        greatest(orders_in_scope._built_at, last_touch._built_at) as _built_at,
    from orders_in_scope
    left join last_touch on orders_in_scope.order_id = last_touch.order_id
)

select * from final
