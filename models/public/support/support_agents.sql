-- Support agents as of the latest landed snapshot.
with

agents as (
    select * from {{ ref('stg_support__agents') }}
),

latest_snapshot as (
    select max(snapshot_at) as snapshot_at from agents
),

final as (
    select
        agents.agent_id,
        agents.team,
        agents.hired_on,
        agents.is_active,
    from agents
    inner join latest_snapshot on agents.snapshot_at = latest_snapshot.snapshot_at
)

select * from final
