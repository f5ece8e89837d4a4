-- One row per currency and rate day in each landed fx_rates snapshot
-- (contract: catalog/contracts/extracts/finance.fx_rates.yml).
with

fx_rates as (
    select * from {{ source('raw_finance', 'fx_rates') }}
),

typed as (
    select
        currency,
        rate_date,
        rate_to_eur::decimal(18, 6) as rate_to_eur,
        _snapshot_at at time zone 'UTC' as snapshot_at,
        _ingested_at at time zone 'UTC' as ingested_at,
        _row_no as row_no,
    from fx_rates
),

final as (
    select
        currency,
        rate_date,
        rate_to_eur,
        snapshot_at,
        ingested_at,
    from typed
    -- a snapshot landed twice keeps its latest landing
    qualify row_number() over (
        partition by snapshot_at, currency, rate_date order by ingested_at desc, row_no desc
    ) = 1
)

select * from final
