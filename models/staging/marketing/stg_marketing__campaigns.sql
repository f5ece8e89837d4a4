-- One row per campaign in each landed campaigns snapshot
-- (contract: catalog/contracts/extracts/marketing.campaigns.yml).
{#-
    `objective` is an additive drift: the loader adds it to the raw table only once a snapshot
    carrying it lands, so a warehouse that never saw one has no such column.
-#}
{%- set raw_columns = [] -%}
{%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(source('raw_marketing', 'campaigns')) -%}
        {%- do raw_columns.append(column.name | lower) -%}
    {%- endfor -%}
{%- endif %}
with

campaigns as (
    select * from {{ source('raw_marketing', 'campaigns') }}
),

typed as (
    select
        campaign_id,
        name as campaign_name,
        channel,
        budget::decimal(18, 2) as budget,
        currency,
        start_date,
        end_date,
        {% if 'objective' in raw_columns -%}
        objective::varchar as objective,
        {%- else -%}
        null::varchar as objective,
        {%- endif %}
        _snapshot_at at time zone 'UTC' as snapshot_at,
        _ingested_at at time zone 'UTC' as ingested_at,
        _row_no as row_no,
    from campaigns
),

final as (
    select
        campaign_id,
        campaign_name,
        channel,
        budget,
        currency,
        start_date,
        end_date,
        objective,
        snapshot_at,
        ingested_at,
    from typed
    -- a snapshot landed twice keeps its latest landing
    qualify row_number() over (partition by snapshot_at, campaign_id order by ingested_at desc, row_no desc) = 1
)

select * from final
