"""Evasion attempts on the gateway: look-alike names, case games, comment and quoting tricks,
unauthorized relations hidden deep in nested queries (DESIGN.md, guarantee 6).

Each attack goes through `Session.query` with the executor replaced by one that fails the test,
and then checks that nothing changed: the serving snapshot's bytes and mtime, its tables, and
that the query log gained exactly one line recording the refusal. A second family is allowed on
purpose (the trick hides in a comment or a string) and checks with DuckDB's own parser that the
SQL the gateway would run reads nothing but what the principal is granted.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from catalog import gateway
from catalog.gateway import Limits, QueryRefused, Session, connect_serving
from pipelines.home import Home
from pipelines.load_query_log import QUERY_LOG_DIR

PRINCIPAL = "support-agent-bot"  # support's public models and customer_360
OTC = "marts.order_to_cash"


def _nest_from(depth: int, inner: str) -> str:
    for level in range(depth):
        inner = f"SELECT * FROM ({inner}) AS level_{level}"
    return inner


def _nest_ctes(depth: int, inner: str) -> str:
    for level in range(depth):
        inner = f"WITH c{level} AS ({inner}) SELECT * FROM c{level}"
    return inner


def _nest_in(depth: int) -> str:
    sql = "SELECT order_id FROM marts.order_to_cash"
    for _ in range(depth):
        sql = f"SELECT order_id FROM public.support_tickets WHERE order_id IN ({sql})"
    return sql


def _nest_laterals(depth: int) -> str:
    sql = "SELECT o.order_id FROM marts.order_to_cash AS o WHERE o.order_id = t0.order_id"
    for level in range(depth, 0, -1):
        sql = f"SELECT l{level}.* FROM public.support_tickets AS t{level}, LATERAL ({sql}) AS l{level}"
    return f"SELECT * FROM public.support_tickets AS t0, LATERAL ({sql}) AS top"


def _nest_set_operations(depth: int) -> str:
    sql = "SELECT customer_id FROM public.sales_orders"
    operators = ("UNION", "EXCEPT", "INTERSECT", "UNION ALL", "EXCEPT ALL")
    for level in range(depth):
        sql = f"SELECT customer_id FROM public.support_tickets {operators[level % len(operators)]} ({sql})"
    return sql


# (id, sql, reason, relations named in the refusal)
LOOKALIKES = [
    ("cyrillic-o-table", "SELECT * FROM marts.\u043erder_to_cash", "unknown_relation"),
    ("cyrillic-a-schema", "SELECT * FROM m\u0430rts.order_to_cash", "unknown_relation"),
    ("greek-omicron", "SELECT * FROM public.sales_\u03bfrders", "unknown_relation"),
    ("cyrillic-quoted", 'SELECT * FROM "marts"."\u043erder_to_cash"', "unknown_relation"),
    ("fullwidth-schema", "SELECT * FROM \uff4d\uff41\uff52\uff54\uff53.order_to_cash", "unknown_relation"),
    ("fullwidth-table", "SELECT * FROM marts.\uff4f\uff52\uff44\uff45\uff52_to_cash", "unknown_relation"),
    ("fullwidth-dot", "SELECT * FROM marts\uff0eorder_to_cash", "unknown_relation"),
    ("zero-width-space", "SELECT * FROM marts.order\u200b_to_cash", "unknown_relation"),
    ("zero-width-joiner-quoted", 'SELECT * FROM "marts"."order_to_cash\u200d"', "unknown_relation"),
    ("zero-width-non-joiner-schema", "SELECT * FROM mar\u200cts.order_to_cash", "unknown_relation"),
    ("word-joiner", "SELECT * FROM public.sales\u2060_orders", "unknown_relation"),
    ("soft-hyphen", "SELECT * FROM public.sales_\u00adorders", "unknown_relation"),
    ("bom-in-name", "SELECT * FROM \ufeffmarts.order_to_cash", "unknown_relation"),
    ("combining-dot", "SELECT * FROM public.sales_orde\u0307rs", "unknown_relation"),
    ("long-s", "SELECT * FROM public.sales_order\u017f", "unknown_relation"),
    ("dotless-i", "SELECT * FROM publ\u0131c.sales_orders", "unknown_relation"),
    ("kelvin-sign", "SELECT * FROM public.sales_customers\u212a", "unknown_relation"),
    ("curly-double-quotes", "SELECT * FROM \u201cmarts\u201d.\u201corder_to_cash\u201d", "unknown_relation"),
    ("fullwidth-double-quote", "SELECT * FROM \uff02marts\uff02.\uff02order_to_cash\uff02", "unknown_relation"),
    ("prime-quotes", "SELECT * FROM \u2033marts\u2033.order_to_cash", "unknown_relation"),
    (
        "lookalike-cte-shadow",
        "WITH sales_\u043erders AS (SELECT 1 AS x) SELECT * FROM public.sales_orders",
        "unauthorized",
    ),
]

CASE_GAMES = [
    ("mixed-keywords-and-names", "SeLeCt * FrOm MaRtS.oRdEr_To_CaSh", "unauthorized"),
    ("quoted-schema-mixed", 'SELECT * FROM "Marts".order_to_cash', "unauthorized"),
    ("quoted-table-mixed", 'SELECT * FROM marts."Order_To_Cash"', "unauthorized"),
    ("catalog-upper", "SELECT * FROM SERVING.MARTS.ORDER_TO_CASH", "unauthorized"),
    ("catalog-quoted-mixed", 'SELECT * FROM "Serving"."Marts"."ORDER_to_CASH"', "unauthorized"),
    (
        "cte-upper-shadow",
        "WITH SUPPORT_TICKETS AS (SELECT * FROM SALES_ORDERS) SELECT * FROM support_tickets",
        "unauthorized",
    ),
    (
        "cte-quoted-case-shadow",
        'WITH "Support_Tickets" AS (SELECT * FROM public.sales_orders) SELECT * FROM "SUPPORT_TICKETS"',
        "unauthorized",
    ),
    (
        "cte-name-is-qualified-granted",
        "WITH support_tickets AS (SELECT 1 AS x) SELECT * FROM PUBLIC.SUPPORT_TICKETS, Public.Sales_Orders",
        "unauthorized",
    ),
    ("alias-named-granted", "SELECT * FROM marts.order_to_cash AS support_tickets", "unauthorized"),
    ("alias-upper-granted", "SELECT SUPPORT_TICKETS.* FROM Public.Sales_Orders AS SUPPORT_TICKETS", "unauthorized"),
    ("metadata-mixed-case", "SELECT * FROM Information_Schema.Tables", "metadata"),
    ("metadata-quoted-upper", 'SELECT * FROM "INFORMATION_SCHEMA"."TABLES"', "metadata"),
    ("duckdb-fn-upper", "SELECT * FROM DUCKDB_TABLES()", "table_function"),
    ("read-csv-mixed", "SELECT * FROM Read_Csv('/etc/passwd')", "table_function"),
    ("getenv-upper", "SELECT GETENV('HOME')", "forbidden_function"),
    ("getenv-quoted", "SELECT \"getenv\"('HOME')", "forbidden_function"),
    ("getenv-quoted-mixed", "SELECT \"GetEnv\"('HOME')", "forbidden_function"),
    ("getenv-schema-quoted", 'SELECT "main"."getenv"(\'HOME\')', "forbidden_function"),
    ("current-setting-quoted", "SELECT \"Current_Setting\"('threads')", "forbidden_function"),
    ("getenv-method-call", "SELECT 'HOME'.getenv()", "forbidden_function"),
    ("read-csv-quoted-schema", "SELECT * FROM main.\"Read_CSV\"('/etc/passwd')", "table_function"),
    ("system-upper", "SELECT * FROM SYSTEM.MAIN.DUCKDB_TABLES", "metadata"),
]

COMMENTS_AND_QUOTING = [
    ("block-comment-holds-dashes", f"SELECT * FROM public.support_tickets /* -- */, {OTC}", "unauthorized"),
    ("line-comment-then-newline", f"SELECT * FROM public.support_tickets -- x\n, {OTC}", "unauthorized"),
    ("line-comment-then-cr", f"SELECT * FROM public.support_tickets -- x\r, {OTC}", "unauthorized"),
    ("comment-between-name-parts", "SELECT * FROM marts/**/./**/order_to_cash", "unauthorized"),
    ("comment-between-quoted-parts", 'SELECT * FROM "marts"/* . */."order_to_cash"', "unauthorized"),
    ("spaces-around-dot", "SELECT * FROM marts . order_to_cash", "unauthorized"),
    ("newlines-and-tabs", "SELECT\n*\tFROM\r\nmarts\n.\norder_to_cash", "unauthorized"),
    ("dotted-quoted-single-identifier", 'SELECT * FROM "marts.order_to_cash"', "unknown_relation"),
    ("quote-inside-identifier", 'SELECT * FROM marts."order_to_cash"""', "unknown_relation"),
    ("dollar-string-before", f"SELECT $$ /* $$ AS a, * FROM {OTC}", "unauthorized"),
    ("tagged-dollar-string", f"SELECT $t$ ' $t$ AS a, * FROM {OTC}", "unauthorized"),
    ("e-string-escaped-quote", f"SELECT e'\\'' AS a, * FROM {OTC}", "unauthorized"),
    ("backslash-string", f"SELECT '\\' AS a, (SELECT count(*) FROM {OTC}) AS b", "unauthorized"),
    ("semicolon-in-string-then-read", f"SELECT ';' AS a, * FROM {OTC}", "unauthorized"),
    ("comment-glued-to-keyword", f"SELECT*FROM/**/{OTC}/**/WHERE/**/1=1", "unauthorized"),
    ("hint-style-comment", f"SELECT /*+ no_check */ * FROM {OTC}", "unauthorized"),
    ("trailing-semicolons-and-comment", f"SELECT * FROM {OTC};;  -- done", "multiple_statements"),
    ("parenthesised-from", f"SELECT * FROM (({OTC}))", "unauthorized"),
    ("nested-block-comments", f"SELECT /* a /* b */ c */ * FROM {OTC}", "unauthorized"),
]

