-- Test suites as of the latest landed snapshot.
with

test_suites as (
    select * from {{ ref('stg_qa__test_suites') }}
),

latest_snapshot as (
    select max(snapshot_at) as snapshot_at from test_suites
),

final as (
    select
        test_suites.suite_id,
        test_suites.service_id,
        test_suites.suite_name,
        test_suites.kind,
        test_suites.test_count,
    from test_suites
    inner join latest_snapshot on test_suites.snapshot_at = latest_snapshot.snapshot_at
)

select * from final
