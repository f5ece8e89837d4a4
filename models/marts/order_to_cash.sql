-- One row per order: placed → invoiced → paid/refunded, with cash converted to EUR at the
-- order's day. Amounts stay in the order currency (invoices and payments share it). The cash rule
-- is int_orders_cashed's, shared with the other marts. Incremental: the orders whose cash row
-- changed since the last build (it carries every input's landing time) are recomputed.
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

invoices as not materialized (
    select * from {{ ref('finance_invoices') }}
),

payments as not materialized (
    select * from {{ ref('finance_payments') }}
),

{% if is_incremental() %}
watermark as (
    select {{ watermark_columns('_built_at') }}
    from {{ this }}
),
{% endif %}

orders_in_scope as (
    select * from orders
    {% if is_incremental() %}
    cross join watermark
    where {{ landed_after('orders._built_at') }}
    {% endif %}
),

invoices_in_scope as (
    select invoices.*
    from invoices
    inner join orders_in_scope on invoices.order_id = orders_in_scope.order_id
),

-- an order has one invoice; should it ever get more, the first names it and all of them count
first_invoices as (
    select
        invoices_in_scope.order_id,
        invoices_in_scope.invoice_id,
        invoices_in_scope.issued_at as invoiced_at,
    from invoices_in_scope
    qualify row_number() over (
        partition by invoices_in_scope.order_id order by invoices_in_scope.issued_at, invoices_in_scope.invoice_id
    ) = 1
),

invoiced_per_order as (
    select
        invoices_in_scope.order_id,
        sum(invoices_in_scope.invoice_amount) as invoiced_amount,
    from invoices_in_scope
    group by invoices_in_scope.order_id
),

order_payments as (
    select
        invoices_in_scope.order_id,
        payments.payment_id,
        payments.payment_amount,
        payments.received_at,
    from payments
    inner join invoices_in_scope on payments.invoice_id = invoices_in_scope.invoice_id
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

amounts as (
    select
        orders_in_scope.order_id,
        orders_in_scope.customer_id,
        orders_in_scope.placed_at,
        orders_in_scope.placed_date,
        orders_in_scope.currency,
        orders_in_scope.order_amount,
        orders_in_scope.is_cancelled,
        first_invoices.invoice_id,
        first_invoices.invoiced_at,
        invoiced_per_order.invoiced_amount,
        orders_in_scope.paid_amount,
        orders_in_scope.refunded_amount,
        orders_in_scope.cash_received,
        orders_in_scope.cash_received_eur,
        fully_paid.fully_paid_at,
        orders_in_scope._built_at,
    from orders_in_scope
    left join first_invoices on orders_in_scope.order_id = first_invoices.order_id
    left join invoiced_per_order on orders_in_scope.order_id = invoiced_per_order.order_id
    left join fully_paid on orders_in_scope.order_id = fully_paid.order_id
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
        cash_received::decimal(18, 2) as cash_received,
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
        cash_received_eur::decimal(18, 2) as cash_received_eur,
        _built_at::timestamp as _built_at,
    from amounts
)

select * from final
