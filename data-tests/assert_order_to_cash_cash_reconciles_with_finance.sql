-- Cash kept in order_to_cash equals Finance's payments minus refunds, order by order: the
-- payments against the order's invoices, less the refunds of those payments. On Agora's
-- incremental builds (`landed_since()`), only the orders rebuilt since are compared; the others
-- were compared when they were built. Returns the orders that disagree.
-- Dagster shows it as an asset check of order_to_cash (the test reads several models).
{{ config(meta={'dagster': {'ref': {'name': 'order_to_cash'}}}) }}

with

order_to_cash as (
    select * from {{ ref('order_to_cash') }}
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

orders_in_scope as (
    select
        order_to_cash.order_id,
        order_to_cash.cash_received,
    from order_to_cash
    {% if landed_since() %}
    where order_to_cash._built_at >= timestamp '{{ landed_since() }}'
    {% endif %}
),

order_payments as (
    select
        invoices.order_id,
        payments.payment_id,
        payments.payment_amount,
    from payments
    inner join invoices on payments.invoice_id = invoices.invoice_id
    where invoices.order_id in (select orders_in_scope.order_id from orders_in_scope)
),

paid_per_order as (
    select
        order_payments.order_id,
        sum(order_payments.payment_amount) as paid,
    from order_payments
    group by order_payments.order_id
),

refunded_per_order as (
    select
        order_payments.order_id,
        sum(refunds.refund_amount) as refunded,
    from refunds
    inner join order_payments on refunds.payment_id = order_payments.payment_id
    group by order_payments.order_id
),

final as (
    select
        orders_in_scope.order_id,
        orders_in_scope.cash_received as mart_cash,
        coalesce(paid_per_order.paid, 0) - coalesce(refunded_per_order.refunded, 0) as finance_cash,
    from orders_in_scope
    left join paid_per_order on orders_in_scope.order_id = paid_per_order.order_id
    left join refunded_per_order on orders_in_scope.order_id = refunded_per_order.order_id
)

select * from final
where mart_cash != finance_cash
