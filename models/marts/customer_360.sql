-- One row per customer: who they are, what they bought and paid, how support went, and which
-- campaign brought them in. Cash per order is int_orders_cashed's (the rule of every mart).
-- Incremental: customers whose orders, cash, tickets or leads landed since the last build are
-- recomputed, and every customer when a customer snapshot landed (it may change any of them).
{{
    config(
        materialized='incremental',
        unique_key='customer_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

with

customers as not materialized (
    select * from {{ ref('sales_customers') }}
),

customer_history as not materialized (
    select * from {{ ref('sales_customer_history') }}
),

orders as not materialized (
    select * from {{ ref('int_orders_cashed') }}
),

tickets as not materialized (
    select * from {{ ref('support_tickets') }}
),

leads as not materialized (
    select * from {{ ref('marketing_leads') }}
),

{% if is_incremental() %}
watermark as (
    select {{ watermark_columns('_built_at') }}
    from {{ this }}
),

touched as (
    select orders.customer_id
    from orders
    cross join watermark
    where {{ landed_after('orders._built_at') }}
    union
    -- an order that moved to another customer leaves the previous one to recompute
    select orders._previous_customer_id
    from orders
    cross join watermark
    where orders._previous_customer_id is not null and {{ landed_after('orders._built_at') }}
    union
    select tickets.customer_id
    from tickets
    cross join watermark
    where {{ landed_after('tickets._built_at') }}
    union
    select leads.customer_id
    from leads
    cross join watermark
    where leads.customer_id is not null and {{ landed_after('leads._built_at') }}
    union
    select customers.customer_id
    from customers
    cross join watermark
    where {{ landed_after('customers._built_at') }}
    union
    select customers.customer_id
    from customers
    where exists (
        select 1
        from customer_history
        cross join watermark
        where {{ landed_after('customer_history._built_at') }}
    )
),
{% endif %}

customers_in_scope as (
    select * from customers
    {% if is_incremental() %} where customers.customer_id in (select touched.customer_id from touched) {% endif %}
),

customer_orders as (
    select
        orders.customer_id,
        min(orders.placed_at) as first_order_at,
        count(*) as orders_count,
        sum(orders.cash_received_eur) as lifetime_revenue_eur,
        max(orders._built_at) as _built_at,
    from orders
    where orders.customer_id in (select customers_in_scope.customer_id from customers_in_scope)
    group by orders.customer_id
),

customer_tickets as (
    select
        tickets.customer_id,
        count(*) filter (where not tickets.is_resolved) as open_tickets,
        -- through decimal: an exact sum does not depend on the order rows arrive in
        round(
            avg(tickets.resolution_hours::decimal(18, 6)) filter (where tickets.is_resolved), 2
        ) as mean_resolution_hours,
        max(tickets._built_at) as _built_at,
    from tickets
    where tickets.customer_id in (select customers_in_scope.customer_id from customers_in_scope)
    group by tickets.customer_id
),

customer_leads as (
    select leads.*
    from leads
    where leads.customer_id in (select customers_in_scope.customer_id from customers_in_scope)
),

-- first touch: the earliest lead before the first order (any lead for a customer yet to order)
acquiring_leads as (
    select
        customer_leads.customer_id,
        customer_leads.campaign_id,
    from customer_leads
    left join customer_orders on customer_leads.customer_id = customer_orders.customer_id
    where customer_orders.first_order_at is null or customer_leads.captured_at < customer_orders.first_order_at
    qualify row_number() over (
        partition by customer_leads.customer_id order by customer_leads.captured_at, customer_leads.lead_id
    ) = 1
),

leads_landed as (
    select
        customer_leads.customer_id,
        max(customer_leads._built_at) as _built_at,
    from customer_leads
    group by customer_leads.customer_id
),

segments_at_first_order as (
    select
        customer_orders.customer_id,
        customer_history.segment,
        customer_history._built_at,
    from customer_orders
    inner join customer_history
        on customer_orders.customer_id = customer_history.customer_id
        and customer_history.valid_from <= customer_orders.first_order_at
        and (customer_history.valid_to is null or customer_orders.first_order_at < customer_history.valid_to)
    qualify row_number() over (
        partition by customer_orders.customer_id order by customer_history.valid_from desc
    ) = 1
),

final as (
    select
        customers_in_scope.customer_id::varchar as customer_id,
        customers_in_scope.customer_email::varchar as customer_email,
        customers_in_scope.customer_name::varchar as customer_name,
        customers_in_scope.segment::varchar as segment,
        customers_in_scope.region::varchar as region,
        customer_orders.first_order_at::timestamp as first_order_at,
        coalesce(customer_orders.orders_count, 0)::integer as orders_count,
        coalesce(customer_orders.lifetime_revenue_eur, 0)::decimal(18, 2) as lifetime_revenue_eur,
        coalesce(customer_tickets.open_tickets, 0)::integer as open_tickets,
        customer_tickets.mean_resolution_hours::double as mean_resolution_hours,
        acquiring_leads.campaign_id::varchar as acquiring_campaign_id,
        segments_at_first_order.segment::varchar as segment_at_first_order,
        greatest(
            customers_in_scope._built_at,
            customer_orders._built_at,
            customer_tickets._built_at,
            leads_landed._built_at,
            segments_at_first_order._built_at
        )::timestamp as _built_at,
    from customers_in_scope
    left join customer_orders on customers_in_scope.customer_id = customer_orders.customer_id
    left join customer_tickets on customers_in_scope.customer_id = customer_tickets.customer_id
    left join acquiring_leads on customers_in_scope.customer_id = acquiring_leads.customer_id
    left join leads_landed on customers_in_scope.customer_id = leads_landed.customer_id
    left join segments_at_first_order on customers_in_scope.customer_id = segments_at_first_order.customer_id
)

select * from final
