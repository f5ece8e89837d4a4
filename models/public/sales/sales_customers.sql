with

customers as (
    select * from {{ ref('stg_sales__customers') }}
),

latest as (
    -- each customer as its latest snapshot shows it; one dropped from the master keeps its last state
    select * from customers
    qualify row_number() over (partition by customer_id order by snapshot_at desc) = 1
),

final as (
    select
        customer_id,
        customer_email,
        customer_name,
        segment,
        region,
        created_at,
        snapshot_at as last_snapshot_at,
        ingested_at as _built_at,
    from latest
)

select * from final
