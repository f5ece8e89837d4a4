"""Validation speed of the Great Expectations suites on ≥2M landed events.

Run by benchmarks.run (section "quality"), or alone: `python -m benchmarks.quality [--quick]`.
Uses the events of the dbt benchmark's 2M home (`<workdir>/dbt-2m`) when it is there, else
simulates and lands its own. Each events table is validated with its real suite, in this
process, read-only; Data Docs are written to a scratch home and state is not recorded, so the
benchmark home is left as it was. Times are split into load (DuckDB → pandas, payload fields
parsed in SQL, only the suite's columns) and validate (GE on the pandas frame, plus Data Docs).
Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from pipelines.contracts import DOMAINS
from pipelines.home import Home
from pipelines.ingest import ingest
from pipelines.quality import load_suites, validate
from pipelines.simulator import SimulationConfig, simulate
from pipelines.warehouse import connect

MIN_EVENTS = 2_000_000


def _events(home: Home) -> int:
    con = connect(home.warehouse, read_only=True)
    try:
        return sum(con.execute(f"SELECT count(*) FROM raw_{d}.events").fetchone()[0] for d in DOMAINS)  # type: ignore[index]
    finally:
        con.close()


def _home(workdir: Path, quick: bool) -> Home:
    wanted = 50_000 if quick else MIN_EVENTS
    shared = Home(workdir / "dbt-2m")
    if (workdir / "dbt-2m" / "warehouse.duckdb").exists() and _events(shared) >= wanted:
        return shared
    own = Home(workdir / ("quality-quick" if quick else "quality-2m"))
    if own.root.exists() and (own.root / "warehouse.duckdb").exists() and _events(own) >= wanted:
        return own
    shutil.rmtree(own.root, ignore_errors=True)
    own.ensure()
    config = SimulationConfig(days=30, scale=2 if quick else 55, seed=7, start=date(2026, 10, 1))
    simulate(own.landing, own.manifest, config)
    ingest(own)
    return own


def measure(workdir: Path, quick: bool) -> dict:
    home = _home(workdir, quick)
    suites = load_suites()
    scratch = Home(Path(tempfile.mkdtemp(prefix="agora-quality-bench-")))
    con = connect(home.warehouse, read_only=True)
    per_table: dict[str, dict[str, float]] = {}
    try:
        validate(con, suites["raw_qa.events"], scratch, record=False)  # warm-up: GE imports, first context
        started = time.perf_counter()
        for domain in DOMAINS:
            result = validate(con, suites[f"raw_{domain}.events"], scratch, record=False)
            per_table[result.dataset] = {
                "rows": result.rows,
                "load_seconds": round(result.load_seconds, 3),
                "validate_seconds": round(result.validate_seconds, 3),
                "seconds": round(result.seconds, 3),
                "passed": result.passed,
            }
        total = time.perf_counter() - started
    finally:
        con.close()
        shutil.rmtree(scratch.root, ignore_errors=True)
    rows = sum(int(t["rows"]) for t in per_table.values())
    load = sum(t["load_seconds"] for t in per_table.values())
    return {
        "home": str(home.root),
        "events_validated": rows,
        "tables": per_table,
        "seconds": round(total, 3),
        "load_seconds": round(load, 3),
        "validate_seconds": round(total - load, 3),
        "seconds_per_million_rows": round(total / (rows / 1e6), 3) if rows else None,
        "sampling": False,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workdir", type=Path, default=Path(__file__).resolve().parent / "data")
    args = parser.parse_args()
    json.dump(measure(args.workdir, args.quick), sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
