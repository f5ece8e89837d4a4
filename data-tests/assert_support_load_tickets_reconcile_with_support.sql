-- Every ticket is opened on exactly one day of support_load, and every resolved ticket is
-- resolved on one. Returns a row when the totals differ.
-- Dagster shows it as an asset check of support_load (the test reads several models).
{{ config(meta={'dagster': {'ref': {'name': 'support_load'}}}) }}

with

support_load as (
    select * from {{ ref('support_load') }}
),

tickets as (
    select * from {{ ref('support_tickets') }}
),

final as (
    select
        (select coalesce(sum(support_load.tickets_opened), 0) from support_load) as mart_opened,
        (select count(*) from tickets) as tickets_opened,
        (select coalesce(sum(support_load.tickets_resolved), 0) from support_load) as mart_resolved,
        (select count(*) from tickets where tickets.is_resolved) as tickets_resolved,
        (select coalesce(sum(support_load.sla_breaches), 0) from support_load) as mart_breaches,
        (select count(*) from tickets where tickets.is_sla_breached) as tickets_breached,
)

select * from final
where
    mart_opened != tickets_opened
    or mart_resolved != tickets_resolved
    or mart_breaches != tickets_breached
