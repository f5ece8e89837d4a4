-- One row per order: placed → invoiced → paid/refunded, with cash converted to EUR at the
-- order's day. Amounts stay in the order currency (invoices and payments share it).
with

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

-- an order has one invoice; should it ever get more, the first names it and all of them count
first_invoices as (
    select
        invoices.order_id,
        invoices.invoice_id,
        invoices.issued_at as invoiced_at,
    from invoices
    qualify row_number() over (
        partition by invoices.order_id order by invoices.issued_at, invoices.invoice_id
    ) = 1
),

invoiced_per_order as (
    select
        invoices.order_id,
        sum(invoices.invoice_amount) as invoiced_amount,
    from invoices
    group by invoices.order_id
),

order_payments as (
    select
        invoices.order_id,
        payments.payment_id,
        payments.payment_amount,
        payments.received_at,
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

-- refunds do not move this: it is when the invoice was first settled
cumulative_payments as (
    select
        order_payments.order_id,
        order_payments.received_at,
        sum(order_payments.payment_amount) over (
            partition by order_payments.order_id
            order by order_payments.received_at, order_payments.payment_id
            rows between unbounded preceding and current row
        ) as cumulative_paid,
    from order_payments
),

fully_paid as (
    select
        cumulative_payments.order_id,
        min(cumulative_payments.received_at) as fully_paid_at,
    from cumulative_payments
    inner join invoiced_per_order on cumulative_payments.order_id = invoiced_per_order.order_id
    where cumulative_payments.cumulative_paid >= invoiced_per_order.invoiced_amount
    group by cumulative_payments.order_id
),

-- the rate of the order's day, or of the nearest earlier day that has one
order_rates as (
    select
        orders.order_id,
        case when orders.currency = 'EUR' then 1 else fx_rates.rate_to_eur end as rate_to_eur,
    from orders
    asof left join fx_rates
        on orders.currency = fx_rates.currency
        and orders.placed_date >= fx_rates.rate_date
),

amounts as (
    select
        orders.order_id,
        orders.customer_id,
        orders.placed_at,
        orders.placed_date,
        orders.currency,
        orders.order_amount,
        orders.is_cancelled,
        first_invoices.invoice_id,
        first_invoices.invoiced_at,
        invoiced_per_order.invoiced_amount,
        coalesce(paid_per_order.paid_amount, 0) as paid_amount,
        coalesce(refunded_per_order.refunded_amount, 0) as refunded_amount,
        fully_paid.fully_paid_at,
        order_rates.rate_to_eur,
    from orders
    left join first_invoices on orders.order_id = first_invoices.order_id
    left join invoiced_per_order on orders.order_id = invoiced_per_order.order_id
    left join paid_per_order on orders.order_id = paid_per_order.order_id
    left join refunded_per_order on orders.order_id = refunded_per_order.order_id
    left join fully_paid on orders.order_id = fully_paid.order_id
    left join order_rates on orders.order_id = order_rates.order_id
),

final as (
    select
        order_id::varchar as order_id,
        customer_id::varchar as customer_id,
        placed_at::timestamp as placed_at,
        placed_date::date as placed_date,
        currency::varchar as currency,
        order_amount::decimal(18, 2) as order_amount,
        is_cancelled::boolean as is_cancelled,
        invoice_id::varchar as invoice_id,
        invoiced_at::timestamp as invoiced_at,
        invoiced_amount::decimal(18, 2) as invoiced_amount,
        paid_amount::decimal(18, 2) as paid_amount,
        refunded_amount::decimal(18, 2) as refunded_amount,
        (paid_amount - refunded_amount)::decimal(18, 2) as cash_received,
        greatest(coalesce(invoiced_amount, 0) - paid_amount, 0)::decimal(18, 2) as amount_outstanding,
        fully_paid_at::timestamp as fully_paid_at,
        round(date_diff('second', placed_at, fully_paid_at) / 86400.0, 2)::double as days_to_cash,
        case
            when is_cancelled then 'cancelled'
            when invoice_id is null then 'open'
            when refunded_amount > 0 then 'refunded'
            when paid_amount >= invoiced_amount then 'paid'
            when paid_amount > 0 then 'partially_paid'
            else 'invoiced'
        end::varchar as status,
        ((paid_amount - refunded_amount) * rate_to_eur)::decimal(18, 2) as cash_received_eur,
    from amounts
)

select * from final
