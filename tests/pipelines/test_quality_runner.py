"""The quality runner: every landed dataset and mart has a suite, suites pass on a real built
home, doctored tables fail with the failing expectation and its counts, and row-count state
moves only on loads that did not fail with an error. Frames reach GE in dtypes it compares
vectorised, and Data Docs are written after the validation with templates compiled once."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import jinja2
import pandas as pd
import pytest

from pipelines.contracts import DOMAINS, load_contracts
from pipelines.home import REPO_ROOT, Home
from pipelines.quality import (
    Outcome,
    QualityResult,
    Severity,
    SuiteError,
    floated_integers,
    frame_from_arrow,
    load_sql,
    load_suites,
    load_table,
    parse_suite,
    previous_rows,
    read_state,
    validate,
)
from pipelines.warehouse import connect
from tests.models.conftest import built  # noqa: F401  (the session fixture: simulated, landed, dbt-built)


def landed_datasets() -> set[str]:
    contracts = load_contracts()
    events = {f"raw_{d}.events" for d in DOMAINS}
    extracts = {f"raw_{d}.{c.table}" for d in DOMAINS for c in contracts.extract_tables(d)}
    return events | extracts


def marts() -> set[str]:
    return {f"marts.{p.stem}" for p in (REPO_ROOT / "models" / "marts").glob("*.sql")}


def test_every_landed_dataset_and_mart_has_a_suite() -> None:
    result = set(load_suites())
    expected = landed_datasets() | marts()
    assert result == expected
    assert len(expected) == 6 + 7 + 5


def test_suites_attach_to_the_asset_keyed_like_their_table() -> None:
    result = {name: suite.asset for name, suite in load_suites().items()}
    expected = {name: tuple(name.split(".")) for name in result}
    assert result == expected


def test_every_suite_declares_a_severity_and_has_expectations() -> None:
    for suite in load_suites().values():
        assert suite.expectations, suite.dataset
        assert {e.severity for e in suite.expectations} <= {Severity.ERROR, Severity.WARN}


def test_load_sql_projects_only_the_suite_columns_and_parses_payload_in_sql() -> None:
    suite = load_suites()["raw_sales.events"]
    result = load_sql(suite)
    assert "data AS" not in result and "SELECT *" not in result
    assert "json_extract_string(data, '$.amount')" in result
    assert "CASE WHEN type = 'sales.order.placed'" in result


def test_extract_suites_validate_the_latest_snapshot() -> None:
    result = load_sql(load_suites()["raw_sales.products"])
    assert "_snapshot_at = (SELECT max(_snapshot_at)" in result


def test_unknown_expectation_is_a_suite_error() -> None:
    document = {"dataset": "raw_sales.events", "expectations": [{"expect": "column_values_to_be_purple"}]}
    with pytest.raises(SuiteError, match="unknown expectation expect_column_values_to_be_purple"):
        parse_suite(document)


def _outcome(severity: Severity, passed: bool) -> Outcome:
    return Outcome(label="x", expectation="x", column=None, severity=severity, passed=passed)


def _result(*outcomes: Outcome) -> QualityResult:
    return QualityResult(
        dataset="d",
        asset=("d",),
        rows=1,
        seconds=0.0,
        load_seconds=0.0,
        validate_seconds=0.0,
        clock=datetime(2026, 10, 1),
        outcomes=outcomes,
        docs_page=None,
        previous_rows=None,
    )


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ((_outcome(Severity.ERROR, True), _outcome(Severity.WARN, True)), None),
        ((_outcome(Severity.ERROR, True), _outcome(Severity.WARN, False)), Severity.WARN),
        ((_outcome(Severity.ERROR, False), _outcome(Severity.WARN, True)), Severity.ERROR),
        ((_outcome(Severity.ERROR, False), _outcome(Severity.WARN, False)), Severity.ERROR),
    ],
)
def test_result_severity_is_the_worst_failing_expectation(outcomes: tuple[Outcome, ...], expected: Severity) -> None:
    result = _result(*outcomes)
    assert result.severity == expected
    assert result.blocks == (expected is Severity.ERROR)


def test_suite_with_an_error_expectation_is_blocking_and_warn_only_is_not() -> None:
    error = parse_suite(
        {
            "dataset": "a.b",
            "severity": "warn",
            "expectations": [{"expect": "table_row_count_to_be_between", "min_value": 1, "severity": "error"}],
        }
    )
    warn = parse_suite(
        {
            "dataset": "a.b",
            "severity": "warn",
            "expectations": [{"expect": "table_row_count_to_be_between", "min_value": 1}],
        }
    )
    assert (error.blocking, warn.blocking) == (True, False)


# ---------------------------------------------------------------- loading and running (small warehouse)

TYPED = """
    SELECT * FROM (VALUES
        (1, 7, 1.5::DECIMAL(18, 2), 2.5::FLOAT, DATE '2026-10-01', TIMESTAMPTZ '2026-10-01 10:00:00+02', 'a', true),
        (NULL, 8, NULL, NULL, NULL, NULL, NULL, NULL)
    ) AS t(with_nulls, without_nulls, money, ratio, day, happened_at, word, flag)
