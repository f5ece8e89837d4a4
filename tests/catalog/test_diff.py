"""`agora catalog diff`: contracts and dbt models compared between a git revision and the working
tree of a scratch repository (a copy of catalog/contracts, models/ and dbt_project.yml)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import click
import duckdb
import pytest
import yaml
from click.testing import CliRunner

from catalog.diff import (
    Affected,
    Answer,
    CatalogWhoBreaks,
    DeclaredWhoBreaks,
    default_who_breaks,
    diff,
    diff_command,
    parse_sql_type,
    sql_widens,
)
from catalog.store import CATALOG_DDL, read_tables
from pipelines.home import Home

REPO = Path(__file__).resolve().parents[2]
GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@agora.example", "-c", "commit.gpgsign=false"]

EXEC = "exec-office@agora.example"
SALES = "sales-data@agora.example"
ANALYTICS = "data-platform@agora.example"


def git(repo: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def edit_yaml(path: Path, change) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def model(doc: dict, name: str) -> dict:
    return next(m for m in doc["models"] if m["name"] == name)


def column(entry: dict, name: str) -> dict:
    return next(c for c in entry["columns"] if c["name"] == name)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A committed copy of the contracts and dbt project, tagged `base`."""
    root = tmp_path / "repo"
    shutil.copytree(REPO / "catalog" / "contracts", root / "catalog" / "contracts")
    shutil.copytree(REPO / "models", root / "models")
    shutil.copy(REPO / "dbt_project.yml", root / "dbt_project.yml")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "tag", "base")
    return root


def _edit_sales_orders(doc: dict) -> None:
    orders = model(doc, "sales_orders")
    orders["columns"] = [c for c in orders["columns"] if c["name"] != "cancellation_reason"]
    column(orders, "quantity")["data_type"] = "bigint"
    orders["columns"].append({"name": "discount", "data_type": "decimal(18,2)", "description": "Discount."})


def _edit_order_to_cash(doc: dict) -> None:
    mart = model(doc, "order_to_cash")
    column(mart, "placed_date")["name"] = "order_date"
    column(mart, "days_to_cash")["data_type"] = "integer"


def _edit_order_placed(doc: dict) -> None:
    doc["fields"]["amount"]["type"] = "integer"
    doc["fields"]["coupon_code"] = {"type": "string", "required": True}


def _edit_customers(doc: dict) -> None:
    doc["columns"]["phone"] = {"type": "string", "pii": True}


@pytest.fixture
def edited(repo: Path) -> Path:
    """The working tree after a producer's edits: drop, rename, narrow, widen, add, remove, re-key."""
    edit_yaml(repo / "models/public/sales/_sales__public.yml", _edit_sales_orders)
    edit_yaml(repo / "models/marts/order_to_cash.yml", _edit_order_to_cash)
    edit_yaml(repo / "catalog/contracts/events/sales.order.placed.yml", _edit_order_placed)
    edit_yaml(repo / "catalog/contracts/extracts/sales.customers.yml", _edit_customers)
    sql = repo / "models/public/sales/sales_orders.sql"
    sql.write_text(sql.read_text().replace("unique_key='order_id'", "unique_key=['order_id', 'channel']"))
    (repo / "models/marts/support_load.sql").unlink()
    (repo / "models/marts/support_load.yml").unlink()
    return repo


