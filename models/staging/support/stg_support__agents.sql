-- One row per agent per landed snapshot (contract: catalog/contracts/extracts/support.agents.yml).
with

agents as (
    select * from {{ source('raw_support', 'agents') }}
),

typed as (
    select
        agent_id,
        team,
        hired_on::date as hired_on,
        is_active::boolean as is_active,
        _snapshot_at at time zone 'UTC' as snapshot_at,
        _ingested_at at time zone 'UTC' as ingested_at,
    from agents
),

final as (
    select * from typed
    -- a snapshot re-landed keeps its first landing
    qualify row_number() over (partition by snapshot_at, agent_id order by ingested_at) = 1
)

select * from final