"""


def test_frame_from_arrow_holds_columns_in_dtypes_ge_compares_vectorised() -> None:
    table = duckdb.connect().sql(TYPED).to_arrow_table()
    frame = frame_from_arrow(table)
    result = {name: str(dtype) for name, dtype in frame.dtypes.items()}
    expected = {
        "with_nulls": "float64",
        "without_nulls": "int64",
        "money": "float64",
        "ratio": "float64",
        "day": "datetime64[us]",
        "happened_at": "datetime64[us]",
        "word": "str",
        "flag": "boolean",
    }
    assert result == expected
    assert frame.iloc[0].to_dict() == {
        "with_nulls": 1.0,
        "without_nulls": 7,
        "money": 1.5,
        "ratio": 2.5,
        "day": pd.Timestamp("2026-10-01"),
        "happened_at": pd.Timestamp("2026-10-01 08:00:00"),  # the UTC instant, zone dropped
        "word": "a",
        "flag": True,
    }
    assert frame["with_nulls"].isna().tolist() == [False, True]


def test_floated_integers_are_the_integer_columns_with_nulls() -> None:
    table = duckdb.connect().sql(TYPED).to_arrow_table()
    assert floated_integers(table) == frozenset({"with_nulls"})


def test_load_table_runs_after_a_result_left_unfinished() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE shop_orders AS SELECT range AS quantity FROM range(3)")
    suite = parse_suite({"dataset": "main.shop_orders", "columns": {"quantity": None}, "expectations": []})
    con.execute("SELECT * FROM range(10)").fetchone()
    result = load_table(con, suite).column("quantity").to_pylist()
    assert sorted(result) == [0, 1, 2]


ORDERS_SUITE = {
    "dataset": "shop.orders",
    "columns": {"quantity": None, "placed_at": None},
    "expectations": [
        {"expect": "column_values_to_be_between", "column": "quantity", "min_value": 1, "max_value": 10},
        {"expect": "column_mean_to_be_between", "column": "quantity", "min_value": 1, "max_value": 10},
    ],
}


@pytest.fixture
def orders(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """1,000 orders: quantity null on every tenth, 0 and 11 (out of range) once each."""
    con = connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("CREATE SCHEMA shop")
    con.execute("""
        CREATE TABLE shop.orders AS
        SELECT CAST(CASE WHEN i = 3 THEN 0 WHEN i = 5 THEN 11 WHEN i % 10 = 0 THEN NULL ELSE 1 + i % 10 END AS INTEGER)
                   AS quantity,
               TIMESTAMPTZ '2026-10-01 00:00:00+00' + INTERVAL (i) MINUTE AS placed_at
        FROM range(1000) t(i)
    """)
    yield con
    con.close()


def test_validate_reports_integer_examples_of_a_nullable_integer_column_as_integers(
    orders: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    result = validate(orders, parse_suite(ORDERS_SUITE), Home(tmp_path / "q"))
    failed = result.outcome("column_values_to_be_between(quantity)")
    assert (failed.passed, failed.unexpected_count, failed.element_count) == (False, 2, 1000)
    assert sorted(failed.partial_unexpected) == [0, 11]
    assert all(type(v) is int for v in failed.partial_unexpected)
    assert result.rows == 1000


def test_validate_times_load_validation_and_data_docs_apart(orders: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    result = validate(orders, parse_suite(ORDERS_SUITE), Home(tmp_path / "q"))
    parts = (result.load_seconds, result.validate_seconds, result.docs_seconds)
    assert all(part > 0 for part in parts)
    assert result.seconds == pytest.approx(sum(parts), abs=0.01)
    assert result.docs_page is not None and "Sampled Unexpected Values" in result.docs_page.read_text()


def test_data_docs_compile_the_page_templates_once_per_process(
    orders: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite = parse_suite(ORDERS_SUITE)
    validate(orders, suite, Home(tmp_path / "first"))
    compiled: list[str | None] = []
    compile_template = jinja2.Environment.compile

    def counting(self: jinja2.Environment, source: str, name: str | None = None, *args: object) -> object:
        compiled.append(name)
        return compile_template(self, source, name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    second = validate(orders, suite, Home(tmp_path / "second"))
    assert second.docs_page is not None and second.docs_page.is_file()
    assert compiled == []


# ---------------------------------------------------------------- on a real built home


@pytest.fixture
def warehouse_copy(built: tuple[Home, dict], tmp_path: Path) -> duckdb.DuckDBPyConnection:  # noqa: F811
    """A writable copy of the built warehouse, to doctor."""
    home, _ = built
    target = tmp_path / "warehouse.duckdb"
    shutil.copy(home.warehouse, target)
    con = connect(str(target))
    yield con
    con.close()


@pytest.mark.integration
@pytest.mark.slow
def test_every_suite_passes_on_a_simulated_landed_and_built_home(built: tuple[Home, dict], tmp_path: Path) -> None:  # noqa: F811
    home, _ = built
    quality_home = Home(tmp_path / "q")
    con = connect(home.warehouse, read_only=True)
    try:
        results = {name: validate(con, suite, quality_home) for name, suite in load_suites().items()}
    finally:
        con.close()
    failures = {name: [o.label for o in r.failures] for name, r in results.items() if r.failures}
    assert failures == {}
    assert all(r.rows > 0 for r in results.values())
    assert all(r.docs_page is not None and r.docs_page.exists() for r in results.values())
    assert all(str(r.docs_page).startswith(str(tmp_path / "q" / "quality" / "data_docs")) for r in results.values())


@pytest.mark.integration
@pytest.mark.slow
def test_negative_order_amounts_fail_with_their_count(
    warehouse_copy: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con = warehouse_copy
    con.execute(
        "UPDATE marts.order_to_cash SET order_amount = -order_amount WHERE order_id IN "
        "(SELECT order_id FROM marts.order_to_cash ORDER BY order_id LIMIT 7)"
    )
    result = validate(con, load_suites()["marts.order_to_cash"], Home(tmp_path / "q"))
    failed = result.outcome("column_values_to_be_between(order_amount)")
    assert (failed.passed, failed.unexpected_count, failed.severity) == (False, 7, Severity.ERROR)
    assert all(v < 0 for v in failed.partial_unexpected)
    assert result.severity is Severity.ERROR


@pytest.mark.integration
@pytest.mark.slow
def test_negative_amount_in_a_raw_event_payload_fails(
    warehouse_copy: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con = warehouse_copy
    con.execute("""
        UPDATE raw_finance.events SET data = json_object('payment_id', 'p-bad', 'invoice_id', 'i', 'amount', -5.0,
                                                         'currency', 'EUR', 'method', 'card')
        WHERE id = (SELECT min(id) FROM raw_finance.events WHERE type = 'finance.payment.received')
    """)
    result = validate(con, load_suites()["raw_finance.events"], Home(tmp_path / "q"))
    failed = result.outcome("column_values_to_be_between(amount)")
    assert (failed.passed, failed.unexpected_count, failed.partial_unexpected) == (False, 1, [-5.0])


@pytest.mark.integration
@pytest.mark.slow
def test_nulls_above_the_threshold_warn_with_the_observed_rate(
    warehouse_copy: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con = warehouse_copy
    con.execute("UPDATE marts.order_to_cash SET cash_received_eur = NULL WHERE hash(order_id) % 10 < 3")
    nulls = con.execute("SELECT count(*) FROM marts.order_to_cash WHERE cash_received_eur IS NULL").fetchone()[0]
    result = validate(con, load_suites()["marts.order_to_cash"], Home(tmp_path / "q"))
    failed = result.outcome("column_values_to_not_be_null(cash_received_eur)")
    assert (failed.passed, failed.unexpected_count, failed.severity) == (False, nulls, Severity.WARN)
    assert result.severity is Severity.WARN


@pytest.mark.integration
@pytest.mark.slow
def test_shrunken_row_count_fails_against_the_previous_validated_load(
    warehouse_copy: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con, home = warehouse_copy, Home(tmp_path / "q")
    suite = load_suites()["marts.order_to_cash"]
    first = validate(con, suite, home)
    con.execute("DELETE FROM marts.order_to_cash WHERE hash(order_id) % 10 < 6")
    second = validate(con, suite, home)
    failed = second.outcome("row_count_drift(shrink)")
    assert first.passed and previous_rows(home, suite.dataset) == first.rows
    assert (failed.passed, failed.observed_value, failed.severity) == (False, second.rows, Severity.ERROR)
    assert failed.bounds["min_value"] == int(first.rows * 0.5)


@pytest.mark.integration
@pytest.mark.slow
def test_state_is_not_updated_by_a_load_that_failed_with_an_error(
    warehouse_copy: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con, home = warehouse_copy, Home(tmp_path / "q")
    suite = load_suites()["raw_sales.events"]
    first = validate(con, suite, home)
    con.execute("DELETE FROM raw_sales.events WHERE hash(id) % 2 = 0")
    second = validate(con, suite, home)
    assert second.outcome("row_count_drift").passed is False
    assert read_state(home)["datasets"][suite.dataset]["rows"] == first.rows


@pytest.mark.integration
@pytest.mark.slow
def test_warn_load_becomes_the_new_baseline(warehouse_copy: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    con, home = warehouse_copy, Home(tmp_path / "q")
    suite = load_suites()["marts.order_to_cash"]
    validate(con, suite, home)
    con.execute(
        "INSERT INTO marts.order_to_cash SELECT * REPLACE (order_id || '-copy' AS order_id) FROM marts.order_to_cash"
    )
    grown = validate(con, suite, home)
    assert (grown.severity, grown.outcome("row_count_drift(growth)").passed) == (Severity.WARN, False)
    assert previous_rows(home, suite.dataset) == grown.rows


@pytest.mark.integration
@pytest.mark.slow
def test_a_domain_that_stops_publishing_goes_stale_against_the_data_clock(
    warehouse_copy: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con = warehouse_copy
    con.execute("DELETE FROM raw_support.events WHERE time > (SELECT max(time) - INTERVAL 4 DAY FROM raw_sales.events)")
    result = validate(con, load_suites()["raw_support.events"], Home(tmp_path / "q"))
    failed = result.outcome("freshness(event_time)")
    assert (failed.passed, failed.severity, result.severity) == (False, Severity.WARN, Severity.WARN)


@pytest.mark.integration
@pytest.mark.slow
def test_data_docs_page_is_written_into_the_home(warehouse_copy: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    home = Home(tmp_path / "q")
    result = validate(warehouse_copy, load_suites()["raw_qa.test_suites"], home)
    assert result.docs_page is not None and result.docs_page.is_file()
    assert result.docs_page.is_relative_to(home.root / "quality" / "data_docs")
    assert "raw_qa.test_suites" in result.docs_page.read_text()
    assert json.loads((home.root / "quality" / "state.json").read_text())["datasets"]["raw_qa.test_suites"]["rows"] > 0
