with

products as (
    select * from {{ ref('stg_sales__products') }}
),

latest_snapshot as (
    select max(snapshot_at) as snapshot_at from products
),

final as (
    select
        products.product_id,
        products.product_name,
        products.category,
        products.list_price,
        products.currency,
        products.is_active,
    from products
    inner join latest_snapshot on products.snapshot_at = latest_snapshot.snapshot_at
)

select * from final
