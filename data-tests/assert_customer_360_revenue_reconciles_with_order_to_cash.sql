-- customer_360 restates the cash rule of order_to_cash (marts read only public domain models):
-- per customer, lifetime revenue must equal the sum of cash_received_eur of their orders.
-- Returns the customers that disagree.
with

customer_360 as (
    select * from {{ ref('customer_360') }}
),

order_to_cash as (
    select * from {{ ref('order_to_cash') }}
),

revenue_per_customer as (
    select
        order_to_cash.customer_id,
        coalesce(sum(order_to_cash.cash_received_eur), 0) as revenue_eur,
    from order_to_cash
    group by order_to_cash.customer_id
),

final as (
    select
        customer_360.customer_id,
        customer_360.lifetime_revenue_eur,
        coalesce(revenue_per_customer.revenue_eur, 0) as order_to_cash_revenue_eur,
    from customer_360
    left join revenue_per_customer on customer_360.customer_id = revenue_per_customer.customer_id
)

select * from final
where lifetime_revenue_eur != order_to_cash_revenue_eur
