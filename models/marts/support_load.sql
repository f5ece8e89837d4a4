-- One row per UTC day from the first to the last day with an order or a ticket event, gaps
-- included: support work against the order volume that drives it.
with

orders as (
    select * from {{ ref('sales_orders') }}
),

tickets as (
    select * from {{ ref('support_tickets') }}
),

orders_per_day as (
    select
        orders.placed_date as day,
        count(*) as orders_placed,
    from orders
    group by orders.placed_date
),

opened_per_day as (
    select
        tickets.opened_at::date as day,
        count(*) as tickets_opened,
        count(*) filter (where tickets.is_sla_breached) as sla_breaches,
    from tickets
    group by tickets.opened_at::date
),

resolved_per_day as (
    select
        tickets.resolved_at::date as day,
        count(*) as tickets_resolved,
    from tickets
    where tickets.is_resolved
    group by tickets.resolved_at::date
),

active_days as (
    select day from orders_per_day
    union
    select day from opened_per_day
    union
    select day from resolved_per_day
),

days as (
    select
        unnest(
            generate_series(min(active_days.day)::timestamp, max(active_days.day)::timestamp, interval 1 day)
        )::date as day,
    from active_days
),

final as (
    select
        days.day::date as day,
        coalesce(orders_per_day.orders_placed, 0)::integer as orders_placed,
        coalesce(opened_per_day.tickets_opened, 0)::integer as tickets_opened,
        coalesce(resolved_per_day.tickets_resolved, 0)::integer as tickets_resolved,
        round(100.0 * coalesce(opened_per_day.tickets_opened, 0) / nullif(orders_per_day.orders_placed, 0), 2)::double
            as tickets_opened_per_100_orders,
        round(100.0 * coalesce(resolved_per_day.tickets_resolved, 0) / nullif(orders_per_day.orders_placed, 0), 2)::double
            as tickets_resolved_per_100_orders,
        coalesce(opened_per_day.sla_breaches, 0)::integer as sla_breaches,
    from days
    left join orders_per_day on days.day = orders_per_day.day
    left join opened_per_day on days.day = opened_per_day.day
    left join resolved_per_day on days.day = resolved_per_day.day
)

select * from final
