"""Query fingerprints: one per query shape, whatever the literals, comments, spacing, case or
IN-list length; and the catalog's invariant — same fingerprint, same reads."""

from __future__ import annotations

import re

import pytest

from catalog.query_log import fingerprint
from catalog.sql_reads import reads
from tests.catalog.test_sql_reads import CORPUS, SCHEMA

SAME_SHAPE = [
    ("select * from t where a = 1", "SELECT *\n  FROM t WHERE a = 42"),
    ("select a from t where b = 'x'", "select a from t where b = 'a much longer string'"),
    ("select a from t where b in (1, 2, 3)", "select a from t where b in (4)"),
    ("select a from t where b in (1, 2, 3)", "select a from t where b in ('x', 'y')"),
    ("select a from t where b not in (-1, +2)", "select a from t where b not in (7)"),
    ("select a from t where (b, c) in ((1, 2), (3, 4))", "select a from t where (b, c) in ((5, 6))"),
    ("insert into t values (1, 'a'), (2, 'b'), (3, 'c')", "insert into t values (9, 'z')"),
    ("select list_contains([1, 2, 3], a) from t", "select list_contains([4], a) from t"),
    ("select a from t where b = -1", "select a from t where b = 1"),
    ("select a from t -- who asked\nwhere b = 1", "/* report 7 */ select a from t where b = 2"),
    ("select a from t;", "select a from t"),
    ("select a from t where b = $1", "select a from t where b = 5"),
    ("select a from t where b = ?", "select a from t where b = 'x'"),
    ('select "A" from "T"', "select a from t"),
    ("SELECT Order_Id FROM Public.Sales_Orders", "select order_id from public.sales_orders"),
    ("select a from t limit 10 offset 20", "select a from t limit 1 offset 0"),
    ("select a from t where d > date '2026-01-01'", "select a from t where d > date '1999-12-31'"),
]

DIFFERENT_SHAPE = [
    ("select a from t", "select b from t"),
    ("select a from t", "select a from u"),
    ("select a from s.t", "select a from r.t"),
    ("select a from t where b in (1, 2)", "select a from t where b in (select b from u)"),
    ("select a from t where b = 1", "select a from t where b > 1"),
    ("select a - 1 from t", "select a from t"),
    ("select columns('.*_at') from t", "select columns('.*_id') from t"),
    ("select columns(c -> c like '%_at') from t", "select columns(c -> c like '%_id') from t"),
    ("select * like '%_id' from t", "select * like '%_at' from t"),
    ("select * from t", "select * exclude (a) from t"),
    ("select * from 'orders.csv'", "select * from 'invoices.csv'"),
]


@pytest.mark.parametrize(("left", "right"), SAME_SHAPE)
def test_fingerprint_same_shape_same_fingerprint(left: str, right: str) -> None:
    assert fingerprint(left) == fingerprint(right)


@pytest.mark.parametrize(("left", "right"), DIFFERENT_SHAPE)
def test_fingerprint_different_shape_different_fingerprint(left: str, right: str) -> None:
    assert fingerprint(left) != fingerprint(right)


def test_fingerprint_is_sixteen_hex_digits() -> None:
    assert re.fullmatch(r"[0-9a-f]{16}", fingerprint("select 1"))


def test_fingerprint_of_sql_sqlglot_cannot_parse_is_stable() -> None:
    assert fingerprint("select foo bar baz (") == fingerprint("SELECT foo  bar baz (")
    assert fingerprint("select foo bar baz (") != fingerprint("select foo bar qux (")


def test_fingerprint_of_untokenizable_text_falls_back_to_the_text() -> None:
    assert fingerprint("select 'unterminated") == fingerprint("SELECT   'unterminated")


@pytest.mark.parametrize("case", CORPUS, ids=[c["id"] for c in CORPUS])
def test_fingerprint_ignores_comments_and_layout_of_corpus_queries(case: dict) -> None:
    sql = case["sql"]
    variant = "-- asked by finance\n" + sql.replace("\n", "\n    /* line */ ") + " ;\n"
    assert fingerprint(variant) == fingerprint(sql)


def _other_literals(sql: str) -> str:
    """The same query with other values: strings (except column patterns and files read as
    tables) and numbers of two or more digits (one-digit numbers may be positional references)."""
    sql = re.sub(r"(?<!like )(?<!columns\()(?<!from )'(?:[^']|'')*'", "'zz'", sql, flags=re.IGNORECASE)
    return re.sub(r"\b\d{2,}\b", "77", sql)


@pytest.mark.parametrize("case", CORPUS, ids=[c["id"] for c in CORPUS])
def test_fingerprint_other_literals_same_fingerprint_and_same_reads(case: dict) -> None:
    """The catalog analyses one query per fingerprint: it must stand for every query it covers."""
    sql, variant = case["sql"], _other_literals(case["sql"])
    assert fingerprint(variant) == fingerprint(sql)
    assert reads(variant, SCHEMA) == reads(sql, SCHEMA)


def test_fingerprint_other_literals_changes_most_corpus_queries() -> None:
    changed = sum(_other_literals(c["sql"]) != c["sql"] for c in CORPUS)
    assert changed >= 40
