{{
    config(
        materialized='incremental',
        unique_key='incident_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

with

opened as not materialized (
    select * from {{ ref('stg_devops__incidents_opened') }}
),

resolved as not materialized (
    select * from {{ ref('stg_devops__incidents_resolved') }}
),

{% if is_incremental() %}
-- incidents touched by any event within the lookback window before the last build, by
-- landing time (late events) and by event time
watermark as (
    select
        {{ watermark_columns('_built_at') }}
        max(greatest(opened_at, resolved_at)) - interval '{{ var("lookback_hours") }} hours' as event_since,
    from {{ this }}
),

touched as (
    select opened.incident_id
    from opened
    cross join watermark
    where {{ landed_after('opened.ingested_at') }} or opened.opened_at >= watermark.event_since
    union
    select resolved.incident_id
    from resolved
    cross join watermark
    where {{ landed_after('resolved.ingested_at') }} or resolved.resolved_at >= watermark.event_since
),
{% endif %}

first_opened as (
    select * from opened
    {% if is_incremental() %} where incident_id in (select incident_id from touched) {% endif %}
    qualify row_number() over (partition by incident_id order by opened_at, event_id) = 1
),

first_resolved as (
    select * from resolved
    {% if is_incremental() %} where incident_id in (select incident_id from touched) {% endif %}
    qualify row_number() over (partition by incident_id order by resolved_at, event_id) = 1
),

final as (
    select
        first_opened.incident_id,
        first_opened.service_id,
        first_opened.deployment_id,
        first_opened.severity,
        first_opened.opened_at,
        first_resolved.resolved_at,
        first_resolved.incident_id is not null as is_resolved,
        (epoch(first_resolved.resolved_at - first_opened.opened_at) / 3600.0)::double as time_to_restore_hours,
        greatest(first_opened.ingested_at, first_resolved.ingested_at) as _built_at,
    from first_opened
    left join first_resolved on first_opened.incident_id = first_resolved.incident_id
)

select * from final
