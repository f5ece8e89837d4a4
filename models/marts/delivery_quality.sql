-- One row per service and ISO week (Monday start) with any deployment, incident or test run:
-- DORA-style delivery figures (DevOps) next to test pass rates (QA).
with

services as (
    select * from {{ ref('devops_services') }}
),

deployments as (
    select * from {{ ref('devops_deployments') }}
),

incidents as (
    select * from {{ ref('devops_incidents') }}
),

testruns as (
    select * from {{ ref('qa_testruns') }}
),

incident_causing_deployments as (
    select distinct incidents.deployment_id,
    from incidents
),

-- a deployment failed if it says so, or if it shipped a change that caused an incident
deployments_classified as (
    select
        deployments.deployment_id,
        deployments.service_id,
        date_trunc('week', deployments.deployed_at)::date as week_start,
        deployments.lead_time_hours,
        (
            deployments.status in ('failed', 'rolled_back')
            or incident_causing_deployments.deployment_id is not null
        ) as is_failed,
    from deployments
    left join incident_causing_deployments
        on deployments.deployment_id = incident_causing_deployments.deployment_id
),

deployments_per_week as (
    select
        deployments_classified.service_id,
        deployments_classified.week_start,
        count(*) as deployments,
        count(*) filter (where deployments_classified.is_failed) as failed_deployments,
        round(median(deployments_classified.lead_time_hours), 2) as median_lead_time_hours,
    from deployments_classified
    group by deployments_classified.service_id, deployments_classified.week_start
),

incidents_per_week as (
    select
        incidents.service_id,
        date_trunc('week', incidents.opened_at)::date as week_start,
        count(*) as incidents,
        -- through decimal: an exact sum does not depend on the order rows arrive in
        round(
            avg(incidents.time_to_restore_hours::decimal(18, 6)) filter (where incidents.is_resolved), 2
        ) as mean_time_to_restore_hours,
    from incidents
    group by incidents.service_id, date_trunc('week', incidents.opened_at)::date
),

testruns_per_week as (
    select
        testruns.service_id,
        date_trunc('week', testruns.completed_at)::date as week_start,
        count(*) as testruns,
        count(*) filter (where testruns.is_green) as green_testruns,
    from testruns
    group by testruns.service_id, date_trunc('week', testruns.completed_at)::date
),

service_weeks as (
    select service_id, week_start from deployments_per_week
    union
    select service_id, week_start from incidents_per_week
    union
    select service_id, week_start from testruns_per_week
),

final as (
    select
        (service_weeks.service_id || '/' || strftime(service_weeks.week_start, '%Y-%m-%d'))::varchar as service_week_id,
        service_weeks.service_id::varchar as service_id,
        services.service_name::varchar as service_name,
        services.owner_domain::varchar as owner_domain,
        service_weeks.week_start::date as week_start,
        coalesce(deployments_per_week.deployments, 0)::integer as deployments,
        coalesce(deployments_per_week.failed_deployments, 0)::integer as failed_deployments,
        round(deployments_per_week.failed_deployments / deployments_per_week.deployments, 4)::double
            as change_failure_rate,
        deployments_per_week.median_lead_time_hours::double as median_lead_time_hours,
        coalesce(incidents_per_week.incidents, 0)::integer as incidents,
        incidents_per_week.mean_time_to_restore_hours::double as mean_time_to_restore_hours,
        coalesce(testruns_per_week.testruns, 0)::integer as testruns,
        round(testruns_per_week.green_testruns / testruns_per_week.testruns, 4)::double as test_pass_rate,
    from service_weeks
    left join services on service_weeks.service_id = services.service_id
    left join deployments_per_week
        on service_weeks.service_id = deployments_per_week.service_id
        and service_weeks.week_start = deployments_per_week.week_start
    left join incidents_per_week
        on service_weeks.service_id = incidents_per_week.service_id
        and service_weeks.week_start = incidents_per_week.week_start
    left join testruns_per_week
        on service_weeks.service_id = testruns_per_week.service_id
        and service_weeks.week_start = testruns_per_week.week_start
)

select * from final