DEEP = [
    ("subqueries-6", _nest_from(6, f"SELECT * FROM {OTC}"), "unauthorized"),
    ("subqueries-12", _nest_from(12, f"SELECT * FROM {OTC}"), "unauthorized"),
    ("ctes-5", _nest_ctes(5, "SELECT * FROM public.sales_orders"), "unauthorized"),
    ("ctes-9", _nest_ctes(9, f"SELECT * FROM {OTC}"), "unauthorized"),
    ("in-subqueries-6", _nest_in(6), "unauthorized"),
    ("laterals-5", _nest_laterals(5), "unauthorized"),
    ("set-operations-6", _nest_set_operations(6), "unauthorized"),
    (
        "mixed-cte-where-exists-lateral-union-scalar",
        "WITH outer_cte AS (SELECT * FROM public.support_tickets WHERE EXISTS ("
        "  SELECT 1 FROM public.support_agents AS a, LATERAL ("
        "    SELECT ticket_id FROM public.support_tickets UNION ALL ("
        "      SELECT (SELECT max(order_id) FROM ("
        f"        SELECT order_id FROM {OTC}) AS deepest) AS ticket_id)) AS l)) "
        "SELECT count(*) FROM outer_cte",
        "unauthorized",
    ),
    (
        "shadow-only-in-inner-scope",
        "SELECT * FROM (SELECT * FROM (WITH sales_orders AS (SELECT 1 AS x) SELECT * FROM sales_orders) AS a) AS b, "
        "(SELECT * FROM (SELECT * FROM (SELECT * FROM sales_orders) AS c) AS d) AS e",
        "unauthorized",
    ),
    (
        "cte-forward-reference",
        "WITH a AS (SELECT * FROM (SELECT * FROM (SELECT * FROM (SELECT * FROM (SELECT * FROM sales_orders) x1) x2) x3) x4), "
        "sales_orders AS (SELECT 1 AS x) SELECT * FROM a",
        "unauthorized",
    ),
    (
        "deep-in-having",
        "SELECT priority, count(*) FROM public.support_tickets GROUP BY priority HAVING count(*) > ("
        "SELECT count(*) FROM (SELECT * FROM (SELECT * FROM (SELECT * FROM (SELECT * FROM "
        f"{OTC}) a) b) c) d)",
        "unauthorized",
    ),
    (
        "deep-in-window-order",
        "SELECT ticket_id, row_number() OVER (ORDER BY (SELECT max(x.order_id) FROM (SELECT * FROM (SELECT * FROM "
        f"(SELECT * FROM (SELECT * FROM {OTC}) a) b) c) x)) FROM public.support_tickets",
        "unauthorized",
    ),
    (
        "deep-in-join-condition-case",
        "SELECT * FROM public.support_tickets AS t JOIN public.support_agents AS a ON CASE WHEN t.order_id IN ("
        "SELECT order_id FROM (SELECT * FROM (SELECT * FROM (SELECT * FROM (SELECT * FROM "
        f"{OTC}) a1) a2) a3) a4) THEN true ELSE false END",
        "unauthorized",
    ),
    (
        "recursive-cte-deep",
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < (SELECT count(*) FROM "
        f"(SELECT * FROM (SELECT * FROM (SELECT * FROM (SELECT * FROM {OTC}) a) b) c) d)) SELECT * FROM r",
        "unauthorized",
    ),
    (
        "view-deep",
        _nest_from(5, "SELECT * FROM public.sales_vip_orders"),
        "unauthorized",
    ),
]

ATTACKS = [
    *[("lookalike", *a) for a in LOOKALIKES],
    *[("case", *a) for a in CASE_GAMES],
    *[("quoting", *a) for a in COMMENTS_AND_QUOTING],
    *[("deep", *a) for a in DEEP],
]

# Tricks that only hide text in a comment or a string: allowed, and DuckDB must not read it.
SMUGGLED = [
    ("line-comment-closes-block", f"SELECT 1 AS x -- */ , (SELECT count(*) FROM {OTC}) /*\n"),
    ("nested-block-comment", f"SELECT 1 /* a /* b */ , (SELECT count(*) FROM {OTC}) AS n */"),
    ("backslash-quote-string", f"SELECT '\\'' OR (SELECT count(*) FROM {OTC}) > 0 --' AS x"),
    ("dollar-quoted-sql", f"SELECT $$'; SELECT * FROM {OTC}; --$$ AS x"),
    ("tagged-dollar-quoted", f"SELECT $q$ $$ ' */ FROM {OTC} $q$ AS x"),
    ("unicode-line-separator", f"SELECT * FROM public.support_tickets -- \u2028, {OTC}"),
    ("vertical-tab-in-comment", f"SELECT * FROM public.support_tickets -- \x0b, {OTC}"),
    ("escaped-quote-in-identifier", f'SELECT 1 AS "a"", (SELECT 1 FROM {OTC}) AS ""b" FROM public.support_tickets'),
]


def _log_lines(home: Home) -> list[dict]:
    path = home.root / QUERY_LOG_DIR / f"{datetime.now(UTC).date().isoformat()}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _relations(serving: Path) -> set[tuple[str, str, str]]:
    con = connect_serving(serving, Limits())
    try:
        rows = con.execute(
            "SELECT schema_name, table_name, 'table' FROM duckdb_tables() "
            "UNION ALL SELECT schema_name, view_name, 'view' FROM duckdb_views() WHERE NOT internal"
        ).fetchall()
    finally:
        con.close()
    return set(rows)


def _state(home: Home) -> tuple[str, int, int]:
    stat = home.serving.stat()
    return hashlib.sha256(home.serving.read_bytes()).hexdigest(), stat.st_mtime_ns, stat.st_size


@pytest.fixture
def no_execution(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the gateway started executing a query it should have refused")

    monkeypatch.setattr(gateway, "execute", refuse)


def test_every_family_has_enough_attacks() -> None:
    families = [a[0] for a in ATTACKS]
    assert {family: families.count(family) for family in set(families)} == {
        "lookalike": len(LOOKALIKES),
        "case": len(CASE_GAMES),
        "quoting": len(COMMENTS_AND_QUOTING),
        "deep": len(DEEP),
    }
    assert min(len(LOOKALIKES), len(CASE_GAMES), len(COMMENTS_AND_QUOTING), len(DEEP)) >= 10


@pytest.mark.parametrize(("sql", "reason"), [a[2:] for a in ATTACKS], ids=[f"{a[0]}-{a[1]}" for a in ATTACKS])
def test_evasion_is_refused_and_changes_nothing(served: Home, no_execution: None, sql: str, reason: str) -> None:
    session = Session(PRINCIPAL, served, source="test")
    state, relations, logged = _state(served), _relations(served.serving), len(_log_lines(served))
    with pytest.raises(QueryRefused) as refused:
        session.query(sql)
    assert refused.value.reason == reason, str(refused.value)
    if reason in ("unauthorized", "unknown_relation", "metadata"):
        assert refused.value.relations, "a refusal names the relations it refused"
    assert _state(served) == state
    assert _relations(served.serving) == relations
    new = _log_lines(served)[logged:]
    assert [(r["principal"], r["sql"], r["decision"], r["reason"]) for r in new] == [
        (PRINCIPAL, sql, "refused", reason)
    ]


def _base_tables(node: object) -> set[tuple[str, str]]:
    """(schema, table) of every BASE_TABLE in DuckDB's own parse tree (json_serialize_sql)."""
    found: set[tuple[str, str]] = set()
    if isinstance(node, dict):
        if node.get("type") == "BASE_TABLE":
            found.add((str(node.get("schema_name", "")), str(node.get("table_name", ""))))
        for value in node.values():
            found |= _base_tables(value)
    elif isinstance(node, list):
        for value in node:
            found |= _base_tables(value)
    return found


@pytest.mark.parametrize("sql", [s[1] for s in SMUGGLED], ids=[s[0] for s in SMUGGLED])
def test_smuggled_text_is_not_read_by_duckdb(session: Session, sql: str) -> None:
    plan = session.plan(sql)
    con = duckdb.connect()
    try:
        tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [plan.sql]).fetchone()[0])  # type: ignore[index]
    finally:
        con.close()
    assert tree["error"] is False, tree
    result = _base_tables(tree)
    expected = {("public", "support_tickets")} if "support_tickets" in plan.relations else set()
    assert result == expected, plan.sql