EXPECTED_CHANGES = [
    ("order_to_cash", "days_to_cash", None, "narrowed_type", True, "days_to_cash: double → integer"),
    ("order_to_cash", "placed_date", "order_date", "renamed_column", True, "placed_date → order_date (date)"),
    ("sales.customers", "phone", None, "added_column", False, "phone (string, optional) added"),
    ("sales.events", "data.amount", None, "narrowed_type", True, "sales.order.placed: amount: number → integer"),
    (
        "sales.events",
        "data.coupon_code",
        None,
        "added_required",
        True,
        "sales.order.placed: coupon_code (string) added as required: producers that do not send it are quarantined",
    ),
    (
        "sales_orders",
        None,
        None,
        "changed_grain",
        True,
        "unique_key order_id; grain one row per order → unique_key order_id, channel; grain one row per order",
    ),
    ("sales_orders", "cancellation_reason", None, "dropped_column", True, "cancellation_reason (varchar) removed"),
    ("sales_orders", "discount", None, "added_column", False, "discount (decimal(18,2), nullable) added"),
    ("sales_orders", "quantity", None, "widened_type", False, "quantity: integer → bigint"),
    ("support_load", None, None, "removed_model", True, "support_load removed"),
]

STUB: dict[tuple[str, str | None], list[Affected]] = {
    ("order_to_cash", "days_to_cash"): [Affected("executive_dashboard", "declared", EXEC, ("order_to_cash",))],
    ("order_to_cash", "placed_date"): [
        Affected("revenue-analyst", "observed", "rev@agora.example", ("order_to_cash",))
    ],
    ("sales_orders", None): [
        Affected("order_to_cash", "model", ANALYTICS, ("sales_orders",)),
        Affected("support_assistant_agent", "declared", "support-data@agora.example", ("sales_orders",)),
    ],
    ("sales_orders", "cancellation_reason"): [Affected("ops-bot", "observed", "", ("sales_orders",))],
    ("support_load", None): [
        Affected("support_ops_microsite", "declared", "support-data@agora.example", ("support_load",))
    ],
    ("sales.events", None): [
        Affected("stg_sales__orders_placed", "model", SALES, ("sales.events",)),
        Affected("stg_sales__orders_cancelled", "model", SALES, ("sales.events",)),
        Affected("sales_orders", "model", SALES, ("sales.events", "stg_sales__orders_cancelled")),
    ],
    ("sales.events", "data"): [
        Affected("sales-analyst", "observed", "rev@agora.example", ("sales.events",)),
        Affected("finance_close_report", "declared", "controlling@agora.example", ("sales.events", "x", "y")),
    ],
    ("stg_sales__orders_placed", "order_amount"): [
        Affected("sales_orders", "model", SALES, ("stg_sales__orders_placed",)),
        Affected(
            "executive_dashboard", "declared", EXEC, ("stg_sales__orders_placed", "sales_orders", "order_to_cash")
        ),
    ],
    ("stg_sales__orders_placed", None): [Affected("sales_orders", "model", SALES, ("stg_sales__orders_placed",))],
}


class StubWhoBreaks:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    def __call__(self, dataset: str, column: str | None) -> list[Affected]:
        self.calls.append((dataset, column))
        return STUB.get((dataset, column), [])


def rows(result) -> list[tuple]:
    return [(c.dataset, c.column, c.new_column, c.kind, c.breaking, c.detail) for c in result.changes]


def consumers(result) -> dict[tuple[str, str | None, str], list[tuple]]:
    return {
        (c.dataset, c.column, c.kind): [(a.name, a.kind, a.owner, a.via) for a in c.consumers]
        for c in result.changes
        if c.consumers
    }


def tree_digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_diff_lists_every_change(edited: Path) -> None:
    result = diff(edited, "base", StubWhoBreaks())

    assert rows(result) == EXPECTED_CHANGES
    assert result.breaking is True


