"""Findings (hidden, stale, bypass, unowned) and the usage they are derived from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from catalog.findings import Window, bypass_in_dbt, bypass_in_queries, derive_findings, hidden, stale, unowned
from catalog.inventory import Inventory, build_inventory
from catalog.sql_reads import Reads, Schema
from catalog.store import DatasetRow, FindingRow, LineageRow, ShapeRow
from catalog.usage import LogGroup, LogSummary, Use, observe, parse_shape, read_log, resolve_shapes
from pipelines.load_query_log import QUERY_LOG_DDL
from tests.catalog.catalog_world import declarations, manifest, warehouse

WINDOW = Window(30, "2026-10-31 00:00 UTC")


def use(
    principal: str, consumer: str | None, dataset: str, column: str | None = None, decision: str = "allowed"
) -> Use:
    return Use(principal, consumer, dataset, column, decision, 2, ("fp1",))


USES = [
    use("dash-sa", "dash", "order_to_cash"),
    use("dash-sa", "dash", "order_to_cash", "order_id"),
    use("dash-sa", "dash", "order_to_cash", "customer_email"),  # hidden: a column not declared
    use("dash-sa", "dash", "sales_orders"),
    use("dash-sa", "dash", "sales_orders", "amount"),
    use("dash-sa", "dash", "finance_invoices", decision="refused"),  # refused: read nothing
    use("nb-person", "notebook", "finance_invoices"),
    use("nb-person", "notebook", "sales.customers"),  # bypass: sales' landed data
    use("nb-person", "notebook", "sales.customers", "customer_id"),
    use("nb-person", "notebook", "sales.customers", "email"),  # hidden column
    use("admin", None, "sales_orders"),  # hidden: acts for no consumer
    use("fin-analyst", None, "stg_finance__invoices"),  # hidden, but its own domain: no bypass
    use("fin-analyst", None, "stg_sales__orders", decision="refused"),  # bypass even though refused
]


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return build_inventory(manifest(), warehouse(), declarations().owners)


def test_findings_hidden_names_dataset_and_column_level_reads(inventory: Inventory) -> None:
    result = [
        (f.consumer, f.principal, f.dataset, f.column) for f in hidden(USES, declarations(), inventory.datasets, WINDOW)
    ]
    expected = [
        ("dash", "dash-sa", "order_to_cash", "customer_email"),
        ("notebook", "nb-person", "sales.customers", "email"),
        (None, "admin", "sales_orders", None),
        (None, "fin-analyst", "stg_finance__invoices", None),
    ]
    assert result == expected


def test_findings_hidden_tells_producer_and_reader(inventory: Inventory) -> None:
    result = hidden(USES[:3], declarations(), inventory.datasets, WINDOW)
    expected = [
        FindingRow(
            kind="hidden",
            severity="warn",
            dataset="order_to_cash",
            column="customer_email",
            consumer="dash",
            principal="dash-sa",
            notify="dash@shop.example, platform@shop.example",
            detail="consumer dash (principal dash-sa) read order_to_cash.customer_email 2 times in the 30 days of "
            "log up to 2026-10-31 00:00 UTC, but consumers.yml declares other columns of order_to_cash for dash",
            evidence="2 queries; shapes fp1",
        )
    ]
    assert result == expected


def test_findings_hidden_principal_without_consumer_notifies_its_contact(inventory: Inventory) -> None:
    result = [
        f.notify for f in hidden([use("admin", None, "sales_orders")], declarations(), inventory.datasets, WINDOW)
    ]
    assert result == ["platform@shop.example, sales@shop.example"]


def test_findings_hidden_undeclared_dataset_is_one_finding_not_one_per_column(inventory: Inventory) -> None:
    uses = [
        use("dash-sa", "dash", "finance_invoices"),
        *(use("dash-sa", "dash", "finance_invoices", c) for c in ("order_id", "amount")),
    ]
    result = [(f.dataset, f.column) for f in hidden(uses, declarations(), inventory.datasets, WINDOW)]
    assert result == [("finance_invoices", None)]


def test_findings_stale_lists_unread_declarations_and_columns() -> None:
    result = [(f.consumer, f.dataset, f.column) for f in stale(USES, declarations(), WINDOW)]
    expected = [("dash", "order_to_cash", "amount"), ("orphan", "order_to_cash", None)]
    assert result == expected


def test_findings_stale_says_when_no_principal_acts_for_the_consumer() -> None:
    result = [f.detail for f in stale(USES, declarations(), WINDOW) if f.consumer == "orphan"]
    expected = [
        "orphan declares a read of order_to_cash but never read it in the 30 days of log up to 2026-10-31 00:00 UTC "
        "(no principal in access.yml acts for it, so its reads cannot be observed)"
    ]
    assert result == expected


def test_findings_stale_counts_a_refused_attempt_as_use() -> None:
    uses = [use("nb-team", "notebook", "finance_invoices", decision="refused")]
    result = [(f.consumer, f.dataset) for f in stale(uses, declarations(), WINDOW) if f.consumer == "notebook"]
    assert result == [("notebook", "sales.customers")]


def test_findings_stale_with_an_empty_log_says_so() -> None:
    result = {f.detail for f in stale([], declarations(), Window(30, None)) if f.consumer == "dash"}
    expected = {
        "dash declares a read of order_to_cash but never read it (the query log is empty)",
        "dash declares a read of sales_orders but never read it (the query log is empty)",
    }
    assert result == expected


def test_findings_bypass_in_dbt_flags_private_cross_domain_reads_and_hard_coded_names(inventory: Inventory) -> None:
    result = [(f.dataset, f.model, f.notify) for f in bypass_in_dbt(inventory.lineage, inventory.datasets)]
    expected = [
        ("sales.customers", "finance_invoices", "finance@shop.example, sales@shop.example"),
        ("stg_sales__customers", "order_to_cash", "platform@shop.example, sales@shop.example"),
        ("stg_sales__orders", "finance_invoices", "finance@shop.example, sales@shop.example"),
    ]
    assert sorted(result) == expected


def test_findings_bypass_in_dbt_allows_public_models_and_own_domain() -> None:
    datasets = {
        "a": DatasetRow("a", "public.a", "public", "sales", None, None, "public", "table"),
        "b": DatasetRow("b", "staging.b", "staging", "finance", None, None, "private", "view"),
        "c": DatasetRow("c", "public.c", "public", "finance", None, None, "public", "table"),
    }
    result = bypass_in_dbt([LineageRow("a", "c", "dbt"), LineageRow("b", "c", "dbt")], datasets)
    assert result == []


def test_findings_bypass_in_queries_flags_other_domains_private_data_allowed_or_refused(inventory: Inventory) -> None:
    result = [
        (f.principal, f.dataset, f.consumer)
        for f in bypass_in_queries(USES, declarations(), inventory.datasets, WINDOW)
    ]
    assert result == [("nb-person", "sales.customers", "notebook"), ("fin-analyst", "stg_sales__orders", None)]


def test_findings_unowned_names_the_relation_and_the_platform(inventory: Inventory) -> None:
    result = unowned(inventory.datasets, declarations())
    expected = [
        FindingRow(
            kind="unowned",
            severity="warn",
            dataset="raw_sales.tmp_backup",
            notify="platform@shop.example, sales@shop.example",
            detail="raw_sales.tmp_backup (table) is in the warehouse but no dbt model or source describes it, "
            "so no domain owns it",
            evidence="duckdb_tables()/duckdb_views() of the warehouse",
        )
    ]
    assert result == expected


def test_findings_derive_counts_every_kind(inventory: Inventory) -> None:
    findings = derive_findings(USES, inventory.lineage, inventory.datasets, declarations(), WINDOW)
    result = {kind: sum(1 for f in findings if f.kind == kind) for kind in ("hidden", "stale", "bypass", "unowned")}
    assert result == {"hidden": 4, "stale": 2, "bypass": 5, "unowned": 1}


def test_findings_principal_inherits_consumer_through_its_team() -> None:
    result = [declarations().consumer_of(p) for p in ("nb-person", "admin", "stranger")]
    assert result == ["notebook", None, None]


# Usage: the query log summarised, each shape parsed once, cached across refreshes.

T0 = datetime(2026, 10, 31, tzinfo=UTC)


def _log_con(rows: list[tuple[str, datetime, str, str, str]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(QUERY_LOG_DDL)
    con.executemany(
        "INSERT INTO ops.query_log (query_id, logged_at, principal, sql, fingerprint, decision, path, line_no, landed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 'f', 1, now())",
        [(str(i), at, p, sql, fp, d) for i, (fp, at, p, sql, d) in enumerate(rows)],
    )
    return con


def test_usage_log_is_summarised_per_shape_principal_and_decision_with_a_window() -> None:
    con = _log_con(
        [
            ("a", T0, "dash-sa", "select 1", "allowed"),
            ("a", T0 - timedelta(days=10), "dash-sa", "select 2", "allowed"),
            ("a", T0 - timedelta(days=40), "dash-sa", "select 3", "allowed"),
            ("a", T0, "dash-sa", "select 4", "refused"),
        ]
    )
    result = read_log(con, window_days=30)
    expected = LogSummary(
        [
            LogGroup("a", "dash-sa", "allowed", 3, 2, T0 - timedelta(days=40), T0, "select 3"),
            LogGroup("a", "dash-sa", "refused", 1, 1, T0, T0, "select 4"),
        ],
        4,
        T0,
        30,
    )
    assert result == expected


def test_usage_entry_without_fingerprint_gets_one() -> None:
    con = _log_con([(None, T0, "admin", "SELECT  1", "allowed"), ("x", T0, "admin", "select 1", "allowed")])  # type: ignore[list-item]
    result = sorted((g.fingerprint, g.queries) for g in read_log(con).groups)
    from catalog.query_log import fingerprint

    assert result == sorted([(fingerprint("SELECT  1"), 1), ("x", 1)])


def test_usage_without_a_query_log_table_is_empty() -> None:
    assert read_log(duckdb.connect()) == LogSummary([], 0, None, 30)


class CountingReads:
    """A stand-in parser that counts calls and answers from a table of known SQL."""

    def __init__(self, answers: dict[str, Reads]) -> None:
        self.answers, self.calls = answers, 0

    def __call__(self, sql: str, schema: Schema) -> Reads:
        self.calls += 1
        return self.answers[sql]


ORDERS = Reads(frozenset({"marts.order_to_cash"}), frozenset({("marts.order_to_cash", "order_id")}))
BY_RELATION = {"marts.order_to_cash": "order_to_cash"}


def _group(fp: str, principal: str, sql: str, queries: int = 1) -> LogGroup:
    return LogGroup(fp, principal, "allowed", queries, queries, T0, T0, sql)


def test_usage_each_shape_is_parsed_once() -> None:
    parser = CountingReads({"q": ORDERS})
    groups = [_group("f", "dash-sa", "q"), _group("f", "admin", "q"), _group("f", "nb-team", "q")]
    shapes, parsed = resolve_shapes(groups, [], Schema({}), "h1", BY_RELATION, parser)
    assert (parser.calls, parsed, shapes["f"].datasets, shapes["f"].columns) == (
        1,
        1,
        ("order_to_cash",),
        (("order_to_cash", "order_id"),),
    )


def test_usage_cached_shape_is_reused_under_the_same_schema_hash() -> None:
    parser = CountingReads({"q": ORDERS})
    cached = ShapeRow("f", "q", 5, ("dash-sa",), ("order_to_cash",), True, None, ("order_to_cash.order_id",), "h1")
    _, parsed = resolve_shapes([_group("f", "dash-sa", "q")], [cached], Schema({}), "h1", BY_RELATION, parser)
    assert (parser.calls, parsed) == (0, 0)


def test_usage_cached_shape_is_parsed_again_when_the_schema_changed() -> None:
    parser = CountingReads({"q": ORDERS})
    cached = ShapeRow("f", "q", 5, ("dash-sa",), ("order_to_cash",), True, None, ("order_to_cash.order_id",), "h1")
    _, parsed = resolve_shapes([_group("f", "dash-sa", "q")], [cached], Schema({}), "h2", BY_RELATION, parser)
    assert (parser.calls, parsed) == (1, 1)


def test_usage_relation_that_is_no_dataset_is_named_in_the_shape() -> None:
    found = Reads(frozenset({"marts.order_to_cash", "catalog.findings"}), frozenset())
    result = parse_shape("f", "q", Schema({}), BY_RELATION, CountingReads({"q": found}))
    assert (result.datasets, result.error) == (
        ("order_to_cash",),
        "reads relations that are not datasets: catalog.findings",
    )


def test_usage_observe_counts_repeats_and_maps_principals_to_consumers() -> None:
    parser = CountingReads({"q": ORDERS})
    log = LogSummary([_group("f", "dash-sa", "q", 7), _group("f", "admin", "q", 3)], 10, T0)
    usage = observe(log, [], Schema({}), "h1", BY_RELATION, declarations().consumer_of, parser)
    result = [(r.principal, r.consumer, r.dataset, r.column, r.queries, r.shapes) for r in usage.observed]
    expected = [
        ("admin", None, "order_to_cash", None, 3, 1),
        ("admin", None, "order_to_cash", "order_id", 3, 1),
        ("dash-sa", "dash", "order_to_cash", None, 7, 1),
        ("dash-sa", "dash", "order_to_cash", "order_id", 7, 1),
    ]
    assert (result, [(s.fingerprint, s.queries, s.principals) for s in usage.shapes]) == (
        expected,
        [("f", 10, ("admin", "dash-sa"))],
    )


def test_usage_window_uses_leave_out_entries_before_the_window() -> None:
    parser = CountingReads({"q": ORDERS})
    old = LogGroup("f", "dash-sa", "allowed", 4, 0, T0 - timedelta(days=60), T0 - timedelta(days=50), "q")
    usage = observe(LogSummary([old], 4, T0), [], Schema({}), "h1", BY_RELATION, declarations().consumer_of, parser)
    assert (len(usage.observed), usage.uses) == (2, [])
