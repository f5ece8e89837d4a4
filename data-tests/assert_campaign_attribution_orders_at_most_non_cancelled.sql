-- Each non-cancelled order is attributed to at most one campaign, so campaigns together cannot
-- hold more orders than there are. Returns a row when they do.
-- Dagster shows it as an asset check of campaign_attribution (the test reads several models).
{{ config(meta={'dagster': {'ref': {'name': 'campaign_attribution'}}}) }}

with

campaign_attribution as (
    select * from {{ ref('campaign_attribution') }}
),

orders as (
    select * from {{ ref('sales_orders') }}
),

final as (
    select
        (select coalesce(sum(campaign_attribution.attributed_orders), 0) from campaign_attribution)
            as attributed_orders,
        (select count(*) from orders where not orders.is_cancelled) as non_cancelled_orders,
)

select * from final
where attributed_orders > non_cancelled_orders
