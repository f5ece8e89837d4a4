-- Per customer, lifetime revenue in customer_360 must equal the sum of cash_received_eur of their
-- orders in order_to_cash (both follow int_orders_cashed; this guards the two marts' own joins
-- and incremental builds). On Agora's incremental builds (`landed_since()`), only the customers
-- rebuilt since are compared. Returns the customers that disagree.
-- Dagster shows it as an asset check of customer_360 (the test reads several models).
{{ config(meta={'dagster': {'ref': {'name': 'customer_360'}}}) }}

with

customer_360 as (
    select * from {{ ref('customer_360') }}
),

order_to_cash as (
    select * from {{ ref('order_to_cash') }}
),

customers_in_scope as (
    select
        customer_360.customer_id,
        customer_360.lifetime_revenue_eur,
    from customer_360
    {% if landed_since() %}
    where customer_360._built_at >= timestamp '{{ landed_since() }}'
    {% endif %}
),

revenue_per_customer as (
    select
        order_to_cash.customer_id,
        coalesce(sum(order_to_cash.cash_received_eur), 0) as revenue_eur,
    from order_to_cash
    where order_to_cash.customer_id in (select customers_in_scope.customer_id from customers_in_scope)
    group by order_to_cash.customer_id
),

final as (
    select
        customers_in_scope.customer_id,
        customers_in_scope.lifetime_revenue_eur,
        coalesce(revenue_per_customer.revenue_eur, 0) as order_to_cash_revenue_eur,
    from customers_in_scope
    left join revenue_per_customer on customers_in_scope.customer_id = revenue_per_customer.customer_id
)

select * from final
where lifetime_revenue_eur != order_to_cash_revenue_eur
