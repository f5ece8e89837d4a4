-- One row per service per landed snapshot (contract: catalog/contracts/extracts/devops.services.yml).
with

services as (
    select * from {{ source('raw_devops', 'services') }}
),

typed as (
    select
        service_id,
        name as service_name,
        owner_domain,
        tier,
        _snapshot_at at time zone 'UTC' as snapshot_at,
        _ingested_at at time zone 'UTC' as ingested_at,
    from services
),

final as (
    select * from typed
    -- a snapshot re-landed keeps its first landing
    qualify row_number() over (partition by snapshot_at, service_id order by ingested_at) = 1
)

select * from final
