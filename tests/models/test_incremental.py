"""Incremental builds after late events equal a full refresh (issue 2/5): every public model,
every mart and the analytics intermediates, whether dbt is run plainly (watermark minus the
lookback margin) or through Agora's `build_models` (exact landing watermark, selection of what
the new batches reach, data tests on the changed rows)."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.home import Home
from pipelines.ingest import ingest
from pipelines.simulator import SimulationConfig, simulate
from pipelines.transform import BuildState, build_models, dbt_target, run_dbt
from pipelines.warehouse import content_checksum

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CONFIG = SimulationConfig(days=12, scale=0.5, seed=17, start=date(2026, 10, 1), dirt=2.0)
FIRST_WAVE_DAYS = 7
COMPARED_SCHEMAS = ("public", "marts", "intermediate")


def _tables(home: Home, schemas: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    con = duckdb.connect(home.warehouse, read_only=True)
    try:
        names = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN (SELECT unnest(?::VARCHAR[]))",
            [list(schemas)],
        ).fetchall()
        # bookkeeping (_built_at, _previous_customer_id) records how a row was built; it may differ
        return {f"{schema}.{table}": content_checksum(con, schema, table) for schema, table in names}
    finally:
        con.close()


def _land(home: Home, source: Path, keep: callable) -> None:
    for path in sorted(source.rglob("*")):
        if path.is_file() and keep(path):
            target = home.landing / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def _day(path: Path) -> date:
    stem = path.name.split(".")[0]
    return date.fromisoformat(stem[:10]) if "-" in stem[:10] else date(int(stem[:4]), int(stem[4:6]), int(stem[6:8]))


@pytest.fixture(scope="module")
def waves(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, date]:
    """A simulated landing zone and the day its second wave (late files) starts."""
    source = Home(tmp_path_factory.mktemp("incremental") / "source").ensure()
    simulate(source.landing, source.manifest, CONFIG)
    cutoff = date(2026, 10, 1 + FIRST_WAVE_DAYS)
    assert [p for p in source.landing.rglob("*.jsonl*") if _day(p) >= cutoff], "the second wave must bring files"
    return source.landing, cutoff


@pytest.fixture(scope="module")
def full_refresh(waves: tuple[Path, date], tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, int]]:
    landing, _ = waves
    full = Home(tmp_path_factory.mktemp("full") / "home").ensure()
    shutil.copytree(landing, full.landing, dirs_exist_ok=True)
    ingest(full)
    run_dbt(full, "build", "--full-refresh")
    return _tables(full, COMPARED_SCHEMAS)


def test_incremental_build_after_late_events_equals_full_refresh(
    waves: tuple[Path, date], full_refresh: dict[str, tuple[int, int]], tmp_path: Path
) -> None:
    landing, cutoff = waves
    incremental = Home(tmp_path / "incremental").ensure()
    _land(incremental, landing, lambda p: _day(p) < cutoff)
    ingest(incremental)
    run_dbt(incremental, "build")
    _land(incremental, landing, lambda p: _day(p) >= cutoff)
    report = ingest(incremental)
    assert report.totals()["loaded"] > 0
    run_dbt(incremental, "build")

    result = _tables(incremental, COMPARED_SCHEMAS)

    assert result == full_refresh


def test_incremental_build_models_after_late_events_equals_full_refresh(
    waves: tuple[Path, date], full_refresh: dict[str, tuple[int, int]], tmp_path: Path
) -> None:
    landing, cutoff = waves
    incremental = Home(tmp_path / "incremental").ensure()
    _land(incremental, landing, lambda p: _day(p) < cutoff)
    ingest(incremental)
    first, _ = build_models(incremental)
    _land(incremental, landing, lambda p: _day(p) >= cutoff)
    ingest(incremental)
    second, _ = build_models(incremental)

    result = (first.reason.split(":")[0], second.reason.split(":")[0], _tables(incremental, COMPARED_SCHEMAS))

    assert result == ("full", "incremental", full_refresh)


def test_incremental_build_models_compares_every_public_model_and_mart(
    full_refresh: dict[str, tuple[int, int]],
) -> None:
    """The comparison above is only as good as what it covers."""
    result = sorted(name for name in full_refresh if not name.startswith("intermediate."))

    expected = sorted(
        [f"marts.{m}" for m in ("campaign_attribution", "customer_360", "delivery_quality", "order_to_cash")]
        + ["marts.support_load"]
        + [
            f"public.{m}"
            for m in (
                "devops_deployments",
                "devops_incidents",
                "devops_services",
                "finance_fx_rates",
                "finance_invoices",
                "finance_payments",
                "finance_refunds",
                "marketing_campaigns",
                "marketing_leads",
                "qa_test_suites",
                "qa_testruns",
                "sales_customer_history",
                "sales_customers",
                "sales_orders",
                "sales_products",
                "support_agents",
                "support_tickets",
            )
        ]
    )
    assert result == expected


def test_incremental_build_models_tests_only_the_rows_that_landed(waves: tuple[Path, date], tmp_path: Path) -> None:
    """On the incremental build, a not_null test of an incremental model reads the new rows only."""
    landing, cutoff = waves
    home = Home(tmp_path / "home").ensure()
    _land(home, landing, lambda p: _day(p) < cutoff)
    ingest(home)
    build_models(home)
    _land(home, landing, lambda p: _day(p) >= cutoff)
    ingest(home)
    plan, _ = build_models(home)
    manifest = json.loads((dbt_target(home) / "manifest.json").read_text())
    compiled = next(
        node["compiled_code"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test" and node["name"] == "not_null_order_to_cash_order_id"
    )

    assert f"_built_at >= timestamp '{plan.landed_since}'" in compiled


def test_incremental_build_models_skips_dbt_when_nothing_landed(waves: tuple[Path, date], tmp_path: Path) -> None:
    landing, cutoff = waves
    home = Home(tmp_path / "home").ensure()
    _land(home, landing, lambda p: _day(p) < cutoff)
    ingest(home)
    build_models(home)

    plan, run = build_models(home)

    assert (plan.reason, run) == ("nothing landed since the last build", None)


def test_build_models_after_a_project_change_rebuilds_the_rows_built_before_it(
    waves: tuple[Path, date], tmp_path: Path
) -> None:
    """A change to a model must reach every row, not only new ones: the build after a project
    change is a full refresh. Rows changed behind dbt's back stand for rows the old code built."""
    landing, cutoff = waves
    home = Home(tmp_path / "home").ensure()
    _land(home, landing, lambda p: _day(p) < cutoff)
    ingest(home)
    build_models(home)
    built = _tables(home, ("marts",))["marts.order_to_cash"]
    con = duckdb.connect(home.warehouse)
    con.execute("UPDATE marts.order_to_cash SET cash_received_eur = -1")
    con.close()
    seen = BuildState.read(home)
    assert seen is not None
    BuildState(project="the project before a change", batch_ids=seen.batch_ids).write(home)

    plan, run = build_models(home)

    dbt_args = json.loads((dbt_target(home) / "run_results.json").read_text())["args"]
    assert (plan.reason, run is not None and run.returncode, dbt_args["full_refresh"]) == (
        "full: the dbt project changed since the last build",
        0,
        True,
    )
    assert _tables(home, ("marts",))["marts.order_to_cash"] == built
