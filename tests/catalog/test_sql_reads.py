"""The SQL-reads corpus (tests/catalog/cases/): hand-written expected reads for analyst-style
queries over Agora's warehouse, and column-lineage edges; plus robustness of the analysis.

Table level must be exact for every case. A column case that cannot be fixed carries
`known_miss: <why>` in its YAML; the test asserts that exactly those cases miss, so a fix shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog.sql_reads import ColumnEdge, Reads, Schema, column_lineage, reads

CASES = Path(__file__).parent / "cases"
NOT_CASES = {"schema.yml", "lineage.yml"}
FAMILIES = {
    "ctes",
    "aliases",
    "identifiers",
    "qualified",
    "subqueries",
    "set_operations",
    "windows",
    "laterals",
    "stars",
    "views",
    "duckdb",
    "clauses",
    "unknown",
    "statements",
}


def _load_schema() -> Schema:
    raw = yaml.safe_load((CASES / "schema.yml").read_text())
    return Schema(
        relations={name: tuple(columns) for name, columns in raw["relations"].items()},
        views=dict(raw.get("views") or {}),
        search_path=tuple(raw["search_path"]),
    )


def _load_cases() -> list[dict[str, Any]]:
    cases = []
    for path in sorted(CASES.glob("*.yml")):
        if path.name in NOT_CASES:
            continue
        for case in yaml.safe_load(path.read_text()):
            cases.append({**case, "family": path.stem, "id": f"{path.stem}:{case['name']}"})
    return cases


SCHEMA = _load_schema()
CORPUS = _load_cases()
LINEAGE = yaml.safe_load((CASES / "lineage.yml").read_text())


def _read(case: dict[str, Any]) -> Reads:
    return reads(case["sql"], SCHEMA, expand_views=bool(case.get("expand_views")))


def _columns(result: Reads) -> set[str]:
    return {f"{table}.{column}" for table, column in result.columns}


@pytest.mark.parametrize("case", CORPUS, ids=[c["id"] for c in CORPUS])
def test_sql_reads_tables_exact(case: dict[str, Any]) -> None:
    result = _read(case)
    assert sorted(result.tables) == sorted(case["tables"])
    assert sorted(result.unknown) == sorted(case.get("unknown", []))
    assert result.partial == case.get("partial", False), result.error


@pytest.mark.parametrize("case", CORPUS, ids=[c["id"] for c in CORPUS])
def test_sql_reads_columns_exact(case: dict[str, Any]) -> None:
    result = _columns(_read(case))
    expected = set(case["columns"])
    if case.get("known_miss"):
        assert result != expected, f"{case['id']} now passes: remove its known_miss"
    else:
        assert sorted(result) == sorted(expected)


def test_sql_reads_corpus_precision_and_recall() -> None:
    """Micro-averaged over the corpus: tables 100 %; columns 100 % outside the known misses."""
    counts = {"tables": [0, 0, 0], "columns": [0, 0, 0]}  # true positives, found, expected
    missed = set()
    for case in CORPUS:
        result = _read(case)
        for level, found, expected in (
            ("tables", set(result.tables), set(case["tables"])),
            ("columns", _columns(result), set(case["columns"])),
        ):
            if level == "columns" and found != expected:
                missed.add(case["id"])
            if level == "columns" and case.get("known_miss"):
                continue
            counts[level][0] += len(found & expected)
            counts[level][1] += len(found)
            counts[level][2] += len(expected)
    for level, (true_positives, found, expected) in counts.items():
        assert true_positives == found == expected, level  # precision and recall both 100 %
    assert missed == {c["id"] for c in CORPUS if c.get("known_miss")}


def test_sql_reads_corpus_covers_every_family() -> None:
    assert len(CORPUS) >= 70
    assert {c["family"] for c in CORPUS} == FAMILIES
    assert len({c["id"] for c in CORPUS}) == len(CORPUS)


def _edge(text: str) -> ColumnEdge:
    source, rest = text.split(" -> ")
    target, role = rest.removesuffix(")").split(" (")
    table, column = source.rsplit(".", 1)
    return ColumnEdge(table, column, target, role)


@pytest.mark.parametrize("case", LINEAGE, ids=[c["name"] for c in LINEAGE])
def test_column_lineage_edges_exact(case: dict[str, Any]) -> None:
    result = column_lineage(case["sql"], SCHEMA)
    expected = sorted(
        {_edge(e) for e in case["edges"]}, key=lambda e: (e.source_table, e.source_column, e.target, e.role)
    )
    assert result == expected


def test_column_lineage_has_no_duplicate_edges() -> None:
    sql = "select order_id, order_id as again from public.sales_orders where order_id > 0 and order_id < 9"
    result = column_lineage(sql, SCHEMA)
    assert result == [
        ColumnEdge("public.sales_orders", "order_id", "*", "filter"),
        ColumnEdge("public.sales_orders", "order_id", "again", "projection"),
        ColumnEdge("public.sales_orders", "order_id", "order_id", "projection"),
    ]


ODD_SQL = [
    "",
    ";",
    "   -- only a comment",
    "select",
    "select foo(",
    "select order_id from sales_orders where order_id in (1, 2",
    "select 'unterminated",
    "explain analyze select order_id from sales_orders",
    "pragma table_info('sales_orders')",
    "attach 'other.duckdb' as other",
    "set search_path = 'marts'",
    "describe sales_orders",
    "copy (select order_id from sales_orders) to 'orders.csv'",
    "with recursive r as (select 1 as n union all select n + 1 from r where n < 10) select * from r",
    "select a.order_id from sales_orders a join sales_customers a on true",
    "select " + "(" * 300 + "1" + ")" * 300 + " from sales_orders",
    "select * from sales_orders where order_id in (" + ", ".join(str(i) for i in range(5000)) + ")",
    "select x from (select 1 as x) t, lateral (select t.x + 1 as y) u",
    "select * from sales_orders pivot (sum(order_amount) for channel in ('web', 'shop'))",
    "select ünïcode, 'ß' from sales_orders",
]


@pytest.mark.parametrize("sql", ODD_SQL, ids=range(len(ODD_SQL)))
def test_sql_reads_never_raise_on_odd_sql(sql: str) -> None:
    result = reads(sql, SCHEMA, expand_views=True)
    edges = column_lineage(sql, SCHEMA)
    assert isinstance(result, Reads)
    assert all(isinstance(e, ColumnEdge) for e in edges)
    assert result.partial == bool(result.error)


def test_reads_unparseable_sql_falls_back_to_tables_named_after_from_and_join() -> None:
    result = reads("select o.order_id from sales_orders o join marts.order_to_cash c using (order_id", SCHEMA)
    assert (result.tables, result.columns, result.partial) == (
        frozenset({"public.sales_orders", "marts.order_to_cash"}),
        frozenset(),
        True,
    )
    assert result.error.startswith("cannot parse:")


def test_reads_too_deeply_nested_sql_is_not_parsed() -> None:
    sql = "select " + "(" * 300 + "1" + ")" * 300 + " from sales_orders"
    result = reads(sql, SCHEMA)
    assert (result.tables, result.partial, result.error) == (
        frozenset({"public.sales_orders"}),
        True,
        "the SQL nests more than 200 parentheses",
    )


def test_reads_unqualifiable_sql_keeps_tables_and_unambiguous_columns() -> None:
    sql = "select a.order_id, c.segment from sales_orders a join sales_customers a on true join customer_360 c on true"
    result = reads(sql, SCHEMA)
    assert result.partial and result.error.startswith("columns not resolved:")
    assert result.tables == {"public.sales_orders", "public.sales_customers", "marts.customer_360"}
    assert result.columns == {("marts.customer_360", "segment")}  # alias a is ambiguous: not attributed


def test_reads_view_cycle_terminates() -> None:
    schema = Schema(
        relations={"main.a": ("x",), "main.b": ("x",)},
        views={"main.a": "select x from main.b", "main.b": "select x from main.a"},
    )
    result = reads("select x from a", schema, expand_views=True)
    assert result.tables == {"main.a", "main.b"}
    assert result.columns == {("main.a", "x"), ("main.b", "x")}


def test_reads_search_path_order_decides_between_schemas() -> None:
    relations = {"public.orders": ("order_id",), "marts.orders": ("order_id",)}
    first = reads("select order_id from orders", Schema(relations, search_path=("marts", "public")))
    second = reads("select order_id from orders", Schema(relations, search_path=("public", "marts")))
    assert (first.tables, second.tables) == ({"marts.orders"}, {"public.orders"})


def test_reads_database_name_without_schema_means_the_default_schema() -> None:
    schema = Schema({"main.orders": ("order_id",)})
    assert reads("select order_id from warehouse.orders", schema).tables == {"main.orders"}


def test_reads_each_schema_object_uses_its_own_relations() -> None:
    """Prepared schemas are cached per object; a new object (even at a reused id) is never stale."""
    for i in range(50):
        schema = Schema({f"main.t{i}": ("c",)})
        result = reads(f"select c from t{i}", schema)
        assert (result.tables, result.unknown) == ({f"main.t{i}"}, frozenset())
        del schema


STALE = Schema(
    {
        # as the dbt manifest documents it: two of the model's twelve columns
        "staging.stg_sales__orders_placed": ("event_id", "order_id"),
        "staging.stg_sales__orders_cancelled": ("event_id", "order_id", "cancelled_at"),
        "public.sales_orders": ("order_id", "customer_id"),
    }
)


def test_reads_column_missing_from_schema_through_cte_star_is_attributed() -> None:
    sql = (
        "with placed as (select * from staging.stg_sales__orders_placed) "
        "select placed.customer_id, channel from placed where placed.order_id is not null"
    )
    result = reads(sql, STALE)
    assert not result.partial
    assert result.columns == {
        ("staging.stg_sales__orders_placed", "customer_id"),
        ("staging.stg_sales__orders_placed", "channel"),
        ("staging.stg_sales__orders_placed", "order_id"),
    }


def test_reads_column_missing_from_schema_of_a_table_is_attributed() -> None:
    result = reads(
        "select s.quantity from public.sales_orders s join staging.stg_sales__orders_placed using (order_id)", STALE
    )
    assert result.columns == {
        ("public.sales_orders", "quantity"),
        ("public.sales_orders", "order_id"),
        ("staging.stg_sales__orders_placed", "order_id"),
    }


def test_column_lineage_of_compiled_model_survives_an_incomplete_schema() -> None:
    case = next(c for c in LINEAGE if c["name"] == "compiled_dbt_model_sales_orders")
    expected = {_edge(e) for e in case["edges"]}
    assert set(column_lineage(case["sql"], STALE)) == expected