def test_diff_names_the_consumers_of_each_breaking_change(edited: Path) -> None:
    result = diff(edited, "base", StubWhoBreaks())

    expected = {
        ("order_to_cash", "days_to_cash", "narrowed_type"): [
            ("executive_dashboard", "declared", EXEC, ("order_to_cash",))
        ],
        ("order_to_cash", "placed_date", "renamed_column"): [
            ("revenue-analyst", "observed", "rev@agora.example", ("order_to_cash",))
        ],
        ("sales.events", "data.amount", "narrowed_type"): [
            (
                "executive_dashboard",
                "declared",
                EXEC,
                ("sales.events", "stg_sales__orders_placed", "sales_orders", "order_to_cash"),
            ),
            ("sales-analyst", "observed", "rev@agora.example", ("sales.events",)),
            ("sales_orders", "model", SALES, ("sales.events", "stg_sales__orders_placed")),
            ("stg_sales__orders_placed", "model", SALES, ("sales.events",)),
        ],
        ("sales.events", "data.coupon_code", "added_required"): [
            ("sales-analyst", "observed", "rev@agora.example", ("sales.events",)),
            ("sales_orders", "model", SALES, ("sales.events", "stg_sales__orders_placed")),
            ("stg_sales__orders_placed", "model", SALES, ("sales.events",)),
        ],
        ("sales_orders", None, "changed_grain"): [
            ("support_assistant_agent", "declared", "support-data@agora.example", ("sales_orders",)),
            ("order_to_cash", "model", ANALYTICS, ("sales_orders",)),
        ],
        ("sales_orders", "cancellation_reason", "dropped_column"): [("ops-bot", "observed", "", ("sales_orders",))],
        ("support_load", None, "removed_model"): [
            ("support_ops_microsite", "declared", "support-data@agora.example", ("support_load",))
        ],
    }
    assert consumers(result) == expected


def test_diff_asks_nothing_about_non_breaking_changes(edited: Path) -> None:
    who_breaks = StubWhoBreaks()

    diff(edited, "base", who_breaks)

    assert sorted(set(who_breaks.calls), key=str) == sorted(
        {
            ("order_to_cash", "days_to_cash"),
            ("order_to_cash", "placed_date"),
            ("sales.events", None),
            ("sales.events", "data"),
            ("stg_sales__orders_placed", "order_amount"),
            ("stg_sales__orders_placed", None),
            ("sales_orders", None),
            ("sales_orders", "cancellation_reason"),
            ("support_load", None),
        },
        key=str,
    )


def test_diff_leaves_the_working_tree_untouched(edited: Path) -> None:
    before, status = tree_digest(edited), git(edited, "status", "--porcelain")

    diff(edited, "base", StubWhoBreaks())

    assert tree_digest(edited) == before
    assert git(edited, "status", "--porcelain") == status


def test_diff_without_edits_finds_nothing(repo: Path) -> None:
    result = diff(repo, "HEAD", StubWhoBreaks())

    assert result.changes == ()
    assert result.breaking is False


def test_diff_reports_extract_removal_and_primary_key_change(repo: Path) -> None:
    (repo / "catalog/contracts/extracts/support.agents.yml").unlink()
    edit_yaml(
        repo / "catalog/contracts/extracts/sales.products.yml",
        lambda doc: doc.update(primary_key=[*doc["primary_key"], "name"]),
    )

    result = diff(repo, "HEAD", StubWhoBreaks())

    assert rows(result) == [
        ("sales.products", None, None, "changed_grain", True, "primary_key product_id → primary_key product_id, name"),
        ("support.agents", None, None, "removed_extract", True, "support.agents removed"),
    ]


def test_diff_reports_contract_nullability_and_enum_changes(repo: Path) -> None:
    def edit(doc: dict) -> None:
        doc["columns"]["email"]["required"] = False
        doc["columns"]["segment"]["enum"] = ["enterprise", "smb"]
        doc["columns"]["region"]["enum"] = ["emea", "amer", "apac", "latam"]

    edit_yaml(repo / "catalog/contracts/extracts/sales.customers.yml", edit)

    result = diff(repo, "HEAD", StubWhoBreaks())

    assert rows(result) == [
        (
            "sales.customers",
            "email",
            None,
            "made_optional",
            True,
            "email: no longer required: readers may see it missing or null",
        ),
        ("sales.customers", "region", None, "widened_enum", False, "region: allows latam too"),
        ("sales.customers", "segment", None, "narrowed_enum", True, "segment: no longer allows consumer, mid_market"),
    ]


