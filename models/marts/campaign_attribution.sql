-- One row per campaign: leads, orders attributed by last touch, their revenue, return on budget.
-- Attribution and cash per order come from the analytics intermediates (int_orders_attributed on
-- int_orders_cashed: the cash rule of every mart), so this only adds up per campaign.
with

campaigns as (
    select * from {{ ref('marketing_campaigns') }}
),

leads as (
    select * from {{ ref('marketing_leads') }}
),

attributed_orders as (
    select * from {{ ref('int_orders_attributed') }}
),

fx_rates as (
    select * from {{ ref('finance_fx_rates') }}
),

campaign_orders as (
    select
        attributed_orders.campaign_id,
        count(*) as attributed_orders,
        sum(attributed_orders.cash_received_eur) as attributed_revenue_eur,
    from attributed_orders
    where attributed_orders.campaign_id is not null
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
