-- Services as of the latest landed snapshot of the registry.
with

services as (
    select * from {{ ref('stg_devops__services') }}
),

latest_snapshot as (
    select max(snapshot_at) as snapshot_at from services
),

final as (
    select
        services.service_id,
        services.service_name,
        services.owner_domain,
        services.tier,
    from services
    inner join latest_snapshot on services.snapshot_at = latest_snapshot.snapshot_at
)

select * from final
