"""The catalog report (`agora catalog report`): marks per reader, hidden reads drawn apart, escaping,
nothing loaded from the network, determinism, and one look in headless Chromium."""

from __future__ import annotations

import re
import struct
import subprocess
import zlib
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from catalog.report import (
    COLLAPSE_ABOVE,
    CatalogRows,
    Consumer,
    Dataset,
    Finding,
    ObservedRead,
    Reader,
    ReaderMark,
    dependency_graph,
    reader_marks,
    report_command,
    write_report,
)
from catalog.store import CATALOG_DDL
from pipelines.errors import AgoraError
from pipelines.home import REPO_ROOT, Home
from tests.conftest import CHROMIUM_FLAGS, chromium

ARTIFACTS = REPO_ROOT / "test-artifacts"

SALES = ("sales", "sales-engineering", "sales-data@agora.example")
FINANCE = ("finance", "finance-systems", "finance-data@agora.example")
ANALYTICS = ("analytics", "data-platform", "data-platform@agora.example")
NOBODY = (None, None, None)
TS = "2026-10-30 09:00:00+00"

# A small company: sales and finance publish, analytics joins them; one hidden read of a dataset,
# one of a column, a principal reading finance's private staging (hidden and a bypass), a sales
# model reading that staging too (a bypass inside dbt), a stale declaration and an unowned table.
SMALL = {
    "datasets": [
        ("sales.events", "raw_sales.events", "raw", *SALES, "private", "landed", "Sales events as landed."),
        ("stg_sales__orders_placed", "staging.stg", "staging", *SALES, "private", "view", None),
        (
            "sales_orders",
            "public.sales_orders",
            "public",
            *SALES,
            "public",
            "table",
            'Orders <script>alert("owned")</script> & more',
        ),
        ("finance.events", "raw_finance.events", "raw", *FINANCE, "private", "landed", None),
        ("stg_finance__invoices_issued", "staging.stg_fi", "staging", *FINANCE, "private", "view", None),
        ("finance_invoices", "public.finance_invoices", "public", *FINANCE, "public", "table", "One row per invoice."),
        ("order_to_cash", "marts.order_to_cash", "marts", *ANALYTICS, "public", "table", "One row per order."),
        ("scratch_export", "main.scratch_export", "other", *NOBODY, "private", "table", "Copied by hand."),
    ],
    "columns": [("order_to_cash", "customer_email", "VARCHAR", True, None)],
    "consumers": [
        (
            "executive_dashboard",
            "dashboard",
            "Executive Office",
            "exec-office@agora.example",
            "high",
            "https://bi.agora.example/exec",
            ["exec-bi"],
        ),
        ("finance_close_report", "analysis", "Finance Controlling", "controller@agora.example", "high", None, []),
    ],
    "declared_reads": [
        ("executive_dashboard", "order_to_cash", "order_id"),
        ("executive_dashboard", "order_to_cash", "amount_outstanding"),
        ("finance_close_report", "finance_invoices", None),
        ("finance_close_report", "sales_orders", None),
    ],
    "observed_reads": [
        ("exec-bi", "executive_dashboard", "order_to_cash", "order_id", "allowed", 40, 3, TS, TS),
        ("exec-bi", "executive_dashboard", "order_to_cash", "amount_outstanding", "allowed", 40, 3, TS, TS),
        ("exec-bi", "executive_dashboard", "order_to_cash", "customer_email", "allowed", 2, 1, TS, TS),
        ("exec-bi", "executive_dashboard", "finance_invoices", None, "allowed", 5, 1, TS, TS),
        ("exec-bi", "executive_dashboard", "finance_invoices", "invoice_id", "allowed", 5, 1, TS, TS),
        ("exec-bi", "executive_dashboard", "sales.events", None, "refused", 1, 1, TS, TS),
        ("controller", "finance_close_report", "finance_invoices", "invoice_id", "allowed", 12, 2, TS, TS),
        ("ana", None, "stg_finance__invoices_issued", None, "allowed", 3, 1, TS, TS),
        ("ana", None, "finance_invoices", None, "failed", 1, 1, TS, TS),  # authorised, so it read
    ],
    "lineage": [
        ("sales.events", "stg_sales__orders_placed", "dbt"),
        ("stg_sales__orders_placed", "sales_orders", "dbt"),
        ("finance.events", "stg_finance__invoices_issued", "dbt"),
        ("stg_finance__invoices_issued", "finance_invoices", "dbt"),
        ("stg_finance__invoices_issued", "sales_orders", "dbt"),
        ("sales_orders", "order_to_cash", "dbt"),
        ("finance_invoices", "order_to_cash", "dbt"),
    ],
    "findings": [
        (
            "hidden",
            "warn",
            "finance_invoices",
            None,
            "executive_dashboard",
            "exec-bi",
            None,
            "finance-data@agora.example",
            "executive_dashboard reads finance_invoices but does not declare it.",
            "fp:1",
        ),
        (
            "hidden",
            "warn",
            "order_to_cash",
            "customer_email",
            "executive_dashboard",
            "exec-bi",
            None,
            "data-platform@agora.example",
            "executive_dashboard reads order_to_cash.customer_email but does not declare it.",
            "fp:2",
        ),
        (
            "hidden",
            "warn",
            "stg_finance__invoices_issued",
            None,
            None,
            "ana",
            None,
            "finance-data@agora.example",
            "ana reads stg_finance__invoices_issued for no declared consumer.",
            "fp:3",
        ),
        (
            "stale",
            "warn",
            "sales_orders",
            None,
            "finance_close_report",
            None,
            None,
            "controller@agora.example",
            "finance_close_report declares sales_orders but has not read it in 30 days.",
            "consumers.yml",
        ),
        (
            "bypass",
            "error",
            "stg_finance__invoices_issued",
            None,
            None,
            None,
            "sales_orders",
            "finance-data@agora.example, sales-data@agora.example",
            "sales model sales_orders reads finance's private stg_finance__invoices_issued.",
            "models/public/sales/sales_orders.sql",
        ),
        (
            "bypass",
            "error",
            "stg_finance__invoices_issued",
            None,
            None,
            "ana",
            None,
            "finance-data@agora.example",
            "ana reads finance's private stg_finance__invoices_issued.",
            "fp:3",
        ),
        (
            "unowned",
            "warn",
            "scratch_export",
            None,
            None,
            None,
            None,
            "data-platform@agora.example",
            "scratch_export is in the warehouse but no domain owns it.",
            None,
        ),
    ],
    "refreshes": [("2026-10-31 06:00:00+00", "target/manifest.json", 1234, 56, 30, "2026-10-31 00:00:00+00", 7, 1.5)],
}


