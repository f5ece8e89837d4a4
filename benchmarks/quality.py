"""Validation speed of the Great Expectations suites at 2M rows.

Run by benchmarks.run (section "quality"), or alone: `python -m benchmarks.quality [--quick]`.
Uses the events of the dbt benchmark's 2M home (`<workdir>/dbt-2m`) when it has ≥2M events, else
simulates and lands its own. Two measurements, each in this process, read-only, repeated
(`--repeat`, median reported), after one warm-up run that pays GE's imports:

- **suite at 2M rows**: the suite of the biggest events table (raw_finance.events) on 2,000,000
  rows: that table's landed events repeated, ids made unique, in a scratch warehouse.
- **every events suite**: the six `raw_<domain>.events` suites on the home's ≥2M events.

Each validation is split into load (DuckDB → Arrow → pandas, only the suite's columns, payload
fields parsed in SQL, plus the run context: data clock and previous load), GE (the checkpoint run
over every row; no sampling) and Data Docs (the dataset's pages, written after the validation).
Data Docs go to a scratch home and state is not recorded, so the benchmark home is left as it
was. Wall seconds and this process's CPU seconds (DuckDB's threads included) are both reported,
with the machine's 1-minute load average before and after: on a shared machine CPU seconds move
less. Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from pipelines.contracts import DOMAINS
from pipelines.home import Home
from pipelines.ingest import ingest
from pipelines.quality import QualityResult, Suite, load_suites, validate
from pipelines.simulator import SimulationConfig, simulate
from pipelines.warehouse import connect

MIN_EVENTS = 2_000_000
SUITE_ROWS = 2_000_000


def _counts(home: Home) -> dict[str, int]:
    con = connect(home.warehouse, read_only=True)
    try:
        return {
            f"raw_{d}.events": con.execute(f"SELECT count(*) FROM raw_{d}.events").fetchall()[0][0] for d in DOMAINS
        }
    finally:
        con.close()


def _home(workdir: Path, quick: bool) -> Home:
    wanted = 50_000 if quick else MIN_EVENTS
    shared = Home(workdir / "dbt-2m")
    if (workdir / "dbt-2m" / "warehouse.duckdb").exists() and sum(_counts(shared).values()) >= wanted:
        return shared
    own = Home(workdir / ("quality-quick" if quick else "quality-2m"))
    if own.root.exists() and (own.root / "warehouse.duckdb").exists() and sum(_counts(own).values()) >= wanted:
        return own
    shutil.rmtree(own.root, ignore_errors=True)
    own.ensure()
    config = SimulationConfig(days=30, scale=2 if quick else 55, seed=7, start=date(2026, 10, 1))
    simulate(own.landing, own.manifest, config)
    ingest(own)
    return own


def repeated_table(source: str, dataset: str, rows: int, target: Path) -> None:
    """`dataset` of the `source` warehouse, its rows repeated (ids made unique) up to `rows`, alone
    in a new warehouse: the suite then sees the real value distributions at the wanted size."""
    schema, table = dataset.split(".")
    con = duckdb.connect(str(target))
    try:
        con.execute(f"ATTACH '{source}' AS source (READ_ONLY)")
        (landed,) = con.execute(f"SELECT count(*) FROM source.{schema}.{table}").fetchall()[0]
        copies = -(-rows // landed)
        con.execute(f"CREATE SCHEMA {schema}")
        con.execute(f"""
            CREATE TABLE {schema}.{table} AS
            SELECT events.* REPLACE (events.id || '-' || copy AS id)
            FROM source.{schema}.{table} AS events, range({copies}) AS copies(copy)
            LIMIT {rows}
        """)
    finally:
        con.close()


def _timed(runs: int, validate_once: Callable[[], list[QualityResult]]) -> dict[str, Any]:
    """Medians over `runs` of a validation of one or more suites, with its parts."""
    measured = []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        results = validate_once()
        measured.append(
            {
                "seconds": time.perf_counter() - wall,
                "cpu_seconds": time.process_time() - cpu,
                "load_seconds": sum(r.load_seconds for r in results),
                "validate_seconds": sum(r.validate_seconds for r in results),
                "docs_seconds": sum(r.docs_seconds for r in results),
            }
        )
    rows = sum(r.rows for r in results)
    medians = {key: round(statistics.median(m[key] for m in measured), 3) for key in measured[0]}
    load_and_validate = statistics.median(m["load_seconds"] + m["validate_seconds"] for m in measured)
    return {
        "rows": rows,
        **medians,
        "load_and_validate_seconds": round(load_and_validate, 3),
        "seconds_per_million_rows": round(medians["seconds"] / (rows / 1e6), 3),
        "runs": [round(m["seconds"], 3) for m in measured],
        "passed": all(r.passed for r in results),
        "failed": sorted(f"{r.dataset}: {o.label}" for r in results for o in r.failures),
    }


def _validator(con: duckdb.DuckDBPyConnection, suites: list[Suite], scratch: Home) -> Callable[[], list[QualityResult]]:
    return lambda: [validate(con, suite, scratch, record=False) for suite in suites]


def measure(workdir: Path, quick: bool, repeat: int = 3) -> dict[str, Any]:
    home = _home(workdir, quick)
    load_average = os.getloadavg()[0]  # the machine may be shared: say how busy it was
    counts = _counts(home)
    suites = load_suites()
    biggest = max(counts, key=lambda dataset: counts[dataset])
    runs = 1 if quick else repeat
    scratch = Home(Path(tempfile.mkdtemp(prefix="agora-quality-bench-")))
    try:
        repeated = scratch.root / "suite.duckdb"
        suite_rows = 50_000 if quick else SUITE_ROWS
        repeated_table(home.warehouse, biggest, suite_rows, repeated)
        con = connect(str(repeated), read_only=True)
        try:
            validate(con, suites[biggest], scratch, record=False)  # warm-up: GE imports, compiled templates
            suite = _timed(runs, _validator(con, [suites[biggest]], scratch))
        finally:
            con.close()
        con = connect(home.warehouse, read_only=True)
        try:
            events = _timed(runs, _validator(con, [suites[dataset] for dataset in counts], scratch))
        finally:
            con.close()
    finally:
        shutil.rmtree(scratch.root, ignore_errors=True)
    return {
        "home": str(home.root),
        "repeat": runs,
        "load_average": [round(load_average, 2), round(os.getloadavg()[0], 2)],
        "suite": {"dataset": biggest, "landed_rows": counts[biggest], **suite},
        "events": {"tables": counts, **events},
        "sampling": False,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path(__file__).resolve().parent / "data")
    args = parser.parse_args()
    json.dump(measure(args.workdir, args.quick, args.repeat), sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
