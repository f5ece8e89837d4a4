with

versions as (
    select * from {{ ref('int_customers_versioned') }}
),

-- any landed snapshot may open or close versions: the whole history is as of the latest landing
snapshots as (
    select max(ingested_at) as landed_at from {{ ref('stg_sales__customers') }}
),

final as (
    select
        customer_id,
        customer_email,
        customer_name,
        segment,
        region,
        valid_from,
        valid_to,
        is_current,
        snapshots.landed_at as _built_at,
    from versions
    cross join snapshots
)

select * from final