def build_catalog(path: Path, tables: dict[str, list[tuple]], reverse: bool = False) -> Path:
    """A DuckDB file holding the catalog tables (the DDL of catalog/store.py) and these rows."""
    con = duckdb.connect(str(path))
    try:
        con.execute(CATALOG_DDL)
        for table, rows in tables.items():
            if rows:
                marks = ", ".join("?" for _ in rows[0])
                con.executemany(f"INSERT INTO catalog.{table} VALUES ({marks})", rows[::-1] if reverse else rows)
    finally:
        con.close()
    return path


def render(tmp_path: Path, tables: dict[str, list[tuple]], name: str = "report.html", reverse: bool = False) -> str:
    database = build_catalog(tmp_path / f"{name}.duckdb", tables, reverse)
    con = duckdb.connect(str(database), read_only=True)
    try:
        return write_report(con, tmp_path / name).read_text(encoding="utf-8")
    finally:
        con.close()


class Elements(HTMLParser):
    """Every element with its attributes and the texts after its start (the first is its own)."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str], list[str]]] = []
        self.open: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        text: list[str] = []
        self.elements.append((tag, {k: v or "" for k, v in attrs}, text))
        self.open.append(text)

    def handle_data(self, data: str) -> None:
        for text in self.open:
            if data.strip():
                text.append(data.strip())

    def handle_endtag(self, tag: str) -> None:
        if self.open:
            self.open.pop()


def elements(page: str) -> list[tuple[str, dict[str, str], list[str]]]:
    parser = Elements()
    parser.feed(page)
    return parser.elements


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> str:
    return render(tmp_path_factory.mktemp("report"), SMALL)


def test_report_marks_each_reader_of_each_dataset(small: str) -> None:
    result = {
        (a["data-reader"], a["data-reader-kind"], a["data-dataset"], a["data-mark"], text[0])
        for tag, a, text in elements(small)
        if tag == "li" and "data-mark" in a
    }

    expected = {
        ("executive_dashboard", "consumer", "order_to_cash", "read", "✓"),
        ("executive_dashboard", "consumer", "finance_invoices", "hidden", "✗"),
        ("finance_close_report", "consumer", "finance_invoices", "read", "✓"),
        ("finance_close_report", "consumer", "sales_orders", "stale", "?"),
        ("ana", "principal", "stg_finance__invoices_issued", "hidden", "✗"),
        ("ana", "principal", "finance_invoices", "hidden", "✗"),
    }
    assert result == expected


def test_report_marks_the_columns_where_known(small: str) -> None:
    result = []
    reader, dataset = "", ""
    for tag, a, text in elements(small):
        if tag == "li" and "data-reader" in a:
            reader, dataset = a["data-reader"], a["data-dataset"]
        elif tag == "span" and "data-column" in a:
            result.append((reader, dataset, a["data-column"], a["data-mark"], text[0]))

    expected = [
        ("executive_dashboard", "finance_invoices", "invoice_id", "hidden", "✗ invoice_id"),
        ("executive_dashboard", "order_to_cash", "amount_outstanding", "read", "✓ amount_outstanding"),
        ("executive_dashboard", "order_to_cash", "customer_email", "hidden", "✗ customer_email"),
        ("executive_dashboard", "order_to_cash", "order_id", "read", "✓ order_id"),
    ]
    assert sorted(result) == expected
    assert "✗ customer_email<em>PII</em>" in small


def test_report_draws_hidden_reads_dashed_red_in_a_lane_of_their_own(small: str) -> None:
    found = elements(small)
    hidden = {
        (a["data-from"], a["data-to"]): a for tag, a, _ in found if tag == "path" and "hidden" in a.get("class", "")
    }
    node_bottom = max(float(a["y"]) + float(a["height"]) for tag, a, _ in found if a.get("class") == "box")
    lane = next(a for tag, a, _ in found if tag == "rect" and a.get("fill") == "#fef2f2")

    assert sorted(hidden) == [
        ("finance_invoices", "consumer:executive_dashboard"),
        ("finance_invoices", "principal:ana"),
        ("stg_finance__invoices_issued", "principal:ana"),
    ]
    assert hidden[("finance_invoices", "consumer:executive_dashboard")]["stroke"] == "#dc2626"
    assert {a["stroke-dasharray"] for a in hidden.values()} == {"5 3"}
    assert float(lane["y"]) > node_bottom
    assert all(max(path_ys(edge["d"])) > float(lane["y"]) for edge in hidden.values())


def path_ys(d: str) -> list[float]:
    """The y of every point of an SVG path made of M, H, V, Q and C commands."""
    ys, numbers_per_y = [], {"M": 2, "Q": 2, "C": 2, "V": 1}
    command, position = "", 0
    for token in re.findall(r"[A-Z]|-?\d+(?:\.\d+)?", d.replace(",", " ")):
        if token.isalpha():
            command, position = token, 0
            continue
        position += 1
        if command in numbers_per_y and position % numbers_per_y[command] == 0:
            ys.append(float(token))
    return ys


def test_report_draws_declared_edges_solid_grey(small: str) -> None:
    edges = {
        (a["data-from"], a["data-to"]): a
        for tag, a, _ in elements(small)
        if tag == "path" and a.get("class", "").startswith("edge")
    }

    declared = edges[("order_to_cash", "consumer:executive_dashboard")]
    stale = edges[("sales_orders", "consumer:finance_close_report")]
    assert (declared["class"], declared["stroke"], "stroke-dasharray" in declared) == (
        "edge declared",
        "#64748b",
        False,
    )
    assert (stale["class"], stale.get("stroke-dasharray")) == ("edge stale", "2 3")


def test_report_colours_bypass_edges_orange(small: str) -> None:
    bypasses = {
        (a["data-from"], a["data-to"], a["stroke"])
        for tag, a, _ in elements(small)
        if tag == "path" and "bypass" in a.get("class", "").split()
    }

    assert bypasses == {
        ("stg_finance__invoices_issued", "sales_orders", "#ea580c"),
        ("stg_finance__invoices_issued", "principal:ana", "#ea580c"),
    }


def test_report_lists_bypasses_and_unowned_datasets_with_who_to_notify(small: str) -> None:
    rows = re.findall(r'<tr class="finding" data-kind="(bypass|unowned)" data-dataset="([^"]+)">(.*?)</tr>', small)
    result = [(kind, dataset, re.findall(r'href="mailto:([^"]+)"', row)) for kind, dataset, row in rows]

    assert result == [
        ("bypass", "stg_finance__invoices_issued", ["finance-data@agora.example", "sales-data@agora.example"]),
        ("bypass", "stg_finance__invoices_issued", ["finance-data@agora.example"]),
        ("unowned", "scratch_export", ["data-platform@agora.example"]),
    ]


def test_report_header_counts_findings_per_kind_and_shows_the_refresh(small: str) -> None:
    counts = {
        a["data-count"]: int(text[0].replace(",", ""))
        for tag, a, text in elements(small)
        if tag == "a" and "data-count" in a
    }

    assert counts == {"datasets": 8, "consumers": 2, "hidden": 3, "stale": 1, "bypass": 2, "unowned": 1}
    assert "Refreshed <strong>2026-10-31 06:00 UTC</strong> · 30-day window to 2026-10-31" in small


def test_report_groups_datasets_by_owning_domain(small: str) -> None:
    result: dict[str, list[str]] = {}
    domain = None
    for tag, a, _ in elements(small):
        if tag == "section" and "data-domain" in a:
            domain = a["data-domain"]
            result[domain] = []
        elif tag == "tr" and "data-dataset" in a and "id" in a and domain is not None:
            result[domain].append(a["data-dataset"])

    assert result == {
        "analytics": ["order_to_cash"],
        "finance": ["finance.events", "stg_finance__invoices_issued", "finance_invoices"],
        "sales": ["sales.events", "stg_sales__orders_placed", "sales_orders"],
        "": ["scratch_export"],
    }
    assert "sales-engineering" in small and 'href="mailto:sales-data@agora.example"' in small


def tiny(findings: tuple[Finding, ...], observed_last_seen: str = "2026-10-30") -> CatalogRows:
    """finance_close_report declares and reads finance's private staging (a declared bypass)."""
    return CatalogRows(
        datasets=(Dataset("stg_finance__invoices_issued", None, "staging", *FINANCE, "private", "view", None),),
        consumers=(Consumer("finance_close_report", "analysis", "Finance Controlling", "c@agora.example", None, None),),
        declared_reads=(("finance_close_report", "stg_finance__invoices_issued", None),),
        observed_reads=(
            ObservedRead(
                "controller", "finance_close_report", "stg_finance__invoices_issued", None, 4, observed_last_seen
            ),
        ),
        lineage=(),
        findings=findings,
    )


