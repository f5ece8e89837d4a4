-- Every deployment, incident and test run falls in exactly one service week. Returns a row when
-- a total differs.
-- Dagster shows it as an asset check of delivery_quality (the test reads several models).
{{ config(meta={'dagster': {'ref': {'name': 'delivery_quality'}}}) }}

with

delivery_quality as (
    select * from {{ ref('delivery_quality') }}
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

final as (
    select
        (select coalesce(sum(delivery_quality.deployments), 0) from delivery_quality) as mart_deployments,
        (select count(*) from deployments) as devops_deployments,
        (select coalesce(sum(delivery_quality.incidents), 0) from delivery_quality) as mart_incidents,
        (select count(*) from incidents) as devops_incidents,
        (select coalesce(sum(delivery_quality.testruns), 0) from delivery_quality) as mart_testruns,
        (select count(*) from testruns) as qa_testruns,
)

select * from final
where
    mart_deployments != devops_deployments
    or mart_incidents != devops_incidents
    or mart_testruns != qa_testruns
