"""A tiny company for catalog unit tests: two domains, a platform, a handful of models.

Built by hand so every expected count in the tests can be checked by reading this file:
- sales: landed `sales.events`, `sales.customers` (email is PII); staging `stg_sales__orders`,
  `stg_sales__customers`; ephemeral `int_orders_enriched`; public `sales_orders`;
- finance: landed `finance.events`; staging `stg_finance__invoices`; public `finance_invoices`,
  which (wrongly) depends on sales' private staging model and on sales' landed customers;
- analytics (platform): mart `order_to_cash`, whose SQL also hard-codes
  `staging.stg_sales__customers` instead of a ref();
- in the warehouse but described by nothing: `raw_sales.tmp_backup` (unowned).
"""

from __future__ import annotations

from pathlib import Path

from catalog.access import Principal
from catalog.declarations import Consumer, Domain, Read
from catalog.inventory import Warehouse
from catalog.validate import Declarations

DB = '"warehouse"'


def _model(
    name: str,
    layer: str,
    group: str,
    materialized: str,
    depends: list[str],
    sql: str,
    columns: dict[str, dict] | None = None,
    access: str = "private",
) -> dict:
    schema = {"staging": "staging", "intermediate": "main", "public": "public", "marts": "marts"}[layer]
    return {
        "resource_type": "model",
        "name": name,
        "alias": name,
        "schema": schema,
        "fqn": ["shop", layer, name],
        "group": group,
        "access": access,
        "config": {"materialized": materialized},
        "description": f"{name} model",
        "columns": columns or {},
        "depends_on": {"nodes": depends},
        "compiled_code": sql,
    }


def _source(domain: str, table: str, columns: dict[str, dict]) -> dict:
    return {
        "resource_type": "source",
        "name": table,
        "identifier": table,
        "source_name": f"raw_{domain}",
        "schema": f"raw_{domain}",
        "meta": {"domain": domain},
        "description": f"{domain} {table}",
        "columns": columns,
    }


def manifest() -> dict:
    nodes = {
        "model.shop.stg_sales__orders": _model(
            "stg_sales__orders",
            "staging",
            "sales",
            "view",
            ["source.shop.raw_sales.events"],
            f"select id as order_id, data ->> 'amount' as amount, time as placed_at from {DB}.raw_sales.events "
            "where type = 'sales.order.placed'",
        ),
        "model.shop.stg_sales__customers": _model(
            "stg_sales__customers",
            "staging",
            "sales",
            "view",
            ["source.shop.raw_sales.customers"],
            f"select customer_id, email as customer_email from {DB}.raw_sales.customers",
        ),
        "model.shop.int_orders_enriched": _model(
            "int_orders_enriched",
            "intermediate",
            "sales",
            "ephemeral",
            ["model.shop.stg_sales__orders"],
            f"select order_id, amount from {DB}.staging.stg_sales__orders",
        ),
        "model.shop.sales_orders": _model(
            "sales_orders",
            "public",
            "sales",
            "table",
            ["model.shop.int_orders_enriched"],
            "with __dbt__cte__int_orders_enriched as ("
            f"select order_id, amount from {DB}.staging.stg_sales__orders) "
            "select order_id, amount from __dbt__cte__int_orders_enriched",
            {"order_id": {"name": "order_id", "description": "the order"}, "amount": {"name": "amount"}},
            access="public",
        ),
        "model.shop.stg_finance__invoices": _model(
            "stg_finance__invoices",
            "staging",
            "finance",
            "view",
            ["source.shop.raw_finance.events"],
            f"select id as invoice_id, data ->> 'order_id' as order_id from {DB}.raw_finance.events",
        ),
        "model.shop.finance_invoices": _model(
            "finance_invoices",
            "public",
            "finance",
            "table",
            ["model.shop.stg_finance__invoices", "model.shop.stg_sales__orders", "source.shop.raw_sales.customers"],
            "select invoices.invoice_id, invoices.order_id, orders.amount "
            f"from {DB}.staging.stg_finance__invoices as invoices "
            f"inner join {DB}.staging.stg_sales__orders as orders on invoices.order_id = orders.order_id "
            f"where invoices.order_id not in (select customer_id from {DB}.raw_sales.customers)",
            access="public",
        ),
        "model.shop.order_to_cash": _model(
            "order_to_cash",
            "marts",
            "analytics",
            "table",
            ["model.shop.sales_orders", "model.shop.finance_invoices"],
            "select orders.order_id, orders.amount, invoices.invoice_id, customers.customer_email "
            f"from {DB}.public.sales_orders as orders "
            f"left join {DB}.public.finance_invoices as invoices on orders.order_id = invoices.order_id "
            f"left join {DB}.staging.stg_sales__customers as customers on orders.order_id = customers.customer_id",
            {"order_id": {"name": "order_id"}, "customer_email": {"name": "customer_email", "meta": {"pii": True}}},
            access="public",
        ),
    }
    sources = {
        "source.shop.raw_sales.events": _source("sales", "events", {}),
        "source.shop.raw_sales.customers": _source(
            "sales",
            "customers",
            {"customer_id": {"name": "customer_id"}, "email": {"name": "email", "meta": {"pii": True}}},
        ),
        "source.shop.raw_finance.events": _source("finance", "events", {}),
    }
    return {"nodes": nodes, "sources": sources}