def finding(kind: str, consumer: str = "finance_close_report") -> Finding:
    return Finding(kind, "warn", "stg_finance__invoices_issued", None, consumer, None, None, None, kind, None)


def test_reader_marks_a_stale_finding_wins_over_a_read_outside_the_window() -> None:
    result = reader_marks(tiny((finding("stale"),), observed_last_seen="2026-01-02"))

    expected = [
        ReaderMark(
            Reader("finance_close_report", "consumer"), "stg_finance__invoices_issued", "stale", (), 4, "2026-01-02"
        )
    ]
    assert result == expected


def test_dependency_graph_keeps_a_declared_bypass_out_of_the_hidden_lane() -> None:
    rows = tiny((finding("bypass"),))

    result = [(e.source, e.target, e.kind, e.bypass) for e in dependency_graph(rows, reader_marks(rows)).edges]

    assert result == [("stg_finance__invoices_issued", "consumer:finance_close_report", "declared", True)]


def test_report_escapes_every_text(small: str) -> None:
    assert "<script" not in small
    assert "Orders &lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt; &amp; more" in small


def test_report_loads_nothing_from_the_network(small: str) -> None:
    urls = re.findall(r'(\S+)\s*=\s*"(https?://[^"]*)"', small)

    assert urls == [("href", "https://bi.agora.example/exec")]  # a link to follow, not a load
    assert re.findall(r"https?://", small) == ["https://"]
    assert not re.search(r"<(script|link|img|iframe|object|embed)\b|@import|url\(\s*['\"]?(https?:)?//", small)
    assert "default-src 'none'" in small


