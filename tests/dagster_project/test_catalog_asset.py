"""The catalog asset and the per-dataset governance checks, run through Dagster."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from catalog.store import FindingRow
from dagster_project.catalog import CATALOG_KEY, GOVERNANCE_CHECK, catalog_defs, governance_result
from dagster_project.resources import AgoraHome
from pipelines.home import Home
from pipelines.load_query_log import QUERY_LOG_DDL

ORDERS = dg.AssetKey(["public", "sales_orders"])
PAYMENTS = dg.AssetKey(["public", "finance_payments"])


def test_governance_result_warns_and_names_undeclared_readers() -> None:
    findings = [
        FindingRow("hidden", "warn", "sales_orders", principal="sales-analyst", detail="read it"),
        FindingRow("bypass", "error", "sales_orders", model="finance_invoices", detail="refs staging"),
    ]

    result = governance_result(ORDERS, "sales_orders", findings)

    assert (result.passed, result.severity, result.check_name) == (False, dg.AssetCheckSeverity.WARN, GOVERNANCE_CHECK)
    assert result.metadata["undeclared readers"].value == "principal sales-analyst"
    assert result.metadata["bypassed by"].value == "finance_invoices"


def test_governance_result_passes_without_findings() -> None:
    assert governance_result(ORDERS, "sales_orders", []).passed


def _log_an_undeclared_read(home: Home) -> None:
    con = duckdb.connect(home.warehouse)
    try:
        con.execute(QUERY_LOG_DDL)
        con.execute(
            "INSERT INTO ops.query_log (query_id, logged_at, principal, sql, fingerprint, decision, path, line_no, "
            "landed_at) VALUES ('q1', now(), 'sales-analyst', 'select order_id, placed_at from public.sales_orders', "
            "'f1', 'allowed', 'query_log/x.jsonl', 1, now())"
        )
    finally:
        con.close()


@pytest.mark.integration
def test_catalog_asset_and_governance_checks_flag_an_undeclared_reader(
    landed: tuple[Home, dict], tmp_path: Path
) -> None:
    source, _ = landed
    home = Home(tmp_path / "home")
    home.root.mkdir()
    shutil.copy(source.warehouse, home.warehouse)
    _log_an_undeclared_read(home)
    defs = catalog_defs()
    assets = list(defs.assets or [])
    checks = list(defs.asset_checks or [])

    job = dg.define_asset_job(
        "catalog_only", selection=dg.AssetSelection.assets(CATALOG_KEY) | dg.AssetSelection.all_asset_checks()
    )
    definitions = dg.Definitions(
        assets=assets, asset_checks=checks, jobs=[job], resources={"agora": AgoraHome(root=str(home.root))}
    )

    result = definitions.resolve_job_def("catalog_only").execute_in_process()

    evaluations = {(e.asset_key, e.check_name): e for e in result.get_asset_check_evaluations()}
    orders = evaluations[(ORDERS, GOVERNANCE_CHECK)]
    assert result.success
    assert CATALOG_KEY in {e.asset_key for e in result.get_asset_materialization_events()}
    assert evaluations[(CATALOG_KEY, "declarations")].passed
    assert (orders.passed, orders.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert orders.metadata["undeclared readers"].value == "principal sales-analyst"
    assert evaluations[(PAYMENTS, GOVERNANCE_CHECK)].passed
