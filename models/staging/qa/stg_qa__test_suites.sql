-- One row per test suite per landed snapshot (contract: catalog/contracts/extracts/qa.test_suites.yml).
with

test_suites as (
    select * from {{ source('raw_qa', 'test_suites') }}
),

typed as (
    select
        suite_id,
        service_id,
        name as suite_name,
        kind,
        test_count::integer as test_count,
        _snapshot_at at time zone 'UTC' as snapshot_at,
        _ingested_at at time zone 'UTC' as ingested_at,
    from test_suites
),

final as (
    select * from typed
    -- a snapshot re-landed keeps its first landing
    qualify row_number() over (partition by snapshot_at, suite_id order by ingested_at) = 1
)

select * from final