def test_report_is_the_same_bytes_whatever_the_row_order(small: str, tmp_path: Path) -> None:
    result = render(tmp_path, SMALL, reverse=True)

    assert result == small


def test_write_report_without_catalog_tables_is_one_clear_error(tmp_path: Path) -> None:
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    con = duckdb.connect(str(tmp_path / "empty.duckdb"), read_only=True)
    try:
        with pytest.raises(AgoraError) as raised:
            write_report(con, tmp_path / "report.html")
    finally:
        con.close()

    assert str(raised.value) == (
        "no catalog in this snapshot yet (missing catalog.datasets, catalog.columns, catalog.consumers, "
        "catalog.declared_reads, catalog.observed_reads, catalog.lineage, catalog.findings): "
        "run `agora catalog refresh` (or `agora run`)"
    )
    assert not (tmp_path / "report.html").exists()


def test_write_report_renders_empty_catalog_tables(tmp_path: Path) -> None:
    page = render(tmp_path, {})

    assert "Never refreshed" in page
    assert page.rstrip().endswith("</html>")


def test_report_command_writes_the_report_into_the_home(tmp_path: Path) -> None:
    home = Home(tmp_path / "home").ensure()
    build_catalog(home.serving, SMALL)

    result = CliRunner().invoke(report_command, ["--open-path-only"], obj=home)

    assert (result.exit_code, result.output) == (0, f"{home.root / 'catalog' / 'report.html'}\n")
    assert 'data-mark="hidden"' in (home.root / "catalog" / "report.html").read_text(encoding="utf-8")