def test_diff_reports_model_access_contract_and_nullability(repo: Path) -> None:
    def edit(doc: dict) -> None:
        products = model(doc, "sales_products")
        products["config"] = {"contract": {"enforced": False}, "access": "private"}
        orders = model(doc, "sales_orders")
        column(orders, "order_id")["constraints"] = []
        column(orders, "order_id")["data_tests"] = ["unique"]

    edit_yaml(repo / "models/public/sales/_sales__public.yml", edit)

    result = diff(repo, "HEAD", StubWhoBreaks())

    assert rows(result) == [
        (
            "sales_orders",
            "order_id",
            None,
            "made_nullable",
            True,
            "order_id: no longer guaranteed not null: readers may see nulls",
        ),
        ("sales_products", None, None, "restricted_access", True, "access: public → private"),
        ("sales_products", None, None, "unenforced_contract", True, "contract: enforced → not enforced"),
    ]


@pytest.mark.parametrize(
    ("old", "new", "widens"),
    [
        ("integer", "bigint", True),
        ("bigint", "integer", False),
        ("int", "int4", True),
        ("double", "integer", False),
        ("integer", "double", True),
        ("bigint", "double", False),
        ("float", "double", True),
        ("decimal(18,2)", "decimal(20,2)", True),
        ("decimal(18,2)", "decimal(18,4)", False),
        ("decimal(18,2)", "decimal(10,2)", False),
        ("integer", "decimal(12,2)", True),
        ("integer", "decimal(10,2)", False),
        ("varchar(10)", "varchar(20)", True),
        ("varchar", "varchar(20)", False),
        ("varchar(20)", "varchar", True),
        ("varchar", "enum('a', 'b')", False),
        ("enum('a', 'b')", "enum('a', 'b', 'c')", True),
        ("enum('a', 'b')", "varchar", True),
        ("date", "timestamp", True),
        ("timestamp", "date", False),
        ("timestamp", "timestamp with time zone", False),
        ("text", "varchar", True),
    ],
)
def test_sql_widens_follows_the_widening_table(old: str, new: str, widens: bool) -> None:
    assert sql_widens(parse_sql_type(old), parse_sql_type(new)) is widens


# --------------------------------------------------------------------------- default adapters

CONSUMERS_YML = """
consumers:
  - name: close_report
    owner: {name: Finance Controlling, email: controlling@agora.example}
    reads:
      - {dataset: sales_orders, columns: [order_id, cancellation_reason]}
  - name: order_counter
    owner: {name: Ops, email: ops@agora.example}
    reads:
      - {dataset: sales_orders, columns: [order_id]}
  - name: exec_board
    owner: {name: Executive Office, email: exec-office@agora.example}
    reads:
      - {dataset: order_to_cash}
  - name: raw_reader
    owner: {name: Data Science, email: ds@agora.example}
    reads:
      - {dataset: sales.events}
"""


def _manifest() -> dict:
    def node(name: str, group: str) -> dict:
        return {"name": name, "resource_type": "model", "group": group}

    return {
        "metadata": {"project_name": "agora"},
        "groups": {
            "group.agora.sales": {"name": "sales", "owner": {"name": "sales-engineering", "email": SALES}},
            "group.agora.analytics": {"name": "analytics", "owner": {"name": "platform", "email": ANALYTICS}},
        },
        "nodes": {
            "model.agora.stg_sales__orders_placed": node("stg_sales__orders_placed", "sales"),
            "model.agora.stg_sales__orders_cancelled": node("stg_sales__orders_cancelled", "sales"),
            "model.agora.sales_orders": node("sales_orders", "sales"),
            "model.agora.order_to_cash": node("order_to_cash", "analytics"),
        },
        "sources": {"source.agora.raw_sales.events": {"source_name": "raw_sales", "name": "events"}},
        "exposures": {
            "exposure.agora.exec_board": {"name": "exec_board", "owner": {"email": EXEC}},
            "exposure.agora.wall_screen": {"name": "wall_screen", "owner": {"email": "office@agora.example"}},
        },
        "child_map": {
            "source.agora.raw_sales.events": [
                "model.agora.stg_sales__orders_cancelled",
                "model.agora.stg_sales__orders_placed",
            ],
            "model.agora.stg_sales__orders_placed": ["model.agora.sales_orders"],
            "model.agora.stg_sales__orders_cancelled": ["model.agora.sales_orders"],
            "model.agora.sales_orders": ["model.agora.order_to_cash"],
            "model.agora.order_to_cash": ["exposure.agora.exec_board", "exposure.agora.wall_screen"],
        },
    }


