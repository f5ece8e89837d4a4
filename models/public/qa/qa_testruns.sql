{{
    config(
        materialized='incremental',
        unique_key='testrun_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

with

completed as not materialized (
    select * from {{ ref('stg_qa__testruns_completed') }}
),

{% if is_incremental() %}
-- test runs touched by any event within the lookback window before the last build, by
-- landing time (late events) and by event time
watermark as (
    select
        {{ watermark_columns('_built_at') }}
        max(completed_at) - interval '{{ var("lookback_hours") }} hours' as event_since,
    from {{ this }}
),

touched as (
    select completed.testrun_id
    from completed
    cross join watermark
    where {{ landed_after('completed.ingested_at') }} or completed.completed_at >= watermark.event_since
),
{% endif %}

first_completed as (
    select * from completed
    {% if is_incremental() %} where testrun_id in (select testrun_id from touched) {% endif %}
    qualify row_number() over (partition by testrun_id order by completed_at, event_id) = 1
),

final as (
    select
        testrun_id,
        suite_id,
        service_id,
        version,
        tests_passed,
        tests_failed,
        duration_seconds,
        completed_at,
        tests_failed = 0 as is_green,
        ingested_at as _built_at,
    from first_completed
)

select * from final
