-- Customer snapshots collapsed into type-2 versions: a version runs while consecutive snapshots
-- show the same attributes, and closes at the first snapshot that changes them or lacks the customer.
with

customers as (
    select * from {{ ref('stg_sales__customers') }}
),

snapshots as (
    select
        snapshot_at,
        lead(snapshot_at) over (order by snapshot_at) as next_snapshot_at,
    from (select distinct snapshot_at from customers)
),

observed as (
    select
        customers.customer_id,
        customers.customer_email,
        customers.customer_name,
        customers.segment,
        customers.region,
        customers.created_at,
        customers.snapshot_at,
        snapshots.next_snapshot_at,
        lag(snapshots.next_snapshot_at) over by_customer as previous_next_snapshot_at,
        lag(customers.customer_email) over by_customer as previous_email,
        lag(customers.customer_name) over by_customer as previous_name,
        lag(customers.segment) over by_customer as previous_segment,
        lag(customers.region) over by_customer as previous_region,
        row_number() over by_customer as observation_no,
    from customers
    inner join snapshots on customers.snapshot_at = snapshots.snapshot_at
    window by_customer as (partition by customers.customer_id order by customers.snapshot_at)
),

flagged as (
    select
        *,
        -- a new version starts with the first sighting, after a gap, or when an attribute changes
        (
            observation_no = 1
            or previous_next_snapshot_at is distinct from snapshot_at
            or customer_email is distinct from previous_email
            or customer_name is distinct from previous_name
            or segment is distinct from previous_segment
            or region is distinct from previous_region
        ) as is_version_start,
    from observed
),

numbered as (
    select
        *,
        sum(is_version_start::integer) over (
            partition by customer_id order by snapshot_at rows between unbounded preceding and current row
        ) as version_no,
    from flagged
),

versions as (
    select
        customer_id,
        version_no,
        any_value(customer_email) as customer_email,
        any_value(customer_name) as customer_name,
        any_value(segment) as segment,
        any_value(region) as region,
        min(created_at) as created_at,
        min(snapshot_at) as first_snapshot_at,
        max(snapshot_at) as last_snapshot_at,
    from numbered
    group by customer_id, version_no
),

closed as (
    select
        versions.*,
        -- the snapshot after the version's last one: the first that no longer shows it as it was
        snapshots.next_snapshot_at as closed_at,
    from versions
    inner join snapshots on versions.last_snapshot_at = snapshots.snapshot_at
),

final as (
    select
        customer_id,
        version_no,
        customer_email,
        customer_name,
        segment,
        region,
        case
            when version_no = 1 then least(coalesce(created_at, first_snapshot_at), first_snapshot_at)
            else first_snapshot_at
        end as valid_from,
        closed_at as valid_to,
        closed_at is null as is_current,
        first_snapshot_at,
        last_snapshot_at,
    from closed
)

select * from final
