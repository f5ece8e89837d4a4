-- One row per qa.testrun.completed event (contract: catalog/contracts/events/qa.testrun.completed.yml).
{{
    config(
        materialized='incremental',
        unique_key=['event_source', 'event_id'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

with

events as (
    select * from {{ source('raw_qa', 'events') }}
    where type = 'qa.testrun.completed'
    {% if is_incremental() %}
    and {{ landed_after_literal('_ingested_at') }}
    {% endif %}
),

typed as (
    select
        id as event_id,
        source as event_source,
        data ->> 'testrun_id' as testrun_id,
        data ->> 'suite_id' as suite_id,
        data ->> 'service_id' as service_id,
        data ->> 'version' as version,
        (data ->> 'passed')::integer as tests_passed,
        (data ->> 'failed')::integer as tests_failed,
        (data ->> 'duration_s')::double as duration_seconds,
        time at time zone 'UTC' as completed_at,
        _ingested_at at time zone 'UTC' as ingested_at,
    from events
),

final as (
    select * from typed
    -- landing already keeps one row per (source, id); stay safe if a source is re-landed
    qualify row_number() over (partition by event_source, event_id order by ingested_at) = 1
)

select * from final
