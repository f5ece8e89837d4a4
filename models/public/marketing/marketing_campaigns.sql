with

campaigns as (
    select * from {{ ref('stg_marketing__campaigns') }}
),

launched as (
    select * from {{ ref('stg_marketing__campaigns_launched') }}
),

latest_snapshot as (
    select max(snapshot_at) as snapshot_at from campaigns
),

latest_campaigns as (
    select campaigns.*
    from campaigns
    inner join latest_snapshot on campaigns.snapshot_at = latest_snapshot.snapshot_at
),

first_launch as (
    select * from launched
    qualify row_number() over (partition by campaign_id order by launched_at, event_id) = 1
),

final as (
    select
        latest_campaigns.campaign_id,
        latest_campaigns.campaign_name,
        latest_campaigns.channel,
        latest_campaigns.budget,
        latest_campaigns.currency,
        latest_campaigns.start_date,
        latest_campaigns.end_date,
        -- campaigns live before the launch events were recorded have none
        first_launch.launched_at,
        latest_campaigns.objective,
    from latest_campaigns
    left join first_launch on latest_campaigns.campaign_id = first_launch.campaign_id
)

select * from final
