"""Observed structure: datasets, columns and lineage from a manifest, a warehouse and compiled SQL."""

from __future__ import annotations

import dataclasses

import duckdb
import pytest

from catalog.inventory import (
    Inventory,
    Warehouse,
    allowed_upstreams,
    build_datasets,
    build_inventory,
    compiled_lineage,
    read_warehouse,
    schema_hash,
)
from catalog.sql_reads import Reads, Schema
from catalog.store import ColumnLineageRow, ColumnRow, DatasetRow, LineageRow
from tests.catalog.catalog_world import declarations, manifest, warehouse


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return build_inventory(manifest(), warehouse(), declarations().owners)


def test_inventory_models_carry_domain_access_materialisation_and_relation(inventory: Inventory) -> None:
    result = [inventory.datasets[n] for n in ("finance_invoices", "int_orders_enriched", "order_to_cash")]
    expected = [
        DatasetRow(
            "finance_invoices",
            "public.finance_invoices",
            "public",
            "finance",
            "finance-team",
            "finance@shop.example",
            "public",
            "table",
            "finance_invoices model",
        ),
        DatasetRow(
            "int_orders_enriched",
            None,
            "intermediate",
            "sales",
            "sales-team",
            "sales@shop.example",
            "private",
            "ephemeral",
            "int_orders_enriched model",
        ),
        DatasetRow(
            "order_to_cash",
            "marts.order_to_cash",
            "marts",
            "analytics",
            "platform-team",
            "platform@shop.example",
            "public",
            "table",
            "order_to_cash model",
        ),
    ]
    assert result == expected


def test_inventory_sources_are_landed_datasets_named_domain_dot_table(inventory: Inventory) -> None:
    result = sorted(
        (d.dataset, d.relation, d.layer, d.access, d.materialized)
        for d in inventory.datasets.values()
        if d.layer == "raw" and d.domain
    )
    expected = [
        ("finance.events", "raw_finance.events", "raw", "private", "landed"),
        ("sales.customers", "raw_sales.customers", "raw", "private", "landed"),
        ("sales.events", "raw_sales.events", "raw", "private", "landed"),
    ]
    assert result == expected


def test_inventory_relation_nobody_describes_is_a_dataset_without_domain(inventory: Inventory) -> None:
    result = [(d.dataset, d.domain, d.owner_contact) for d in inventory.datasets.values() if d.domain is None]
    assert result == [("raw_sales.tmp_backup", None, None)]


def test_inventory_bookkeeping_schemas_are_not_datasets(inventory: Inventory) -> None:
    assert "ops.query_log" not in inventory.datasets


def test_inventory_columns_take_types_from_warehouse_and_pii_from_meta(inventory: Inventory) -> None:
    result = [c for c in inventory.columns if c.dataset in ("sales.customers", "order_to_cash")]
    expected = [
        ColumnRow("order_to_cash", "order_id", "VARCHAR", False, None),
        ColumnRow("order_to_cash", "amount", "VARCHAR", False, None),
        ColumnRow("order_to_cash", "invoice_id", "VARCHAR", False, None),
        ColumnRow("order_to_cash", "customer_email", "VARCHAR", True, None),
        ColumnRow("sales.customers", "customer_id", "VARCHAR", False, None),
        ColumnRow("sales.customers", "email", "VARCHAR", True, None),
    ]
    assert result == expected


def test_inventory_documented_column_missing_from_warehouse_is_kept() -> None:
    doc = manifest()
    doc["nodes"]["model.shop.sales_orders"]["columns"]["currency"] = {"name": "currency", "data_type": "varchar"}
    result = [c for c in build_datasets(doc, warehouse(), declarations().owners).columns if c.dataset == "sales_orders"]
    expected = [
        ColumnRow("sales_orders", "order_id", "VARCHAR", False, "the order"),
        ColumnRow("sales_orders", "amount", "VARCHAR", False, None),
        ColumnRow("sales_orders", "currency", "varchar", False, None),
    ]
    assert result == expected


def test_inventory_lineage_has_dbt_sql_and_dagster_edges(inventory: Inventory) -> None:
    result = {via: sum(1 for e in inventory.lineage if e.via == via) for via in ("dbt", "sql", "dagster")}
    assert result == {"dbt": 10, "sql": 1, "dagster": 6}


def test_inventory_hard_coded_relation_is_a_sql_edge(inventory: Inventory) -> None:
    result = [e for e in inventory.lineage if e.via == "sql"]
    assert result == [LineageRow("stg_sales__customers", "order_to_cash", "sql")]


