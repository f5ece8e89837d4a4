-- Every order lands on exactly one day of support_load. Returns a row when the totals differ.
-- Dagster shows it as an asset check of support_load (the test reads several models).
{{ config(meta={'dagster': {'ref': {'name': 'support_load'}}}) }}

with

support_load as (
    select * from {{ ref('support_load') }}
),

orders as (
    select * from {{ ref('sales_orders') }}
),

final as (
    select
        (select coalesce(sum(support_load.orders_placed), 0) from support_load) as mart_orders,
        (select count(*) from orders) as sales_orders,
)

select * from final
where mart_orders != sales_orders
