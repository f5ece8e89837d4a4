-- One row per product in each landed products snapshot (contract: catalog/contracts/extracts/sales.products.yml).
with

products as (
    select * from {{ source('raw_sales', 'products') }}
),

typed as (
    select
        product_id,
        name as product_name,
        category,
        list_price::decimal(18, 2) as list_price,
        currency,
        is_active,
        _snapshot_at at time zone 'UTC' as snapshot_at,
        _ingested_at at time zone 'UTC' as ingested_at,
        _row_no as row_no,
    from products
),

final as (
    select
        product_id,
        product_name,
        category,
        list_price,
        currency,
        is_active,
        snapshot_at,
        ingested_at,
    from typed
    -- a snapshot landed twice keeps its latest landing
    qualify row_number() over (partition by snapshot_at, product_id order by ingested_at desc, row_no desc) = 1
)

select * from final
