-- The cash rule of every mart, stated once: per order, cash kept = payments received against its
-- invoices minus the refunds of those payments, and that in EUR at the rate of the order's day
-- (nearest earlier day with a rate; EUR is always 1). Incremental: orders whose order, invoice,
-- payment, refund or rate landed after the last build are recomputed (macros/incremental.sql).
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
    select * from {{ ref('sales_orders') }}
),

invoices as not materialized (
    select * from {{ ref('finance_invoices') }}
),

payments as not materialized (
    select * from {{ ref('finance_payments') }}
),

refunds as not materialized (
    select * from {{ ref('finance_refunds') }}
),

fx_rates as not materialized (
    select * from {{ ref('finance_fx_rates') }}
),

{% if is_incremental() %}
watermark as (
    select {{ watermark_columns('_built_at') }}
    from {{ this }}
),

-- a new rate moves the orders of its currency from its day on (until the next rate: a superset)
moved_rates as (
    select
        fx_rates.currency,
        min(fx_rates.rate_date) as from_date,
    from fx_rates
    cross join watermark
    where {{ landed_after('fx_rates._built_at') }}
    group by fx_rates.currency
),

-- each input's rows that landed since, filtered on their own before any join
landed_invoices as (
    select invoices.order_id
    from invoices
    cross join watermark
    where {{ landed_after('invoices._built_at') }}
),

landed_payments as (
    select payments.invoice_id
    from payments
    cross join watermark
    where {{ landed_after('payments._built_at') }}
),

landed_refunds as (
    select refunds.payment_id
    from refunds
    cross join watermark
    where {{ landed_after('refunds._built_at') }}
),

touched as (
    select orders.order_id
    from orders
    cross join watermark
    where {{ landed_after('orders._built_at') }}
    union
    select landed_invoices.order_id
    from landed_invoices
    union
    select invoices.order_id
    from invoices
    where invoices.invoice_id in (select landed_payments.invoice_id from landed_payments)
    union
    select invoices.order_id
    from invoices
    where invoices.invoice_id in (
        select payments.invoice_id
        from payments
        where payments.payment_id in (select landed_refunds.payment_id from landed_refunds)
    )
    union
    select orders.order_id
    from orders
    inner join moved_rates
        on orders.currency = moved_rates.currency
        and orders.placed_date >= moved_rates.from_date
),

-- the order each touched order belonged to before: a customer who lost an order must be recomputed
previous as (
    select
        built.order_id,
        built.customer_id,
    from {{ this }} as built
    where built.order_id in (select touched.order_id from touched)
),
{% endif %}

orders_in_scope as (
    select * from orders
    {% if is_incremental() %} where orders.order_id in (select touched.order_id from touched) {% endif %}
),

invoices_in_scope as (
    select invoices.*
    from invoices
    inner join orders_in_scope on invoices.order_id = orders_in_scope.order_id
),

order_payments as (
    select
        invoices_in_scope.order_id,
        payments.payment_id,
        payments.payment_amount,
        payments._built_at,
    from payments
    inner join invoices_in_scope on payments.invoice_id = invoices_in_scope.invoice_id
),

invoiced_per_order as (
    select
        invoices_in_scope.order_id,
        max(invoices_in_scope._built_at) as _built_at,
    from invoices_in_scope
    group by invoices_in_scope.order_id
),

paid_per_order as (
    select
        order_payments.order_id,
        sum(order_payments.payment_amount) as paid_amount,
        max(order_payments._built_at) as _built_at,
    from order_payments
    group by order_payments.order_id
),

refunded_per_order as (
    select
        order_payments.order_id,
        sum(refunds.refund_amount) as refunded_amount,
        max(refunds._built_at) as _built_at,
    from refunds
    inner join order_payments on refunds.payment_id = order_payments.payment_id
    group by order_payments.order_id
),

-- the rate of the order's day, or of the nearest earlier day that has one
order_rates as (
    select
        orders_in_scope.order_id,
        case when orders_in_scope.currency = 'EUR' then 1 else fx_rates.rate_to_eur end as rate_to_eur,
        fx_rates._built_at,
    from orders_in_scope
    asof left join fx_rates
        on orders_in_scope.currency = fx_rates.currency
        and orders_in_scope.placed_date >= fx_rates.rate_date
),

final as (
    select
        orders_in_scope.order_id,
        orders_in_scope.customer_id,
        orders_in_scope.placed_at,
        orders_in_scope.placed_date,
        orders_in_scope.currency,
        orders_in_scope.order_amount,
        orders_in_scope.is_cancelled,
        coalesce(paid_per_order.paid_amount, 0) as paid_amount,
        coalesce(refunded_per_order.refunded_amount, 0) as refunded_amount,
        (coalesce(paid_per_order.paid_amount, 0) - coalesce(refunded_per_order.refunded_amount, 0))
            as cash_received,
        order_rates.rate_to_eur,
        (
            (coalesce(paid_per_order.paid_amount, 0) - coalesce(refunded_per_order.refunded_amount, 0))
            * order_rates.rate_to_eur
        )::decimal(18, 2) as cash_received_eur,
        greatest(
            orders_in_scope._built_at,
            invoiced_per_order._built_at,
            paid_per_order._built_at,
            refunded_per_order._built_at,
            order_rates._built_at
        ) as _built_at,
        {% if is_incremental() %}
        previous.customer_id as _previous_customer_id,
        {% else %}
        null::varchar as _previous_customer_id,
        {% endif %}
    from orders_in_scope
    left join invoiced_per_order on orders_in_scope.order_id = invoiced_per_order.order_id
    left join paid_per_order on orders_in_scope.order_id = paid_per_order.order_id
    left join refunded_per_order on orders_in_scope.order_id = refunded_per_order.order_id
    left join order_rates on orders_in_scope.order_id = order_rates.order_id
    {% if is_incremental() %}
    left join previous on orders_in_scope.order_id = previous.order_id
    {% endif %}
)

select * from final
