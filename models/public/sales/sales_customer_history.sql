with

versions as (
    select * from {{ ref('int_customers_versioned') }}
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
    from versions
)

select * from final
