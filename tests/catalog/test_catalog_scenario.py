"""The catalog's promise, end to end on a demo home: every declared consumer runs its declared
reads through the real `agora sql --as …`, a seeded set of undeclared reads is run beside them,
a seeded set of declarations nobody uses is added to (a copy of) consumers.yml, and after
`agora catalog refresh`, `agora catalog hidden` and `stale` return exactly the seeded sets."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from catalog.declarations import load_consumers
from pipelines.home import Home, catalog_dir
from pipelines.load_query_log import QUERY_LOG_DDL, QUERY_LOG_DIR
from tests.conftest import run_agora

pytestmark = [pytest.mark.slow, pytest.mark.integration]

# Undeclared reads, and the hidden finding each must produce: (consumer, principal, dataset, column).
HIDDEN_READS = [
    (
        "exec-dashboard",
        "select order_id, customer_id from order_to_cash limit 5",
        ("executive_dashboard", "exec-dashboard", "order_to_cash", "customer_id"),
    ),
    (
        "exec-dashboard",
        "select day from support_load where orders_placed > 10",  # a column used only in WHERE
        ("executive_dashboard", "exec-dashboard", "support_load", "orders_placed"),
    ),
    (
        "marketing-analyst",
        "select lead_id, touchpoint from marketing_leads where captured_at > '2026-01-01'",
        ("marketing_roi_dashboard", "marketing-analyst", "marketing_leads", None),
    ),
    (
        "reliability-analyst",
        "select suite_name from qa_test_suites",
        ("reliability_analytics_team", "reliability-analyst", "qa_test_suites", None),
    ),
    (
        "sales-analyst",  # acts for no consumer: reported, never dropped
        "select count(*) from sales_orders",
        (None, "sales-analyst", "sales_orders", None),
    ),
]
# Reads that must not be hidden: refused (nothing was read), and a person reading what her team declared.
CONTROL_READS = [
    ("finance-analyst", "select * from marketing_leads"),
    ("ana.controller@agora.example", "select invoice_id from finance_invoices"),
]
# Declarations added to the copy of consumers.yml that nobody reads: (consumer, dataset, column).
STALE_SEEDS = {
    ("revenue_analytics_team", "sales_products", None),
    ("support_ops_microsite", "support_tickets", "customer_id"),
    ("finance_close_report", "delivery_quality", None),
}


def _copy_home(served: Home, target: Path) -> Home:
    shutil.copytree(served.root, target, ignore=shutil.ignore_patterns(QUERY_LOG_DIR, "dagster"))
    home = Home(target)
    con = duckdb.connect(home.warehouse)
    try:
        con.execute(QUERY_LOG_DDL)  # the log starts empty: only this test's queries are observed
        con.execute("DELETE FROM ops.query_log; DELETE FROM ops.query_log_files")
    finally:
        con.close()
    return home


def _seeded_declarations(folder: Path) -> Path:
    folder.mkdir()
    for name in ("domains.yml", "access.yml"):
        shutil.copy(catalog_dir() / name, folder / name)
    doc = yaml.safe_load((catalog_dir() / "consumers.yml").read_text(encoding="utf-8"))
    by_name = {c["name"]: c for c in doc["consumers"]}
    for consumer, dataset, column in sorted(STALE_SEEDS, key=str):
        reads = by_name[consumer]["reads"]
        existing = next((r for r in reads if r["dataset"] == dataset), None)
        if existing is not None:
            existing["columns"].append(column)
        else:
            reads.append({"dataset": dataset, **({"columns": [column]} if column else {})})
    (folder / "consumers.yml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return folder


def _principal_of(consumer: str) -> str:
    doc = yaml.safe_load((catalog_dir() / "access.yml").read_text(encoding="utf-8"))
    return next(p["name"] for p in doc["principals"] if p.get("consumer") == consumer)


def _sql(home: Home, principal: str, query: str) -> int:
    result = run_agora(home, "sql", "--as", principal, "--format", "json", query)
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr
    return result.returncode


def test_catalog_scenario_hidden_and_stale_are_exactly_the_seeded_sets(served: Home, tmp_path: Path) -> None:
    home = _copy_home(served, tmp_path / "home")
    declarations = _seeded_declarations(tmp_path / "declarations")
    for consumer in load_consumers():
        principal = _principal_of(consumer.name)
        for read in consumer.reads:
            columns = ", ".join(read.columns) if read.columns else "*"
            _sql(home, principal, f"select {columns} from {read.dataset} limit 1")
    allowed = [_sql(home, principal, query) for principal, query, _ in HIDDEN_READS]
    controls = [_sql(home, principal, query) for principal, query in CONTROL_READS]
    assert (allowed, controls) == ([0] * len(HIDDEN_READS), [1, 0])

    refresh = run_agora(home, "catalog", "refresh", "--declarations", str(declarations))
    assert refresh.returncode == 0, refresh.stderr
    hidden = json.loads(run_agora(home, "catalog", "hidden", "--json").stdout)
    stale = json.loads(run_agora(home, "catalog", "stale", "--json").stdout)

    result_hidden = sorted(((f["consumer"], f["principal"], f["dataset"], f["column"]) for f in hidden), key=str)
    result_stale = {(f["consumer"], f["dataset"], f["column"]) for f in stale}
    assert (result_hidden, len(stale), result_stale) == (
        sorted((expected for _, _, expected in HIDDEN_READS), key=str),
        len(STALE_SEEDS),
        STALE_SEEDS,
    )
