-- One row per campaign: leads, orders attributed by last touch, their revenue, return on budget.
-- Revenue is cash kept (paid - refunded) in EUR at the order's day, the rule of order_to_cash.
with

campaigns as (
    select * from {{ ref('marketing_campaigns') }}
),

leads as (
    select * from {{ ref('marketing_leads') }}
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
    where not orders.is_cancelled
),

-- last touch: the customer's latest lead in the window before the order, one campaign per order
attributed_orders as (
    select
        order_cash.order_id,
        order_cash.cash_received_eur,
        leads.campaign_id,
    from order_cash
    inner join leads
        on order_cash.customer_id = leads.customer_id
        and leads.captured_at < order_cash.placed_at
        and leads.captured_at >= order_cash.placed_at - interval '{{ var("attribution_window_days") }} days'
    qualify row_number() over (
        partition by order_cash.order_id order by leads.captured_at desc, leads.lead_id desc
    ) = 1
),

campaign_orders as (
    select
        attributed_orders.campaign_id,
        count(*) as attributed_orders,
        sum(attributed_orders.cash_received_eur) as attributed_revenue_eur,
    from attributed_orders
    group by attributed_orders.campaign_id
),

campaign_leads as (
    select
        leads.campaign_id,
        count(*) as leads,
    from leads
    group by leads.campaign_id
),

-- budgets convert at the start date's rate (nearest earlier day); campaigns that started
-- before the first known rate take the earliest one
rates_on_or_before as (
    select
        campaigns.campaign_id,
        fx_rates.rate_to_eur,
    from campaigns
    asof inner join fx_rates
        on campaigns.currency = fx_rates.currency
        and campaigns.start_date >= fx_rates.rate_date
),

rates_after as (
    select
        campaigns.campaign_id,
        fx_rates.rate_to_eur,
    from campaigns
    asof inner join fx_rates
        on campaigns.currency = fx_rates.currency
        and campaigns.start_date <= fx_rates.rate_date
),

campaign_budgets as (
    select
        campaigns.campaign_id,
        (
            campaigns.budget * case
                when campaigns.currency = 'EUR' then 1
                else coalesce(rates_on_or_before.rate_to_eur, rates_after.rate_to_eur)
            end
        )::decimal(18, 2) as budget_eur,
    from campaigns
    left join rates_on_or_before on campaigns.campaign_id = rates_on_or_before.campaign_id
    left join rates_after on campaigns.campaign_id = rates_after.campaign_id
),

final as (
    select
        campaigns.campaign_id::varchar as campaign_id,
        campaigns.campaign_name::varchar as campaign_name,
        campaigns.channel::varchar as channel,
        campaigns.currency::varchar as currency,
        campaigns.budget::decimal(18, 2) as budget,
        campaign_budgets.budget_eur::decimal(18, 2) as budget_eur,
        coalesce(campaign_leads.leads, 0)::integer as leads,
        coalesce(campaign_orders.attributed_orders, 0)::integer as attributed_orders,
        coalesce(campaign_orders.attributed_revenue_eur, 0)::decimal(18, 2) as attributed_revenue_eur,
        round(
            coalesce(campaign_orders.attributed_revenue_eur, 0) / nullif(campaign_budgets.budget_eur, 0), 4
        )::double as return_on_budget,
    from campaigns
    left join campaign_budgets on campaigns.campaign_id = campaign_budgets.campaign_id
    left join campaign_leads on campaigns.campaign_id = campaign_leads.campaign_id
    left join campaign_orders on campaigns.campaign_id = campaign_orders.campaign_id
)

select * from final