@pytest.fixture
def declared_home(tmp_path: Path, edited: Path) -> Home:
    """A home without a serving snapshot, its dbt manifest, and consumers.yml in the repo."""
    (edited / "catalog" / "consumers.yml").write_text(CONSUMERS_YML, encoding="utf-8")
    home = Home(tmp_path / "home")
    target = home.root / "dbt" / "target"
    target.mkdir(parents=True)
    (target / "manifest.json").write_text(json.dumps(_manifest()), encoding="utf-8")
    return home


def test_default_who_breaks_falls_back_to_declarations_and_manifest(declared_home: Home, edited: Path) -> None:
    who_breaks, source = default_who_breaks(declared_home, edited)

    result = diff(edited, "base", who_breaks)

    assert isinstance(who_breaks, DeclaredWhoBreaks)
    assert source == (
        f"declarations in {edited / 'catalog' / 'consumers.yml'} + dbt manifest "
        f"{declared_home.root / 'dbt' / 'target' / 'manifest.json'} (table-level); "
        f"no observed reads: no serving snapshot at {declared_home.serving}"
    )
    found = consumers(result)
    assert found[("sales_orders", "cancellation_reason", "dropped_column")] == [
        ("close_report", "declared", "controlling@agora.example", ("sales_orders",)),
        ("exec_board", "declared", EXEC, ("sales_orders", "order_to_cash")),
        ("wall_screen", "exposure", "office@agora.example", ("sales_orders", "order_to_cash")),
        ("order_to_cash", "model", ANALYTICS, ("sales_orders",)),
    ]
    assert found[("sales.events", "data.amount", "narrowed_type")] == [
        (
            "close_report",
            "declared",
            "controlling@agora.example",
            ("sales.events", "stg_sales__orders_placed", "sales_orders"),
        ),
        ("exec_board", "declared", EXEC, ("sales.events", "stg_sales__orders_placed", "sales_orders", "order_to_cash")),
        (
            "order_counter",
            "declared",
            "ops@agora.example",
            ("sales.events", "stg_sales__orders_placed", "sales_orders"),
        ),
        ("raw_reader", "declared", "ds@agora.example", ("sales.events",)),
        (
            "wall_screen",
            "exposure",
            "office@agora.example",
            ("sales.events", "stg_sales__orders_placed", "sales_orders", "order_to_cash"),
        ),
        ("order_to_cash", "model", ANALYTICS, ("sales.events", "stg_sales__orders_placed", "sales_orders")),
        ("sales_orders", "model", SALES, ("sales.events", "stg_sales__orders_placed")),
        ("stg_sales__orders_placed", "model", SALES, ("sales.events",)),
    ]


