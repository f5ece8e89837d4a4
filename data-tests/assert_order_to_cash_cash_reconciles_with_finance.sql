-- Cash kept in order_to_cash equals Finance's payments minus refunds, per currency, counting the
-- payments whose invoice's order is in sales_orders (and the refunds of those payments).
-- Returns the currencies that disagree.
with

order_to_cash as (
    select * from {{ ref('order_to_cash') }}
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

known_payments as (
    select
        payments.payment_id,
        payments.payment_amount,
        payments.currency,
    from payments
    inner join invoices on payments.invoice_id = invoices.invoice_id
    inner join orders on invoices.order_id = orders.order_id
),

paid_per_currency as (
    select
        known_payments.currency,
        sum(known_payments.payment_amount) as paid,
    from known_payments
    group by known_payments.currency
),

refunded_per_currency as (
    select
        refunds.currency,
        sum(refunds.refund_amount) as refunded,
    from refunds
    inner join known_payments on refunds.payment_id = known_payments.payment_id
    group by refunds.currency
),

finance_cash as (
    select
        coalesce(paid_per_currency.currency, refunded_per_currency.currency) as currency,
        coalesce(paid_per_currency.paid, 0) - coalesce(refunded_per_currency.refunded, 0) as cash,
    from paid_per_currency
    full outer join refunded_per_currency on paid_per_currency.currency = refunded_per_currency.currency
),

mart_cash as (
    select
        order_to_cash.currency,
        sum(order_to_cash.cash_received) as cash,
    from order_to_cash
    group by order_to_cash.currency
),

final as (
    select
        coalesce(mart_cash.currency, finance_cash.currency) as currency,
        coalesce(mart_cash.cash, 0) as mart_cash,
        coalesce(finance_cash.cash, 0) as finance_cash,
    from mart_cash
    full outer join finance_cash on mart_cash.currency = finance_cash.currency
)

select * from final
where mart_cash != finance_cash
