{{
    config(
        materialized='incremental',
        unique_key='invoice_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

with

issued as (
    select * from {{ ref('stg_finance__invoices_issued') }}
),

{% if is_incremental() %}
-- invoices touched by an event that landed (or happened) within the lookback window before
-- the last build: landing time, so an event days late still reaches its invoice
watermark as (
    select
        max(_built_at) - interval '{{ var("lookback_hours") }} hours' as since,
    from {{ this }}
),

touched as (
    select issued.invoice_id
    from issued
    cross join watermark
    where issued.ingested_at >= watermark.since or issued.issued_at >= watermark.since
),
{% endif %}

first_issued as (
    select * from issued
    {% if is_incremental() %} where invoice_id in (select invoice_id from touched) {% endif %}
    qualify row_number() over (partition by invoice_id order by issued_at, event_id) = 1
),

final as (
    select
        invoice_id,
        order_id,
        invoice_amount,
        currency,
        issued_at,
        due_date,
        ingested_at as _built_at,
    from first_issued
)

select * from final