EVENTS = (("id", "VARCHAR"), ("type", "VARCHAR"), ("time", "TIMESTAMP WITH TIME ZONE"), ("data", "JSON"))


def warehouse() -> Warehouse:
    return Warehouse(
        {
            "raw_sales.events": EVENTS,
            "raw_sales.customers": (("customer_id", "VARCHAR"), ("email", "VARCHAR")),
            "raw_sales.tmp_backup": (("customer_id", "VARCHAR"),),
            "raw_finance.events": EVENTS,
            "staging.stg_sales__orders": (("order_id", "VARCHAR"), ("amount", "VARCHAR"), ("placed_at", "TIMESTAMP")),
            "staging.stg_sales__customers": (("customer_id", "VARCHAR"), ("customer_email", "VARCHAR")),
            "staging.stg_finance__invoices": (("invoice_id", "VARCHAR"), ("order_id", "VARCHAR")),
            "public.sales_orders": (("order_id", "VARCHAR"), ("amount", "VARCHAR")),
            "public.finance_invoices": (("invoice_id", "VARCHAR"), ("order_id", "VARCHAR"), ("amount", "VARCHAR")),
            "marts.order_to_cash": (
                ("order_id", "VARCHAR"),
                ("amount", "VARCHAR"),
                ("invoice_id", "VARCHAR"),
                ("customer_email", "VARCHAR"),
            ),
            "ops.query_log": (("query_id", "VARCHAR"),),
        },
        views={
            "staging.stg_sales__orders": "select 1",
            "staging.stg_sales__customers": "select 1",
            "staging.stg_finance__invoices": "select 1",
        },
    )


def declarations(folder: Path = Path("catalog")) -> Declarations:
    """Consumers `dash`, `notebook` and `orphan` (no principal); principals for the first two,
    a person inheriting the notebook team's consumer, and two principals acting for none."""
    domains = (
        Domain("sales", "sales-team", "sales@shop.example", "", 24),
        Domain("finance", "finance-team", "finance@shop.example", "", 24),
    )
    platform = Domain("analytics", "platform-team", "platform@shop.example", "", 24)
    consumers = (
        Consumer(
            "dash",
            "dashboard",
            "Dash Owner",
            "dash@shop.example",
            "high",
            "",
            "",
            (Read("order_to_cash", ("order_id", "amount")), Read("sales_orders")),
        ),
        Consumer(
            "notebook",
            "analysis",
            "Notebook Owner",
            "notebook@shop.example",
            "medium",
            "",
            "",
            (Read("finance_invoices"), Read("sales.customers", ("customer_id",))),
        ),
        Consumer("orphan", "analysis", "Orphan Owner", "orphan@shop.example", "low", "", "", (Read("order_to_cash"),)),
    )
    principals = {
        p.name: p
        for p in (
            Principal("dash-sa", "service_account", contact="dash@shop.example", consumer="dash"),
            Principal("nb-team", "team", contact="notebook@shop.example", consumer="notebook"),
            Principal("nb-person", "person", contact="person@shop.example", member_of=("nb-team",)),
            Principal("admin", "team", contact="platform@shop.example"),
            Principal("fin-analyst", "team", contact="finance@shop.example"),
        )
    }
    return Declarations(folder, domains, platform, consumers, principals)


# The same company as catalog/*.yml files (for load_declarations and `agora catalog refresh --declarations`).

DOMAINS = """\
domains:
  - {name: sales, team: sales-team, contact: sales@shop.example}
  - {name: finance, team: finance-team, contact: finance@shop.example}
platform: {name: analytics, team: platform-team, contact: platform@shop.example}
"""
CONSUMERS = """\
consumers:
  - name: dash
    owner: {name: Dash Owner, email: dash@shop.example}
    reads:
      - {dataset: order_to_cash, columns: [order_id, amount]}
  - name: notebook
    owner: {name: Notebook Owner, email: notebook@shop.example}
    reads:
      - {dataset: sales.customers, columns: [customer_id]}
"""
ACCESS = """\
roles:
  mart-reader:
    grants: [{dataset: order_to_cash}]
principals:
  - {name: dash-sa, kind: service_account, consumer: dash, roles: [mart-reader]}
  - {name: nb-team, kind: team, consumer: notebook, grants: [{domain: sales}]}
"""


def write_declarations(folder: Path, domains: str = DOMAINS, consumers: str = CONSUMERS, access: str = ACCESS) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "domains.yml").write_text(domains, encoding="utf-8")
    (folder / "consumers.yml").write_text(consumers, encoding="utf-8")
    (folder / "access.yml").write_text(access, encoding="utf-8")
    return folder


def build_home(root: Path) -> Path:
    """A home holding the tiny company's warehouse (every relation a table) and its compiled
    manifest where a build leaves it, so `agora catalog refresh` needs no dbt run."""
    import json

    import duckdb

    root.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    try:
        for relation, columns in warehouse().relations.items():
            schema = relation.split(".", 1)[0]
            if schema == "ops":  # landing creates its own bookkeeping tables
                continue
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            con.execute(f"CREATE TABLE {relation} ({', '.join(f'{c} {t}' for c, t in columns)})")
    finally:
        con.close()
    target = root / "dbt" / "target"
    target.mkdir(parents=True)
    (target / "manifest.json").write_text(json.dumps(manifest()), encoding="utf-8")
    return root