def test_report_command_without_a_snapshot_is_one_line(tmp_path: Path) -> None:
    home = Home(tmp_path / "home").ensure()

    result = CliRunner().invoke(report_command, [], obj=home)

    assert result.exit_code == 1
    assert result.output == (
        f"agora: error: no serving snapshot in {home.root} yet: run `agora catalog refresh` (or `agora run`)\n"
    )


def test_report_command_without_catalog_tables_is_one_line(tmp_path: Path) -> None:
    home = Home(tmp_path / "home").ensure()
    duckdb.connect(str(home.serving)).close()

    result = CliRunner().invoke(report_command, [], obj=home)

    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert result.output.startswith("agora: error: no catalog in this snapshot yet (missing catalog.datasets")


# ---------------------------------------------------------------------------------------------
# At the company's scale: six domains, ~60 datasets, ~10 consumers

DOMAINS = {
    "sales": (["customers", "products"], ["customers", "orders_cancelled", "orders_placed", "products"]),
    "finance": (["fx_rates"], ["fx_rates", "invoices_issued", "payments_received", "refunds_issued"]),
    "marketing": (["campaigns"], ["campaigns", "campaigns_launched", "leads_captured"]),
    "support": (["agents"], ["agents", "tickets_opened", "tickets_resolved"]),
    "devops": (["services"], ["deployments_finished", "incidents_opened", "incidents_resolved", "services"]),
    "qa": (["test_suites"], ["test_suites", "testruns_completed"]),
}
PUBLIC = {
    "sales": ["sales_customers", "sales_customer_history", "sales_orders", "sales_products"],
    "finance": ["finance_fx_rates", "finance_invoices", "finance_payments", "finance_refunds"],
    "marketing": ["marketing_campaigns", "marketing_leads"],
    "support": ["support_agents", "support_tickets"],
    "devops": ["devops_deployments", "devops_incidents", "devops_services"],
    "qa": ["qa_test_suites", "qa_testruns"],
}
MARTS = {
    "order_to_cash": ["sales_orders", "finance_invoices", "finance_payments", "finance_refunds", "finance_fx_rates"],
    "customer_360": ["sales_customers", "sales_orders", "support_tickets", "marketing_leads", "finance_payments"],
    "campaign_attribution": ["marketing_campaigns", "marketing_leads", "sales_orders", "finance_payments"],
    "delivery_quality": ["devops_deployments", "devops_incidents", "devops_services", "qa_testruns"],
    "support_load": ["support_tickets", "sales_orders"],
}
CONSUMERS = {
    # name: (type, owner, declared reads, hidden reads, stale reads)
    "executive_dashboard": ("dashboard", "Executive Office", list(MARTS), ["finance_invoices"], []),
    "finance_close_report": (
        "analysis",
        "Finance Controlling",
        ["order_to_cash", "finance_invoices", "finance_payments", "finance_refunds", "finance_fx_rates"],
        [],
        ["finance_fx_rates"],
    ),
    "marketing_roi_dashboard": (
        "dashboard",
        "Growth Marketing",
        ["campaign_attribution", "marketing_campaigns"],
        ["sales_orders"],
        [],
    ),
    "support_ops_microsite": (
        "application",
        "Customer Support Tools",
        ["support_load", "support_tickets", "support_agents"],
        [],
        [],
    ),
    "support_assistant_agent": (
        "ml",
        "Customer Support Tools",
        ["customer_360", "support_tickets"],
        ["sales_customers"],
        [],
    ),
    "revenue_analytics_team": (
        "analysis",
        "Revenue Analytics",
        ["order_to_cash", "customer_360", "sales_orders"],
        ["stg_finance__payments_received"],
        ["customer_360"],
    ),
    "reliability_analytics_team": (
        "analysis",
        "Reliability Analytics",
        ["delivery_quality", "devops_incidents", "qa_test_suites"],
        [],
        ["qa_test_suites"],
    ),
    "churn_model": ("ml", "Data Science", ["customer_360"], ["sales.customers"], []),
    "ops_slack_bot": ("application", "Platform SRE", ["devops_incidents", "devops_services"], [], []),
    "board_pack": ("analysis", "Finance Controlling", ["order_to_cash", "campaign_attribution"], [], []),
}


