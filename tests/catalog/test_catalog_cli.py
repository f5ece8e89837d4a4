"""`agora catalog …` on the tiny company: refresh (log landed, catalog written, snapshot
published), then every question read back from the serving snapshot, as a person and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result

from catalog.query_log import QueryRecord, append
from pipelines.cli import main
from pipelines.home import Home
from tests.catalog.catalog_world import build_home, write_declarations

QUERIES = [
    ("dash-sa", "select order_id, amount from marts.order_to_cash where order_id = '1'"),
    ("dash-sa", "select order_id, amount from marts.order_to_cash where order_id = '2'"),  # same shape
    ("dash-sa", "select order_id, customer_email from order_to_cash"),  # hidden column
    ("nb-team", "select customer_id from raw_sales.customers"),  # sales' landed data: a bypass
    ("stranger", "select count(*) from sales_orders"),  # in no declaration at all: still reported
]


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Home, Path]:
    root = tmp_path_factory.mktemp("world")
    home = Home(build_home(root / "home"))
    declarations = write_declarations(root / "declarations")
    for principal, sql in QUERIES:
        record = QueryRecord.start(principal, sql, "test")
        record.finish("allowed", "", "", 0.0, rows=1)
        append(home, record)
    result = cli("--home", str(home.root), "catalog", "refresh", "--declarations", str(declarations), "--json")
    assert result.exit_code == 0, result.output
    return home, declarations


def ask(home: Home, *args: str) -> object:
    result = cli("--home", str(home.root), "catalog", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_catalog_cli_refresh_reports_what_it_did(world: tuple[Home, Path]) -> None:
    home, declarations = world
    result = cli("--home", str(home.root), "catalog", "refresh", "--declarations", str(declarations), "--json")
    doc = json.loads(result.output)
    assert {k: doc[k] for k in ("datasets", "log_entries", "shapes", "shapes_parsed", "findings", "problems")} == {
        "datasets": 11,
        "log_entries": 5,
        "shapes": 4,
        "shapes_parsed": 0,  # every shape was cached by the first refresh
        "findings": {"bypass": 4, "hidden": 2, "unowned": 1},
        "problems": [],
    }


def test_catalog_cli_hidden_json(world: tuple[Home, Path]) -> None:
    rows = ask(world[0], "hidden")
    result = [(r["consumer"], r["principal"], r["dataset"], r["column"]) for r in rows]  # type: ignore[union-attr]
    assert result == [("dash", "dash-sa", "order_to_cash", "customer_email"), (None, "stranger", "sales_orders", None)]


def test_catalog_cli_stale_json_is_an_empty_list(world: tuple[Home, Path]) -> None:
    assert ask(world[0], "stale") == []


def test_catalog_cli_bypass_json(world: tuple[Home, Path]) -> None:
    rows = ask(world[0], "bypass")
    result = sorted((r["dataset"], r["model"] or "", r["principal"] or "") for r in rows)  # type: ignore[union-attr]
    expected = [
        ("sales.customers", "", "nb-team"),
        ("sales.customers", "finance_invoices", ""),
        ("stg_sales__customers", "order_to_cash", ""),
        ("stg_sales__orders", "finance_invoices", ""),
    ]
    assert result == expected


def test_catalog_cli_unowned_json(world: tuple[Home, Path]) -> None:
    assert [r["dataset"] for r in ask(world[0], "unowned")] == ["raw_sales.tmp_backup"]  # type: ignore[union-attr]


def test_catalog_cli_owners_of_one_dataset(world: tuple[Home, Path]) -> None:
    result = ask(world[0], "owners", "raw_sales.customers")
    expected = [
        {
            "dataset": "sales.customers",
            "relation": "raw_sales.customers",
            "layer": "raw",
            "access": "private",
            "domain": "sales",
            "owner_team": "sales-team",
            "owner_contact": "sales@shop.example",
        }
    ]
    assert result == expected


def test_catalog_cli_consumers_shows_declared_and_hidden(world: tuple[Home, Path]) -> None:
    rows = ask(world[0], "consumers", "order_to_cash")
    result = [
        (r["consumer"], r["principals"], r["declared"], r["observed_columns"], r["queries"], r["status"]) for r in rows
    ]  # type: ignore[union-attr]
    assert result == [("dash", ["dash-sa"], True, ["amount", "customer_email", "order_id"], 3, "hidden")]


def test_catalog_cli_impact_of_a_column(world: tuple[Home, Path]) -> None:
    result = ask(world[0], "impact", "sales.customers.email")
    datasets = [(d["dataset"], d["columns"]) for d in result["datasets"]]  # type: ignore[index]
    consumers = [(c["consumer"], c["dataset"], c["hidden"]) for c in result["consumers"]]  # type: ignore[index]
    assert (datasets, consumers, result["notify"]) == (  # type: ignore[index]
        [
            ("sales.customers", ["email"]),
            ("stg_sales__customers", ["customer_email"]),
            ("order_to_cash", ["customer_email"]),
        ],
        [("dash", "order_to_cash", True)],
        ["dash@shop.example", "platform@shop.example", "sales@shop.example"],
    )


def test_catalog_cli_tables_for_people(world: tuple[Home, Path]) -> None:
    result = cli("--home", str(world[0].root), "catalog", "hidden")
    assert (result.exit_code, result.output.splitlines()[0]) == (0, "hidden findings: 2")


def test_catalog_cli_unknown_dataset_is_one_line_with_suggestions(world: tuple[Home, Path]) -> None:
    result = CliRunner().invoke(main, ["--home", str(world[0].root), "catalog", "impact", "order_to_csh"])
    assert (result.exit_code, result.output) == (
        1,
        "agora: error: unknown dataset 'order_to_csh' (closest: order_to_cash, sales_orders)\n",
    )


def test_catalog_cli_unknown_column_is_one_line_with_suggestions(world: tuple[Home, Path]) -> None:
    result = CliRunner().invoke(main, ["--home", str(world[0].root), "catalog", "impact", "order_to_cash.amont"])
    assert (result.exit_code, result.output) == (
        1,
        "agora: error: order_to_cash has no column 'amont' (closest: amount)\n",
    )


def test_catalog_cli_without_snapshot_says_what_to_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--home", str(tmp_path), "catalog", "hidden"])
    assert (result.exit_code, result.output) == (
        1,
        f"agora: error: no serving snapshot in {tmp_path} yet: run `agora catalog refresh` (or `agora run`)\n",
    )


def test_catalog_cli_snapshot_without_catalog_says_what_to_run(tmp_path: Path) -> None:
    duckdb.connect(str(tmp_path / "serving.duckdb")).close()
    result = CliRunner().invoke(main, ["--home", str(tmp_path), "catalog", "stale"])
    assert (result.exit_code, result.output) == (
        1,
        f"agora: error: the serving snapshot {tmp_path / 'serving.duckdb'} has no catalog yet: run `agora catalog refresh`\n",
    )


def test_catalog_cli_refresh_of_a_busy_warehouse_is_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    home = Home(build_home(tmp_path / "home"))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({home.warehouse!r}); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        result = CliRunner().invoke(main, ["--home", str(home.root), "catalog", "refresh"])
    finally:
        holder.kill()
        holder.wait()
    assert (
        result.exit_code,
        result.output.startswith("agora: error: the warehouse "),
        "only one writer" in result.output,
    ) == (
        1,
        True,
        True,
    )


def test_catalog_cli_refresh_with_a_bad_declaration_fails_and_keeps_the_catalog(
    world: tuple[Home, Path], tmp_path: Path
) -> None:
    home = world[0]
    bad = (world[1] / "consumers.yml").read_text().replace("dataset: order_to_cash", "dataset: order_to_csh")
    folder = write_declarations(tmp_path / "bad", consumers=bad)
    result = CliRunner().invoke(main, ["--home", str(home.root), "catalog", "refresh", "--declarations", str(folder)])
    assert (result.exit_code, result.output, len(ask(home, "hidden"))) == (  # type: ignore[arg-type]
        1,
        f"agora: error: {folder}/consumers.yml: consumer 'dash' reads unknown dataset 'order_to_csh' "
        "(closest: order_to_cash, sales_orders)\n",
        2,
    )
