"""dbt build times: the demo home, a ≥2M-event home, and the incremental build after a ~1% delta.

Run by benchmarks.run (section "dbt"). Each build is `agora dbt …` in a fresh process, so the
times include dbt's own start-up and parse, as a user sees them. The delta is real late data: a
third of the last simulated day's events is held back from the first landing and landed after
the full build (≈1% of the events), so incremental models must fold it into existing entities.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb

from pipelines.contracts import DOMAINS
from pipelines.home import Home
from pipelines.ingest import ingest
from pipelines.simulator import SimulationConfig, simulate

PYTHON = sys.executable


def timed_dbt(home: Home, *args: str) -> float:
    started = time.perf_counter()
    proc = subprocess.run(
        [PYTHON, "-m", "pipelines.cli", "--home", str(home.root), "dbt", *args], capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"dbt {' '.join(args)} failed on {home.root}:\n{proc.stdout[-3000:]}")
    return seconds


def events_in(home: Home) -> int:
    con = duckdb.connect(home.warehouse, read_only=True)
    try:
        return sum(con.execute(f"SELECT count(*) FROM raw_{d}.events").fetchone()[0] for d in DOMAINS)  # type: ignore[index]
    finally:
        con.close()


def hold_back_last_day(home: Home, last_day: date, fraction: float) -> dict[Path, bytes]:
    """Keep the first (1 - fraction) of each last-day events file landed; return the rest."""
    held: dict[Path, bytes] = {}
    for path in sorted(home.landing.glob(f"*/events/{last_day.isoformat()}*")):
        data = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
        lines = data.splitlines(keepends=True)
        cut = int(len(lines) * (1 - fraction))
        path.unlink()
        stem = path.name.split(".")[0]
        (path.parent / f"{stem}.jsonl").write_bytes(b"".join(lines[:cut]))
        held[path.parent / f"{stem}-late.jsonl"] = b"".join(lines[cut:])
    return held


def measure(workdir: Path, quick: bool) -> dict:
    demo = Home(workdir / "dbt-demo")
    shutil.rmtree(demo.root, ignore_errors=True)
    demo.ensure()
    simulate(demo.landing, demo.manifest, SimulationConfig(days=30, scale=2.0, seed=7, start=date(2026, 10, 1)))
    ingest(demo)
    demo_build = timed_dbt(demo, "build", "--exclude-resource-type", "unit_test")

    days = 30
    big = Home(workdir / "dbt-2m")
    shutil.rmtree(big.root, ignore_errors=True)
    big.ensure()
    simulate(
        big.landing,
        big.manifest,
        SimulationConfig(days=days, scale=2 if quick else 54, seed=7, start=date(2026, 10, 1)),
    )
    held = hold_back_last_day(big, date(2026, 10, days), fraction=2 / 3)
    ingest(big)
    events = events_in(big)
    full_build = timed_dbt(big, "build", "--exclude-resource-type", "unit_test")
    keep_results(big, workdir / "dbt-full-build.json")
    # two deltas of late events: one for an incremental `dbt build`, one for `dbt run` (models only)
    for path, data in held.items():
        lines = data.splitlines(keepends=True)
        path.write_bytes(b"".join(lines[: len(lines) // 2]))
    delta = ingest(big)
    incremental_build = timed_dbt(big, "build", "--exclude-resource-type", "unit_test")
    keep_results(big, workdir / "dbt-incremental-build.json")
    for path, data in held.items():
        lines = data.splitlines(keepends=True)
        path.with_name(path.name.replace("-late", "-later")).write_bytes(b"".join(lines[len(lines) // 2 :]))
    delta2 = ingest(big)
    incremental_run = timed_dbt(big, "run")
    keep_results(big, workdir / "dbt-incremental-run.json")
    rerun = timed_dbt(big, "run", "--full-refresh")
    rebuild = timed_dbt(big, "build", "--full-refresh", "--exclude-resource-type", "unit_test")
    return {
        "demo_events": events_in(demo),
        "demo_build_seconds": demo_build,
        "events": events,
        "full_build_seconds": full_build,
        "delta_records": delta.totals()["records"],
        "delta_loaded": delta.totals()["loaded"],
        "incremental_build_seconds": incremental_build,
        "delta2_records": delta2.totals()["records"],
        "incremental_run_seconds": incremental_run,
        "full_refresh_run_seconds": rerun,
        "full_refresh_after_delta_seconds": rebuild,
    }


def keep_results(home: Home, target: Path) -> None:
    """Keep dbt's per-node timings of a build (run_results.json) for the breakdown."""
    source = home.root / "dbt" / "target" / "run_results.json"
    if source.exists():
        shutil.copy(source, target)
