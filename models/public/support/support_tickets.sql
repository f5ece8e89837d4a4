{{
    config(
        materialized='incremental',
        unique_key='ticket_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

with

opened as not materialized (
    select * from {{ ref('stg_support__tickets_opened') }}
),

resolved as not materialized (
    select * from {{ ref('stg_support__tickets_resolved') }}
),

-- "still open past the SLA" is judged at the latest event time support has sent us, not at
-- the wall clock, so a rebuild of the same data gives the same answer
latest_event as (
    select max(event_at) as latest_event_at
    from (
        select opened_at as event_at from opened
        union all
        select resolved_at as event_at from resolved
    )
),

{% if is_incremental() %}
-- tickets touched by any event within the lookback window before the last build, by landing
-- time (late events) and by event time; plus every ticket still open, because its breach
-- status moves with the latest event time even when none of its own events arrive
watermark as (
    select
        {{ watermark_columns('_built_at') }}
        max(greatest(opened_at, resolved_at)) - interval '{{ var("lookback_hours") }} hours' as event_since,
    from {{ this }}
),

touched as (
    select opened.ticket_id
    from opened
    cross join watermark
    where {{ landed_after('opened.ingested_at') }} or opened.opened_at >= watermark.event_since
    union
    select resolved.ticket_id
    from resolved
    cross join watermark
    where {{ landed_after('resolved.ingested_at') }} or resolved.resolved_at >= watermark.event_since
    union
    select ticket_id from {{ this }} where not is_resolved
),
{% endif %}

first_opened as (
    select * from opened
    {% if is_incremental() %} where ticket_id in (select ticket_id from touched) {% endif %}
    qualify row_number() over (partition by ticket_id order by opened_at, event_id) = 1
),

first_resolved as (
    select * from resolved
    {% if is_incremental() %} where ticket_id in (select ticket_id from touched) {% endif %}
    qualify row_number() over (partition by ticket_id order by resolved_at, event_id) = 1
),

joined as (
    select
        first_opened.ticket_id,
        first_opened.customer_id,
        first_opened.order_id,
        first_opened.priority,
        first_opened.channel,
        first_opened.opened_at,
        first_resolved.resolved_at,
        first_resolved.agent_id as resolved_by_agent_id,
        first_resolved.resolution,
        first_resolved.ticket_id is not null as is_resolved,
        epoch(first_resolved.resolved_at - first_opened.opened_at) / 3600.0 as resolution_hours,
        case first_opened.priority
            when 'urgent' then 4
            when 'high' then 24
            when 'normal' then 72
            when 'low' then 120
        end as sla_hours,
        latest_event.latest_event_at,
        greatest(first_opened.ingested_at, first_resolved.ingested_at) as _built_at,
    from first_opened
    left join first_resolved on first_opened.ticket_id = first_resolved.ticket_id
    cross join latest_event
),

final as (
    select
        ticket_id,
        customer_id,
        order_id,
        priority,
        channel,
        opened_at,
        resolved_at,
        resolved_by_agent_id,
        resolution,
        is_resolved,
        resolution_hours::double as resolution_hours,
        sla_hours::integer as sla_hours,
        case
            when is_resolved then resolution_hours > sla_hours
            else latest_event_at > opened_at + to_hours(sla_hours)
        end as is_sla_breached,
        _built_at,
    from joined
)

select * from final