def test_inventory_inputs_of_an_inlined_ephemeral_model_are_not_hard_coded() -> None:
    result = allowed_upstreams(manifest())["sales_orders"]
    assert result == {"int_orders_enriched", "stg_sales__orders"}


def test_inventory_dagster_edges_feed_landed_datasets_and_serving(inventory: Inventory) -> None:
    result = sorted((e.upstream, e.downstream) for e in inventory.lineage if e.via == "dagster")
    expected = [
        ("finance_invoices", "serving"),
        ("landing/finance/events", "finance.events"),
        ("landing/sales/events", "sales.events"),
        ("landing/sales/extracts/customers", "sales.customers"),
        ("order_to_cash", "serving"),
        ("sales_orders", "serving"),
    ]
    assert result == expected


def test_inventory_column_lineage_names_datasets_and_roles(inventory: Inventory) -> None:
    result = [e for e in inventory.column_lineage if e.downstream == "order_to_cash"]
    expected = [
        ColumnLineageRow("finance_invoices", "invoice_id", "order_to_cash", "invoice_id", "projection"),
        ColumnLineageRow("finance_invoices", "order_id", "order_to_cash", "*", "join"),
        ColumnLineageRow("sales_orders", "amount", "order_to_cash", "amount", "projection"),
        ColumnLineageRow("sales_orders", "order_id", "order_to_cash", "*", "join"),
        ColumnLineageRow("sales_orders", "order_id", "order_to_cash", "order_id", "projection"),
        ColumnLineageRow("stg_sales__customers", "customer_email", "order_to_cash", "customer_email", "projection"),
        ColumnLineageRow("stg_sales__customers", "customer_id", "order_to_cash", "*", "join"),
    ]
    assert result == expected


def test_inventory_incremental_model_reading_itself_is_no_edge() -> None:
    doc = manifest()
    node = doc["nodes"]["model.shop.stg_sales__orders"]
    node["compiled_code"] += ' and time > (select max(placed_at) from "warehouse".staging.stg_sales__orders)'
    inventory = build_inventory(doc, warehouse(), declarations().owners)
    result = [e for e in inventory.column_lineage if e.upstream == "stg_sales__orders" == e.downstream]
    result += [e for e in inventory.lineage if e.upstream == e.downstream]
    assert result == []


def test_inventory_model_whose_sql_cannot_be_read_is_a_problem_not_a_crash() -> None:
    def broken(sql: str, schema: Schema) -> Reads:
        raise ValueError("boom\nsecond line")

    tables, columns, problems = compiled_lineage(manifest(), warehouse().schema(), {}, read=broken)
    assert (tables, columns, len(problems), problems[0]) == (
        [],
        [],
        7,
        "model finance_invoices: cannot read its compiled SQL (ValueError: boom)",
    )


def test_inventory_manifest_without_compiled_sql_is_one_problem() -> None:
    doc = manifest()
    for node in doc["nodes"].values():
        del node["compiled_code"]
    result = compiled_lineage(doc, warehouse().schema(), {})
    assert result == (
        [],
        [],
        ["the dbt manifest has no compiled SQL: no column lineage, hard-coded relations not checked"],
    )


def test_inventory_schema_hash_changes_with_a_column() -> None:
    before = warehouse()
    relations = dict(before.relations)
    relations["public.sales_orders"] = (*relations["public.sales_orders"], ("currency", "VARCHAR"))
    after = dataclasses.replace(before, relations=relations)
    result = schema_hash(before.schema(), {}) == schema_hash(after.schema(), {})
    assert result is False


def test_inventory_read_warehouse_lists_relations_columns_and_views() -> None:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA staging; CREATE TABLE staging.t (A INTEGER, b VARCHAR)")
    con.execute("CREATE VIEW staging.v AS SELECT a FROM staging.t")
    result = read_warehouse(con)
    assert (result.relations, sorted(result.views), result.database) == (
        {"staging.t": (("A", "INTEGER"), ("b", "VARCHAR")), "staging.v": (("A", "INTEGER"),)},
        ["staging.v"],
        "memory",
    )


def test_inventory_warehouse_schema_lowers_columns_and_knows_the_database() -> None:
    result = Warehouse({"staging.t": (("A", "INTEGER"),)}, database="Agora").schema()
    assert (result.relations, result.databases[0]) == ({"staging.t": ("a",)}, "agora")
