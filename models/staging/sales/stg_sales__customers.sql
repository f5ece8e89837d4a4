-- One row per customer in each landed customers snapshot (contract: catalog/contracts/extracts/sales.customers.yml).
-- Personal data: customer_email and customer_name.
with

customers as (
    select * from {{ source('raw_sales', 'customers') }}
),

typed as (
    select
        customer_id,
        email as customer_email,
        name as customer_name,
        segment,
        region,
        created_at at time zone 'UTC' as created_at,
        _snapshot_at at time zone 'UTC' as snapshot_at,
        _ingested_at at time zone 'UTC' as ingested_at,
        _row_no as row_no,
    from customers
),

final as (
    select
        customer_id,
        customer_email,
        customer_name,
        segment,
        region,
        created_at,
        snapshot_at,
        ingested_at,
    from typed
    -- a snapshot landed twice keeps its latest landing
    qualify row_number() over (partition by snapshot_at, customer_id order by ingested_at desc, row_no desc) = 1
)

select * from final