def _serving_with_catalog(home: Home) -> None:
    home.root.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(home.serving))
    try:
        con.execute(CATALOG_DDL)
        con.execute(
            "INSERT INTO catalog.datasets (dataset, layer, domain, owner_team, owner_contact, access) VALUES "
            "('sales_orders', 'public', 'sales', 'sales-engineering', 'sales-data@agora.example', 'public'), "
            "('order_to_cash', 'marts', 'analytics', 'platform', 'data-platform@agora.example', 'public'), "
            "('support_load', 'marts', 'analytics', 'platform', 'data-platform@agora.example', 'public'), "
            "('daily_orders', 'marts', 'analytics', 'platform', 'data-platform@agora.example', 'public')"
        )
        con.execute(
            "INSERT INTO catalog.consumers VALUES "
            "('exec_board', 'dashboard', 'Executive Office', 'exec-office@agora.example', 'high', '', ['exec-dashboard']), "
            "('close_report', 'analysis', 'Finance Controlling', 'controlling@agora.example', 'high', '', [])"
        )
        con.execute(
            "INSERT INTO catalog.declared_reads VALUES "
            "('exec_board', 'order_to_cash', 'status'), ('close_report', 'order_to_cash', 'paid_amount'), "
            "('close_report', 'sales_orders', 'cancellation_reason'), ('exec_board', 'daily_orders', NULL)"
        )
        con.execute(
            "INSERT INTO catalog.columns VALUES "
            "('sales_orders', 'order_id', 'VARCHAR', false, NULL), "
            "('sales_orders', 'cancellation_reason', 'VARCHAR', false, NULL), "
            "('order_to_cash', 'order_id', 'VARCHAR', false, NULL), "
            "('order_to_cash', 'status', 'VARCHAR', false, NULL), "
            "('order_to_cash', 'paid_amount', 'DECIMAL(18,2)', false, NULL), "
            "('order_to_cash', 'placed_date', 'DATE', false, NULL), "
            "('order_to_cash', 'days_to_cash', 'DOUBLE', false, NULL)"
        )
        # sales-analyst and nightly-export read for no consumer: hidden; the intern was refused
        con.execute(
            "INSERT INTO catalog.observed_reads VALUES "
            "('sales-analyst', NULL, 'sales_orders', NULL, 'allowed', 3, 1, now(), now()), "
            "('sales-analyst', NULL, 'sales_orders', 'cancellation_reason', 'allowed', 3, 1, now(), now()), "
            "('nightly-export', NULL, 'sales_orders', 'cancellation_reason', 'failed', 2, 1, now(), now()), "
            "('intern', NULL, 'sales_orders', 'cancellation_reason', 'refused', 1, 1, now(), now()), "
            "('exec-dashboard', 'exec_board', 'order_to_cash', NULL, 'allowed', 9, 2, now(), now()), "
            "('exec-dashboard', 'exec_board', 'order_to_cash', 'status', 'allowed', 9, 2, now(), now())"
        )
        con.execute(
            "INSERT INTO catalog.lineage VALUES ('sales_orders', 'order_to_cash', 'dbt'), "
            "('sales_orders', 'daily_orders', 'dbt'), ('order_to_cash', 'support_load', 'dbt')"
        )
        con.execute(
            "INSERT INTO catalog.column_lineage VALUES "
            "('sales_orders', 'cancellation_reason', 'order_to_cash', 'status', 'projection'), "
            "('sales_orders', 'order_id', 'order_to_cash', 'order_id', 'projection'), "
            "('order_to_cash', 'status', 'support_load', '*', 'filter')"
        )
    finally:
        con.close()


def serving_who_breaks(home: Home, contacts: dict[str, str]) -> CatalogWhoBreaks:
    con = duckdb.connect(str(home.serving), read_only=True)
    try:
        return CatalogWhoBreaks(read_tables(con), contacts)
    finally:
        con.close()


