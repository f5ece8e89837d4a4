"""Attacks on the gateway: each is refused before anything runs (DESIGN.md, guarantee 6).

Every case goes through `Session.query` with the executor replaced by one that fails the test,
so a refusal that came from DuckDB (after execution started) would not pass.
"""

from __future__ import annotations

import pytest

from catalog import gateway
from catalog.access import UnknownPrincipalError
from catalog.gateway import Limits, QueryFailed, QueryLimitExceeded, QueryRefused, Session
from pipelines.home import Home
from tests.conftest import run_agora

NESTED = "SELECT " + "(" * 150 + "1" + ")" * 150

# (id, sql, reason) — principal support-agent-bot: support's public models and customer_360.
ATTACKS = [
    # writes, DDL and everything that is not one read-only query
    ("insert", "INSERT INTO public.support_tickets SELECT * FROM public.support_tickets", "not_read_only"),
    ("update", "UPDATE public.support_tickets SET priority = 'low'", "not_read_only"),
    ("delete", "DELETE FROM public.support_tickets", "not_read_only"),
    ("drop", "DROP TABLE public.support_tickets", "not_read_only"),
    ("create-as", "CREATE TABLE x AS SELECT * FROM public.support_tickets", "not_read_only"),
    ("alter", "ALTER TABLE public.support_tickets ADD COLUMN x INT", "not_read_only"),
    ("create-macro", "CREATE MACRO m() AS 1", "not_read_only"),
    ("copy-table", "COPY public.support_tickets TO '/tmp/x.csv'", "not_read_only"),
    ("copy-query", "COPY (SELECT * FROM marts.order_to_cash) TO '/tmp/x.parquet'", "not_read_only"),
    ("attach", "ATTACH '/tmp/other.duckdb' AS other", "not_read_only"),
    ("detach", "DETACH serving", "not_read_only"),
    ("install", "INSTALL httpfs", "not_read_only"),
    ("load", "LOAD httpfs", "not_read_only"),
    ("set", "SET enable_external_access = true", "not_read_only"),
    ("reset", "RESET lock_configuration", "not_read_only"),
    ("pragma", "PRAGMA table_info('marts.order_to_cash')", "not_read_only"),
    ("call", "CALL pragma_version()", "not_read_only"),
    ("export", "EXPORT DATABASE '/tmp/dump'", "parse_error"),
    ("import", "IMPORT DATABASE '/tmp/dump'", "parse_error"),
    ("select-into", "SELECT * INTO copy_of FROM public.support_tickets", "not_read_only"),
    ("begin", "BEGIN TRANSACTION", "not_read_only"),
    ("checkpoint", "CHECKPOINT", "not_read_only"),
    ("explain", "EXPLAIN SELECT * FROM marts.order_to_cash", "not_read_only"),
    ("describe", "DESCRIBE marts.order_to_cash", "not_read_only"),
    ("summarize", "SUMMARIZE marts.order_to_cash", "not_read_only"),
    ("show", "SHOW TABLES", "not_read_only"),
    ("use", "USE marts", "not_read_only"),
    ("prepare", "PREPARE p AS SELECT * FROM marts.order_to_cash", "not_read_only"),
    ("pivot-statement", "PIVOT marts.order_to_cash ON status USING count(*)", "not_read_only"),
    ("stacked", "SELECT 1; DROP TABLE public.support_tickets", "multiple_statements"),
    ("two-selects", "SELECT * FROM public.support_tickets; SELECT * FROM marts.order_to_cash", "multiple_statements"),
    (
        "comment-hides-second",
        "SELECT 1 /* harmless */; -- x\nDELETE FROM public.support_tickets",
        "multiple_statements",
    ),
    ("empty", "  -- nothing\n", "multiple_statements"),
    ("garbage", "SELEC * FRM marts.order_to_cash", "parse_error"),
    ("nesting", NESTED, "too_deep"),
    # relations not granted, wherever they hide
    ("plain", "SELECT * FROM marts.order_to_cash", "unauthorized"),
    ("from-first", "FROM marts.order_to_cash", "unauthorized"),
    ("unqualified", "SELECT * FROM order_to_cash", "unauthorized"),
    ("case", "select * from MARTS.Order_To_Cash", "unauthorized"),
    ("quoted", 'SELECT * FROM "marts"."order_to_cash"', "unauthorized"),
    ("quoted-case", 'SELECT * FROM "MARTS"."ORDER_TO_CASH"', "unauthorized"),
    ("catalog-qualified", "SELECT * FROM serving.marts.order_to_cash", "unauthorized"),
    ("comment-glued", "SELECT * FROM/**/marts.order_to_cash", "unauthorized"),
    ("comment-in-list", "SELECT * FROM public.support_tickets /* ; */, marts.order_to_cash -- x", "unauthorized"),
    ("cte", "WITH t AS (SELECT * FROM marts.order_to_cash) SELECT * FROM t", "unauthorized"),
    (
        "cte-shadows-granted",
        "WITH support_tickets AS (SELECT * FROM public.sales_orders) SELECT * FROM support_tickets",
        "unauthorized",
    ),
    (
        "cte-nested",
        "WITH a AS (WITH b AS (SELECT * FROM public.sales_orders) SELECT * FROM b) SELECT * FROM a",
        "unauthorized",
    ),
    (
        "recursive-cte",
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r, public.sales_orders WHERE n < 2) SELECT * FROM r",
        "unauthorized",
    ),
    (
        "subquery-where",
        "SELECT * FROM public.support_tickets WHERE order_id IN (SELECT order_id FROM marts.order_to_cash)",
        "unauthorized",
    ),
    ("subquery-exists", "SELECT 1 WHERE EXISTS (SELECT 1 FROM public.sales_customers)", "unauthorized"),
    ("scalar-subquery", "SELECT (SELECT max(order_amount) FROM public.sales_orders) AS m", "unauthorized"),
    ("derived", "SELECT * FROM (SELECT * FROM (SELECT * FROM public.sales_customers))", "unauthorized"),
    (
        "union",
        "SELECT ticket_id FROM public.support_tickets UNION ALL SELECT order_id FROM marts.order_to_cash",
        "unauthorized",
    ),
    (
        "except",
        "SELECT customer_id FROM public.support_tickets EXCEPT SELECT customer_id FROM public.sales_orders",
        "unauthorized",
    ),
    (
        "lateral",
        "SELECT * FROM public.support_tickets t, LATERAL (SELECT * FROM public.sales_orders o WHERE o.order_id = t.order_id)",
        "unauthorized",
    ),
    ("join", "SELECT * FROM public.support_tickets t JOIN public.sales_orders o USING (order_id)", "unauthorized"),
    ("positional-join", "SELECT * FROM public.support_tickets POSITIONAL JOIN public.sales_orders", "unauthorized"),
    ("view", "SELECT * FROM public.sales_vip_orders", "unauthorized"),
    ("publication", "SELECT * FROM main.publication", "unknown_relation"),
    ("other-catalog", "SELECT * FROM other.marts.order_to_cash", "unknown_relation"),
    # table functions, files, network
    ("read-csv", "SELECT * FROM read_csv('/etc/passwd')", "table_function"),
    ("read-csv-upper", "SELECT * FROM READ_CSV_AUTO('/etc/passwd')", "table_function"),
    ("read-parquet", "SELECT * FROM read_parquet('/tmp/*.parquet')", "table_function"),
    ("read-text", "SELECT * FROM read_text('/etc/passwd')", "table_function"),
    ("read-json-url", "SELECT * FROM read_json('https://example.com/x.json')", "table_function"),
    ("glob", "SELECT * FROM glob('/*')", "table_function"),
    ("sniff", "SELECT * FROM sniff_csv('/etc/passwd')", "table_function"),
    ("file-as-table", "SELECT * FROM '/etc/passwd'", "unknown_relation"),
    ("url-as-table", "SELECT * FROM 'https://example.com/x.csv'", "unknown_relation"),
    ("query-fn", "SELECT * FROM query('SELECT * FROM marts.order_to_cash')", "table_function"),
    ("query-table-fn", "SELECT * FROM query_table('marts.order_to_cash')", "table_function"),
    ("range", "SELECT * FROM range(10)", "table_function"),
    (
        "file-in-subquery",
        "SELECT * FROM public.support_tickets WHERE ticket_id IN (SELECT * FROM read_csv('/etc/passwd'))",
        "table_function",
    ),
    ("getenv", "SELECT getenv('HOME')", "forbidden_function"),
    ("current-setting", "SELECT current_setting('memory_limit')", "forbidden_function"),
    ("getvariable", "SELECT getvariable('x')", "forbidden_function"),
    # metadata that would reveal what the principal cannot read
    ("information-schema", "SELECT * FROM information_schema.tables", "metadata"),
    ("information-schema-upper", "SELECT table_name FROM INFORMATION_SCHEMA.COLUMNS", "metadata"),
    ("duckdb-tables-fn", "SELECT * FROM duckdb_tables()", "table_function"),
    ("duckdb-tables-view", "SELECT * FROM duckdb_tables", "metadata"),
    ("duckdb-columns", "SELECT * FROM duckdb_columns()", "table_function"),
    ("pg-catalog", "SELECT * FROM pg_catalog.pg_tables", "metadata"),
    ("sqlite-master", "SELECT * FROM sqlite_master", "metadata"),
    ("system-catalog", "SELECT * FROM system.main.duckdb_tables", "metadata"),
    ("pragma-fn", "SELECT * FROM pragma_table_info('marts.order_to_cash')", "table_function"),
    ("metadata-in-cte", "WITH t AS (SELECT * FROM information_schema.tables) SELECT count(*) FROM t", "metadata"),
]