def company(extra_staging: int = 0) -> dict[str, list[tuple]]:
    """The six microsites at the demo's scale, with a few hidden, stale and bypassing reads."""
    teams = {d: (d, f"{d}-team", f"{d}-data@agora.example") for d in DOMAINS}
    datasets, lineage, declared, observed, findings = [], [], [], [], []
    for domain, (extracts, staging) in DOMAINS.items():
        datasets.append((f"{domain}.events", None, "raw", *teams[domain], "private", "landed", f"{domain} events"))
        for table in extracts:
            datasets.append((f"{domain}.{table}", None, "raw", *teams[domain], "private", "landed", None))
        for entity in staging + [f"extra_{i:02d}" for i in range(extra_staging if domain == "sales" else 0)]:
            model = f"stg_{domain}__{entity}"
            datasets.append((model, None, "staging", *teams[domain], "private", "view", None))
            source = f"{domain}.{entity}" if entity in extracts else f"{domain}.events"
            lineage.append((source, model, "dbt"))
            for public in PUBLIC[domain]:
                if public.split("_", 1)[1][:5] == entity[:5] or (
                    entity.startswith("extra") and public == "sales_orders"
                ):
                    lineage.append((model, public, "dbt"))
        for public in PUBLIC[domain]:
            datasets.append((public, None, "public", *teams[domain], "public", "table", f"{domain}'s interface"))
    datasets.append(("int_customers_versioned", None, "intermediate", *teams["sales"], "private", "view", None))
    lineage += [
        ("stg_sales__customers", "int_customers_versioned", "dbt"),
        ("int_customers_versioned", "sales_customer_history", "dbt"),
    ]
    lineage.append(("stg_sales__customers", "support_tickets", "dbt"))  # a bypass inside dbt
    for mart, upstreams in MARTS.items():
        datasets.append(
            (mart, None, "marts", "analytics", "data-platform", "data-platform@agora.example", "public", "table", None)
        )
        lineage += [(upstream, mart, "dbt") for upstream in upstreams]
    datasets += [
        ("scratch_orders_export", None, "other", None, None, None, "private", "table", "Copied by hand"),
        ("legacy_kpis", None, "other", None, None, None, "private", "table", None),
    ]
    consumers = []
    for name, (kind, owner, reads, hidden, stale) in CONSUMERS.items():
        consumers.append((name, kind, owner, f"{name}@agora.example", "high", None, [name]))
        for dataset in reads:
            declared.append((name, dataset, None))
            if dataset not in stale:
                observed.append((name, name, dataset, None, "allowed", 10, 2, TS, TS))
        for dataset in hidden:
            observed.append((name, name, dataset, None, "allowed", 3, 1, TS, TS))
            findings.append(
                (
                    "hidden",
                    "warn",
                    dataset,
                    None,
                    name,
                    name,
                    None,
                    "owner@agora.example",
                    f"{name} reads {dataset}",
                    None,
                )
            )
        for dataset in stale:
            findings.append(
                (
                    "stale",
                    "warn",
                    dataset,
                    None,
                    name,
                    None,
                    None,
                    f"{name}@agora.example",
                    f"{name} declares {dataset}",
                    None,
                )
            )
    observed.append(("ana", None, "stg_finance__invoices_issued", None, "allowed", 2, 1, TS, TS))
    findings += [
        (
            "hidden",
            "warn",
            "stg_finance__invoices_issued",
            None,
            None,
            "ana",
            None,
            "finance-data@agora.example",
            "ana reads it",
            None,
        ),
        (
            "bypass",
            "error",
            "stg_finance__invoices_issued",
            None,
            None,
            "ana",
            None,
            "finance-data@agora.example",
            "private",
            None,
        ),
        (
            "bypass",
            "error",
            "sales.customers",
            None,
            "churn_model",
            "churn_model",
            None,
            "sales-data@agora.example",
            "raw",
            None,
        ),
        (
            "bypass",
            "error",
            "stg_sales__customers",
            None,
            None,
            None,
            "support_tickets",
            "sales-data@agora.example",
            "dbt",
            None,
        ),
        (
            "unowned",
            "warn",
            "scratch_orders_export",
            None,
            None,
            None,
            None,
            "data-platform@agora.example",
            "no owner",
            None,
        ),
        ("unowned", "warn", "legacy_kpis", None, None, None, None, "data-platform@agora.example", "no owner", None),
    ]
    return {
        "datasets": datasets,
        "consumers": consumers,
        "declared_reads": declared,
        "observed_reads": observed,
        "lineage": lineage,
        "findings": findings,
        "refreshes": [(TS, None, 104_233, 812, 30, TS, len(findings), 3.2)],
    }