def test_catalog_who_breaks_follows_column_lineage(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    _serving_with_catalog(home)
    who_breaks = serving_who_breaks(home, {"sales-analyst": "revenue-analytics@agora.example"})

    result = who_breaks("sales_orders", "cancellation_reason")

    # status feeds support_load's filter ('*'); daily_orders has no column lineage, so it counts whole;
    # close_report's paid_amount read, exec_board's table-level read and the refused read are not affected
    assert result == Answer(
        (
            Affected("close_report", "declared", "controlling@agora.example", ("sales_orders",)),
            Affected("exec_board", "declared", EXEC, ("sales_orders", "daily_orders")),
            Affected("exec_board", "observed", EXEC, ("sales_orders", "order_to_cash")),
            Affected("nightly-export", "observed", "", ("sales_orders",)),
            Affected("sales-analyst", "observed", "revenue-analytics@agora.example", ("sales_orders",)),
            Affected("daily_orders", "model", ANALYTICS, ("sales_orders",)),
            Affected("order_to_cash", "model", ANALYTICS, ("sales_orders",)),
            Affected("support_load", "model", ANALYTICS, ("sales_orders", "order_to_cash")),
        )
    )


def test_catalog_who_breaks_counts_a_failed_read_but_not_a_refused_one(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    _serving_with_catalog(home)
    who_breaks = serving_who_breaks(home, {})

    result = {a.name for a in who_breaks("sales_orders", "cancellation_reason").affected if a.kind == "observed"}

    assert result == {"exec_board", "nightly-export", "sales-analyst"}


def test_catalog_who_breaks_of_an_unused_column_is_its_direct_readers(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    _serving_with_catalog(home)
    who_breaks = serving_who_breaks(home, {})

    result = who_breaks("order_to_cash", "paid_amount")

    # exec-dashboard's table-level read of order_to_cash touched no column
    assert result == Answer((Affected("close_report", "declared", "controlling@agora.example", ("order_to_cash",)),))


def test_catalog_who_breaks_answers_a_column_it_does_not_know_with_the_whole_dataset(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    _serving_with_catalog(home)
    who_breaks = serving_who_breaks(home, {})

    result = who_breaks("order_to_cash", "discount")

    assert result == Answer(
        (
            Affected("close_report", "declared", "controlling@agora.example", ("order_to_cash",)),
            Affected("exec_board", "declared", EXEC, ("order_to_cash",)),
            Affected("exec_board", "observed", EXEC, ("order_to_cash",)),
            Affected("support_load", "model", ANALYTICS, ("order_to_cash",)),
        ),
        ("column order_to_cash.discount is not in the catalog: named the consumers of all of order_to_cash",),
    )


def test_catalog_who_breaks_of_a_dataset_it_does_not_know_names_nobody(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    _serving_with_catalog(home)
    who_breaks = serving_who_breaks(home, {})

    result = who_breaks("finance_invoices", "amount")

    assert result == Answer(
        (), ("finance_invoices is not in the catalog (last refreshed before it was built?): nobody named",)
    )


def test_default_who_breaks_prefers_the_serving_catalog(tmp_path: Path, repo: Path) -> None:
    home = Home(tmp_path / "home")
    _serving_with_catalog(home)

    who_breaks, source = default_who_breaks(home, repo)

    assert isinstance(who_breaks, CatalogWhoBreaks)
    assert source == f"catalog tables in {home.serving} (declared and observed reads, column lineage)"


# --------------------------------------------------------------------------- the command


def invoke(home: Home, *args: str):
    return CliRunner().invoke(diff_command, list(args), obj=home)


def test_diff_command_exits_1_on_a_breaking_change(tmp_path: Path, edited: Path) -> None:
    result = invoke(Home(tmp_path / "home"), "--base", "base", "--repo", str(edited), "--json")

    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["breaking"] is True
    assert [(c["dataset"], c["column"], c["change"], c["breaking"]) for c in report["changes"]] == [
        (d, c, k, b) for d, c, _, k, b, _ in EXPECTED_CHANGES
    ]


def test_diff_command_exits_0_on_additive_changes(tmp_path: Path, repo: Path) -> None:
    edit_yaml(repo / "catalog/contracts/extracts/sales.customers.yml", _edit_customers)

    result = invoke(Home(tmp_path / "home"), "--base", "HEAD", "--repo", str(repo))

    assert result.exit_code == 0, result.output
    assert "added_column" in result.stdout
    assert "1 change(s), 0 breaking" in result.stdout


def test_diff_command_prints_consumers_and_their_source(tmp_path: Path, declared_home: Home, edited: Path) -> None:
    runner = CliRunner(env={"COLUMNS": "240"})

    result = runner.invoke(diff_command, ["--base", "base", "--repo", str(edited)], obj=declared_home)

    assert result.exit_code == 1, result.output
    assert "close_report (declared, controlling@agora.example)" in result.stdout
    assert "10 change(s), 7 breaking" in result.stdout
    assert "no observed reads: no serving snapshot at" in result.stdout


def test_diff_command_names_a_hidden_consumer_through_the_catalog(tmp_path: Path, edited: Path) -> None:
    (edited / "catalog" / "access.yml").write_text(
        "principals:\n  - {name: sales-analyst, contact: revenue-analytics@agora.example}\n", encoding="utf-8"
    )
    home = Home(tmp_path / "home")
    _serving_with_catalog(home)

    result = invoke(home, "--base", "base", "--repo", str(edited), "--json")

    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["consumers_source"] == (
        f"catalog tables in {home.serving} (declared and observed reads, column lineage)"
    )
    dropped = next(c for c in report["changes"] if c["change"] == "dropped_column")
    assert (dropped["column"], dropped["notes"]) == ("cancellation_reason", [])
    assert [(a["name"], a["kind"], a["owner"], a["via"]) for a in dropped["consumers"]] == [
        ("close_report", "declared", "controlling@agora.example", ["sales_orders"]),
        ("exec_board", "declared", EXEC, ["sales_orders", "daily_orders"]),
        ("exec_board", "observed", EXEC, ["sales_orders", "order_to_cash"]),
        ("nightly-export", "observed", "", ["sales_orders"]),
        ("sales-analyst", "observed", "revenue-analytics@agora.example", ["sales_orders"]),
        ("daily_orders", "model", ANALYTICS, ["sales_orders"]),
        ("order_to_cash", "model", ANALYTICS, ["sales_orders"]),
        ("support_load", "model", ANALYTICS, ["sales_orders", "order_to_cash"]),
    ]


def test_diff_command_prints_where_the_catalog_could_not_answer(tmp_path: Path, edited: Path) -> None:
    home = Home(tmp_path / "home")
    _serving_with_catalog(home)

    result = CliRunner(env={"COLUMNS": "400"}).invoke(diff_command, ["--base", "base", "--repo", str(edited)], obj=home)

    assert result.exit_code == 1, result.output
    assert "sales.events is not in the catalog (last refreshed before it was built?): nobody named" in result.stdout


def test_diff_command_rejects_an_unknown_revision(tmp_path: Path, repo: Path) -> None:
    result = invoke(Home(tmp_path / "home"), "--base", "nope", "--repo", str(repo))

    assert result.exit_code == 2
    assert result.stderr == "agora: error: unknown revision 'nope'\n"
    assert result.stdout == ""


def test_diff_command_requires_a_base(tmp_path: Path, repo: Path) -> None:
    result = invoke(Home(tmp_path / "home"), "--repo", str(repo))

    assert result.exit_code == 2
    assert "Missing option '--base'" in result.stderr


def test_diff_command_uses_the_home_of_the_agora_group(
    tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.cli import main

    catalog = click.Group("catalog")
    catalog.add_command(diff_command)
    monkeypatch.setitem(main.commands, "catalog", catalog)
    home = Home(tmp_path / "home")
    _serving_with_catalog(home)

    result = CliRunner().invoke(
        main, ["--home", str(home.root), "catalog", "diff", "--base", "HEAD", "--repo", str(repo), "--json"]
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["consumers_source"] == (
        f"catalog tables in {home.serving} (declared and observed reads, column lineage)"
    )