@pytest.fixture
def no_execution(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the gateway started executing a query it should have refused")

    monkeypatch.setattr(gateway, "execute", refuse)


def test_there_are_at_least_forty_attacks() -> None:
    assert len(ATTACKS) >= 40


@pytest.mark.parametrize(("sql", "reason"), [a[1:] for a in ATTACKS], ids=[a[0] for a in ATTACKS])
def test_attack_is_refused_before_execution(session: Session, no_execution: None, sql: str, reason: str) -> None:
    with pytest.raises(QueryRefused) as refused:
        session.query(sql)
    assert refused.value.reason == reason, str(refused.value)


def test_refusal_names_every_unauthorized_dataset(session: Session, no_execution: None) -> None:
    sql = (
        "WITH o AS (SELECT * FROM marts.order_to_cash) SELECT * FROM o JOIN public.sales_orders s USING (order_id) "
        "JOIN public.support_tickets t USING (order_id) WHERE s.customer_id IN (SELECT customer_id FROM public.sales_customers)"
    )
    with pytest.raises(QueryRefused) as refused:
        session.query(sql)
    message = str(refused.value)
    for name in ("marts.order_to_cash", "public.sales_orders", "public.sales_customers"):
        assert name in message
    assert "public.support_tickets" not in message


def test_view_needs_what_it_reads(served: Home, tmp_path, no_execution: None) -> None:
    from tests.catalog.conftest import write_access

    path = write_access(tmp_path / "access.yml", "  - {name: v, kind: person, grants: [{dataset: sales_vip_orders}]}\n")
    with pytest.raises(QueryRefused) as refused:
        Session("v", served, access_path=path).query("SELECT count(*) FROM public.sales_vip_orders")
    assert "public.sales_customers" in str(refused.value) and "public.sales_orders" in str(refused.value)


def test_unknown_principal_is_refused(served: Home, no_execution: None) -> None:
    with pytest.raises(UnknownPrincipalError):
        Session("intruder", served).query("SELECT * FROM public.support_tickets")


def test_granted_query_runs(session: Session) -> None:
    result = session.query("SELECT count(*) AS n FROM public.support_tickets")
    assert result.column_names == ["n"]


def test_runaway_cross_join_hits_the_time_limit(served: Home) -> None:
    session = Session("platform-admin", served, limits=Limits(seconds=0.5))
    sql = "SELECT count(*) FROM marts.customer_360 a, marts.customer_360 b, marts.customer_360 c, marts.customer_360 d"
    with pytest.raises(QueryLimitExceeded, match="query exceeded its limit"):
        session.query(sql)


def test_too_many_rows_is_an_error_not_a_truncation(served: Home) -> None:
    session = Session("platform-admin", served, limits=Limits(max_rows=10))
    with pytest.raises(QueryLimitExceeded, match="query exceeded its limit"):
        session.query("SELECT * FROM public.sales_orders")


def test_connection_itself_refuses_files(served: Home) -> None:
    """Second line of defence: even SQL that slipped past the checks cannot read files or reconfigure."""
    with pytest.raises(QueryFailed, match="disabled by configuration"):
        gateway.execute(served.serving, "SELECT * FROM read_csv('/etc/passwd')", Limits())
    with pytest.raises(QueryFailed, match="locked"):
        gateway.execute(served.serving, "SET enable_external_access = true", Limits())


@pytest.mark.integration
def test_cli_refusal_is_one_line(served: Home) -> None:
    result = run_agora(served, "sql", "--as", "support-agent-bot", "SELECT * FROM marts.order_to_cash")
    assert result.returncode != 0
    assert result.stderr.startswith("agora: error: refused:") and result.stderr.count("\n") == 1
    assert result.stdout == ""
