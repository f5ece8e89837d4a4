with

fx_rates as (
    select * from {{ ref('stg_finance__fx_rates') }}
),

final as (
    select
        currency,
        rate_date,
        rate_to_eur,
        -- landing of the snapshot the rate comes from: marts recompute what a new rate moves
        ingested_at as _built_at,
    from fx_rates
    -- a day restated by a later snapshot takes the latest value
    qualify row_number() over (partition by currency, rate_date order by snapshot_at desc) = 1
)

select * from final
