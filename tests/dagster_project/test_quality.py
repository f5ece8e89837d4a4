"""The `great_expectations` asset checks: one per suite on the right asset key, blocking when
the suite has error expectations, in the warehouse pool; executed through Dagster on a real
small warehouse they report the failing expectations and block downstream on ERROR."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.quality import CHECK_NAME, check_result, quality_defs
from dagster_project.resources import WAREHOUSE_POOL, AgoraHome
from pipelines.quality import Outcome, QualityResult, Severity, load_suites

MART = dg.AssetKey(["marts", "order_to_cash"])


def _checks() -> dict[dg.AssetCheckKey, dg.AssetChecksDefinition]:
    defs = quality_defs()
    return {key: check for check in defs.asset_checks or [] for key in check.check_keys}  # type: ignore[union-attr]


def test_every_suite_has_a_great_expectations_check_on_its_asset() -> None:
    result = set(_checks())
    expected = {dg.AssetCheckKey(dg.AssetKey(list(s.asset)), CHECK_NAME) for s in load_suites().values()}
    assert result == expected
    assert len(result) == 18


@pytest.mark.integration
def test_checks_target_assets_of_the_real_code_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGORA_HOME", str(tmp_path))
    from dagster_project.definitions import defs

    graph = defs().get_repository_def().asset_graph
    result = {key.asset_key for key in _checks()} - set(graph.get_all_asset_keys())
    assert result == set()
    assert dg.AssetCheckKey(MART, CHECK_NAME) in graph.asset_check_keys


def test_checks_are_blocking_for_error_suites_and_take_the_warehouse_pool() -> None:
    suites = {tuple(s.asset): s for s in load_suites().values()}
    for key, check in _checks().items():
        spec = check.get_spec_for_check_key(key)
        assert spec.blocking == suites[tuple(key.asset_key.path)].blocking
        assert check.node_def.pool == WAREHOUSE_POOL  # type: ignore[union-attr]


def _result(*severities_failed: Severity) -> QualityResult:
    outcomes = tuple(
        Outcome(label=f"e{i}", expectation="x", column="c", severity=s, passed=False, unexpected_count=3)
        for i, s in enumerate(severities_failed)
    )
    return QualityResult(
        "d.t", ("d", "t"), 10, 0.1, 0.0, 0.1, __import__("datetime").datetime(2026, 10, 1), outcomes, None, None
    )


@pytest.mark.parametrize(
    ("failed", "passed", "severity"),
    [
        ((), True, dg.AssetCheckSeverity.WARN),
        ((Severity.WARN,), False, dg.AssetCheckSeverity.WARN),
        ((Severity.WARN, Severity.ERROR), False, dg.AssetCheckSeverity.ERROR),
    ],
)
def test_check_result_maps_severity(
    failed: tuple[Severity, ...], passed: bool, severity: dg.AssetCheckSeverity
) -> None:
    result = check_result(_result(*failed))
    assert (result.passed, result.severity) == (passed, severity)
    assert {f"failed: e{i}" for i in range(len(failed))} <= set(result.metadata)


def test_check_result_reports_the_time_of_each_part() -> None:
    result = QualityResult(
        "d.t", ("d", "t"), 10, 0.6, 0.2, 0.3, __import__("datetime").datetime(2026, 10, 1), (), None, None, 0.1
    )
    metadata = check_result(result).metadata
    timings = {key: metadata[key].value for key in ("seconds", "load_seconds", "validate_seconds", "docs_seconds")}
    assert timings == {"seconds": 0.6, "load_seconds": 0.2, "validate_seconds": 0.3, "docs_seconds": 0.1}


# ---------------------------------------------------------------- executed through Dagster


def _small_warehouse(home: Path, negative: int) -> None:
    """A real warehouse holding only marts.order_to_cash: 1,000 orders, `negative` of them negative."""
    home.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(home / "warehouse.duckdb"))
    con.execute("CREATE SCHEMA marts")
    con.execute(f"""
        CREATE TABLE marts.order_to_cash AS
        SELECT 'o' || i AS order_id,
               CAST(CASE WHEN i < {negative} THEN -50 ELSE 50 + i % 100 END AS DECIMAL(18, 2)) AS order_amount,
               CAST(40 AS DECIMAL(18, 2)) AS paid_amount,
               CAST(0 AS DECIMAL(18, 2)) AS refunded_amount,
               CAST(10 AS DECIMAL(18, 2)) AS amount_outstanding,
               CAST(40 AS DECIMAL(18, 2)) AS cash_received_eur,
               2.5 + i % 10 AS days_to_cash,
               CAST(now() AS TIMESTAMP) - INTERVAL (i) MINUTE AS placed_at
        FROM range(1000) t(i)
    """)
    con.close()


def _run(home: Path) -> dg.ExecuteInProcessResult:
    @dg.asset(key=MART)
    def order_to_cash() -> None:
        """Stands in for the dbt model: the table is already in the small warehouse."""

    @dg.asset(deps=[MART])
    def serving() -> None:
        """Downstream of the mart: must not run when the check fails with ERROR."""

    check = _checks()[dg.AssetCheckKey(MART, CHECK_NAME)]
    defs = dg.Definitions(
        assets=[order_to_cash, serving], asset_checks=[check], resources={"agora": AgoraHome(root=str(home))}
    )
    return defs.get_implicit_global_asset_job_def().execute_in_process(raise_on_error=False)


@pytest.mark.integration
def test_failing_check_reports_metadata_and_blocks_downstream(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _small_warehouse(home, negative=4)
    result = _run(home)
    (evaluation,) = result.get_asset_check_evaluations()
    failed = evaluation.metadata["failed: column_values_to_be_between(order_amount)"].value
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert (evaluation.passed, evaluation.severity) == (False, dg.AssetCheckSeverity.ERROR)
    assert (failed["unexpected_count"], failed["severity"]) == (4, "error")
    assert evaluation.metadata["rows_validated"].value == 1000
    assert evaluation.metadata["seconds"].value > 0
    assert os.path.isfile(evaluation.metadata["data_docs"].value)
    assert dg.AssetKey("serving") not in materialized


@pytest.mark.integration
def test_passing_check_lets_downstream_run(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _small_warehouse(home, negative=0)
    result = _run(home)
    (evaluation,) = result.get_asset_check_evaluations()
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert evaluation.passed
    assert not [k for k in evaluation.metadata if k.startswith("failed: ")]
    assert dg.AssetKey("serving") in materialized