def hidden_edges(page: str) -> set[tuple[str, str]]:
    return {
        (a["data-from"], a["data-to"])
        for tag, a, _ in elements(page)
        if tag == "path" and "hidden" in a.get("class", "").split()
    }


def test_report_at_company_scale_draws_every_hidden_read(tmp_path: Path) -> None:
    tables = company()
    page = render(tmp_path, tables)

    assert len(tables["datasets"]) == 58
    assert hidden_edges(page) == {
        ("finance_invoices", "consumer:executive_dashboard"),
        ("sales_orders", "consumer:marketing_roi_dashboard"),
        ("sales_customers", "consumer:support_assistant_agent"),
        ("stg_finance__payments_received", "consumer:revenue_analytics_team"),
        ("sales.customers", "consumer:churn_model"),
        ("stg_finance__invoices_issued", "principal:ana"),
    }
    assert "Collapsed to one node per domain" not in page


def test_report_collapses_a_crowded_staging_column_per_domain_and_keeps_hidden_reads(tmp_path: Path) -> None:
    page = render(tmp_path, company(extra_staging=COLLAPSE_ABOVE))
    nodes = {a["data-node"] for tag, a, _ in elements(page) if tag == "a" and "data-node" in a}

    assert {n for n in nodes if n.startswith("staging:")} == {f"staging:{d}" for d in DOMAINS}
    assert not any(n.startswith("stg_") for n in nodes)
    assert hidden_edges(page) == {
        ("finance_invoices", "consumer:executive_dashboard"),
        ("sales_orders", "consumer:marketing_roi_dashboard"),
        ("sales_customers", "consumer:support_assistant_agent"),
        ("staging:finance", "consumer:revenue_analytics_team"),
        ("sales.customers", "consumer:churn_model"),
        ("staging:finance", "principal:ana"),
    }
    assert "Collapsed to one node per domain to stay readable: staging" in page


