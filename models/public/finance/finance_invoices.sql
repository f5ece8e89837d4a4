{{
    config(
        materialized='incremental',
        unique_key='invoice_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

with

issued as not materialized (
    select * from {{ ref('stg_finance__invoices_issued') }}
),

{% if is_incremental() %}
-- invoices touched by an event that landed after what this model has seen (macros/incremental.sql):
-- landing time, not event time, so an event days late still reaches its invoice
watermark as (
    select {{ watermark_columns('_built_at') }}
    from {{ this }}
),

touched as (
    select issued.invoice_id
    from issued
    cross join watermark
    where {{ landed_after('issued.ingested_at') }}
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
