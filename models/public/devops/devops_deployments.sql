{{
    config(
        materialized='incremental',
        unique_key='deployment_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

with

finished as not materialized (
    select * from {{ ref('stg_devops__deployments_finished') }}
),

{% if is_incremental() %}
-- deployments touched by any event within the lookback window before the last build, by
-- landing time (late events) and by event time
watermark as (
    select
        {{ watermark_columns('_built_at') }}
        max(deployed_at) - interval '{{ var("lookback_hours") }} hours' as event_since,
    from {{ this }}
),

touched as (
    select finished.deployment_id
    from finished
    cross join watermark
    where {{ landed_after('finished.ingested_at') }} or finished.deployed_at >= watermark.event_since
),
{% endif %}

first_finished as (
    select * from finished
    {% if is_incremental() %} where deployment_id in (select deployment_id from touched) {% endif %}
    qualify row_number() over (partition by deployment_id order by deployed_at, event_id) = 1
),

final as (
    select
        deployment_id,
        service_id,
        version,
        status,
        commit_sha,
        committed_at,
        deployed_at,
        (epoch(deployed_at - committed_at) / 3600.0)::double as lead_time_hours,
        ingested_at as _built_at,
    from first_finished
)

select * from final
