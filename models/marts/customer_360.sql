-- One row per customer: who they are, what they bought and paid, how support went, and which
-- campaign brought them in. Reads the domains' public models only (no other mart), so the
-- cash rule is the one of order_to_cash, restated: paid - refunded, in EUR at the order's day.
with

customers as (
    select * from {{ ref('sales_customers') }}
),

customer_history as (
    select * from {{ ref('sales_customer_history') }}
),

orders as (
    select * from {{ ref('sales_orders') }}
),

invoices as (
    select * from {{ ref('finance_invoices') }}
),

payments as (
    select * from {{ ref('finance_payments') }}
),

refunds as (
    select * from {{ ref('finance_refunds') }}
),

fx_rates as (
    select * from {{ ref('finance_fx_rates') }}
),

tickets as (
    select * from {{ ref('support_tickets') }}
),

leads as (
    select * from {{ ref('marketing_leads') }}
),

order_payments as (
    select
        invoices.order_id,
        payments.payment_id,
        payments.payment_amount,
    from payments
    inner join invoices on payments.invoice_id = invoices.invoice_id
),

paid_per_order as (
    select
        order_payments.order_id,
        sum(order_payments.payment_amount) as paid_amount,
    from order_payments
    group by order_payments.order_id
),

refunded_per_order as (
    select
        order_payments.order_id,
        sum(refunds.refund_amount) as refunded_amount,
    from refunds
    inner join order_payments on refunds.payment_id = order_payments.payment_id
    group by order_payments.order_id
),

order_cash as (
    select
        orders.order_id,
        orders.customer_id,
        orders.placed_at,
        (
            (coalesce(paid_per_order.paid_amount, 0) - coalesce(refunded_per_order.refunded_amount, 0))
            * case when orders.currency = 'EUR' then 1 else fx_rates.rate_to_eur end
        )::decimal(18, 2) as cash_received_eur,
    from orders
    left join paid_per_order on orders.order_id = paid_per_order.order_id
    left join refunded_per_order on orders.order_id = refunded_per_order.order_id
    asof left join fx_rates
        on orders.currency = fx_rates.currency
        and orders.placed_date >= fx_rates.rate_date
),

customer_orders as (
    select
        order_cash.customer_id,
        min(order_cash.placed_at) as first_order_at,
        count(*) as orders_count,
        sum(order_cash.cash_received_eur) as lifetime_revenue_eur,
    from order_cash
    group by order_cash.customer_id
),

customer_tickets as (
    select
        tickets.customer_id,
        count(*) filter (where not tickets.is_resolved) as open_tickets,
        -- through decimal: an exact sum does not depend on the order rows arrive in
        round(
            avg(tickets.resolution_hours::decimal(18, 6)) filter (where tickets.is_resolved), 2
        ) as mean_resolution_hours,
    from tickets
    group by tickets.customer_id
),

-- first touch: the earliest lead before the first order (any lead for a customer yet to order)
acquiring_leads as (
    select
        leads.customer_id,
        leads.campaign_id,
    from leads
    left join customer_orders on leads.customer_id = customer_orders.customer_id
    where
        leads.customer_id is not null
        and (customer_orders.first_order_at is null or leads.captured_at < customer_orders.first_order_at)
    qualify row_number() over (
        partition by leads.customer_id order by leads.captured_at, leads.lead_id
    ) = 1
),

segments_at_first_order as (
    select
        customer_orders.customer_id,
        customer_history.segment,
    from customer_orders
    inner join customer_history
        on customer_orders.customer_id = customer_history.customer_id
        and customer_history.valid_from <= customer_orders.first_order_at
        and (customer_history.valid_to is null or customer_orders.first_order_at < customer_history.valid_to)
    qualify row_number() over (
        partition by customer_orders.customer_id order by customer_history.valid_from desc
    ) = 1
),

final as (
    select
        customers.customer_id::varchar as customer_id,
        customers.customer_email::varchar as customer_email,
        customers.customer_name::varchar as customer_name,
        customers.segment::varchar as segment,
        customers.region::varchar as region,
        customer_orders.first_order_at::timestamp as first_order_at,
        coalesce(customer_orders.orders_count, 0)::integer as orders_count,
        coalesce(customer_orders.lifetime_revenue_eur, 0)::decimal(18, 2) as lifetime_revenue_eur,
        coalesce(customer_tickets.open_tickets, 0)::integer as open_tickets,
        customer_tickets.mean_resolution_hours::double as mean_resolution_hours,
        acquiring_leads.campaign_id::varchar as acquiring_campaign_id,
        segments_at_first_order.segment::varchar as segment_at_first_order,
    from customers
    left join customer_orders on customers.customer_id = customer_orders.customer_id
    left join customer_tickets on customers.customer_id = customer_tickets.customer_id
    left join acquiring_leads on customers.customer_id = acquiring_leads.customer_id
    left join segments_at_first_order on customers.customer_id = segments_at_first_order.customer_id
)

select * from final