# ---------------------------------------------------------------------------------------------
# Looked at in a browser


def png_pixels(data: bytes) -> tuple[int, int, Iterator[tuple[int, ...]]]:
    """Width, height and the pixels of an 8-bit RGB(A) PNG (what Chromium writes), without PIL."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat = 8, b""
    width = height = channels = 0
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        chunk = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        position += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    rows = []
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(bytes(line))
        previous = line
    pixels = (tuple(row[x : x + 3]) for row in rows for x in range(0, stride, channels))
    return width, height, pixels


@pytest.mark.slow
@pytest.mark.integration
def test_report_renders_offline_in_headless_chromium(tmp_path: Path) -> None:
    browser = chromium()
    if browser is None:
        pytest.skip("Chromium is not installed (`make test` installs Debian's chromium)")
    render(tmp_path, company())
    page = tmp_path / "report.html"
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "catalog-report.png"
    shot.unlink(missing_ok=True)
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,2000"]

    dom = subprocess.run([browser, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    subprocess.run([browser, *flags, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120)

    assert 'data-to="principal:ana"' in dom.stdout
    width, height, pixels = png_pixels(shot.read_bytes())
    colours: dict[tuple[int, ...], int] = {}
    for pixel in pixels:
        colours[pixel] = colours.get(pixel, 0) + 1
    background = max(colours.values())
    assert (width, height) == (1400, 2000)
    assert shot.stat().st_size > 50_000
    assert len(colours) > 200  # text, nodes and curves, not a blank page
    assert background < 0.8 * width * height
    assert any(r > 180 and g < 80 and b < 80 for r, g, b in colours)  # the red of hidden reads is on screen
