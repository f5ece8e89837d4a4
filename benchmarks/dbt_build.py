"""dbt build times: the demo home, then a full and an incremental build at ≥2M and at ~10M events.

Run by benchmarks.run (section "dbt"). Each build is Agora's `build_models` in a fresh process
(`python -m benchmarks.dbt_build HOME`), so the times include Python and dbt start-up and parse,
as a user sees them. The deltas are real late data: part of the last simulated day's events is
held back from the first landing and landed after the full build, in chunks of ~1% of the events,
one incremental build after each, so incremental models must fold them into existing entities.
The full build's time is taken twice on the same final data: the home's first build (before the
deltas) and a `--full-refresh` after them.

The landing zones are the ones benchmarks.run simulates and caches (m2, m10): files are hard
linked, not copied (the work dir must be on the same file system), except the last day's event files, which are split into what lands first and later.

    python -m benchmarks.dbt_build HOME [--full-refresh]   # one timed build (used by measure)
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
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
DAYS = 30
DELTAS = 3  # incremental builds measured per size, each after ~1% late events
DELTA_SHARE = 0.01


def timed_build(home: Home, *flags: str) -> dict:
    """One `build_models` in a fresh process: wall seconds, what it ran, dbt's own elapsed time."""
    started = time.perf_counter()
    proc = subprocess.run(
        [PYTHON, "-m", "benchmarks.dbt_build", str(home.root), *flags], capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(
            f"build {' '.join(flags)} failed on {home.root}:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}"
        )
    report = json.loads(proc.stdout.splitlines()[-1])
    return {"seconds": seconds, **report}


def events_in(home: Home) -> int:
    con = duckdb.connect(home.warehouse, read_only=True)
    try:
        return sum(con.execute(f"SELECT count(*) FROM raw_{d}.events").fetchone()[0] for d in DOMAINS)  # type: ignore[index]
    finally:
        con.close()


def linked_home(root: Path, landing: Path, last_day: date, held_share: float) -> tuple[Home, list[dict[Path, bytes]]]:
    """A home whose landing links `landing`'s files, minus `held_share` of the last day's event
    lines; those come back as DELTAS chunks of late files, each to land on its own."""
    shutil.rmtree(root, ignore_errors=True)
    home = Home(root).ensure()
    chunks: list[dict[Path, bytes]] = [{} for _ in range(DELTAS)]
    for source in sorted(p for p in landing.rglob("*") if p.is_file() and not p.name.startswith("delta-")):
        target = home.landing / source.relative_to(landing)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.parent.name != "events" or not source.name.startswith(last_day.isoformat()):
            os.link(source, target)  # landing reads regular files only; a hard link costs no copy
            continue
        data = gzip.decompress(source.read_bytes()) if source.name.endswith(".gz") else source.read_bytes()
        lines = data.splitlines(keepends=True)
        cut = int(len(lines) * (1 - held_share))
        stem = source.name.split(".")[0]
        target.with_name(f"{stem}.jsonl").write_bytes(b"".join(lines[:cut]))
        held = lines[cut:]
        size = -(-len(held) // DELTAS)
        for n, chunk in enumerate(chunks):
            chunk[target.with_name(f"{stem}-late{n + 1}.jsonl")] = b"".join(held[n * size : (n + 1) * size])
    return home, chunks


def day_share(landing: Path, last_day: date) -> float:
    """The last day's share of the event lines (bytes as a proxy)."""
    files = [p for p in landing.glob("*/events/*") if not p.name.startswith("delta-")]
    total = sum(p.stat().st_size for p in files)
    last = sum(p.stat().st_size for p in files if p.name.startswith(last_day.isoformat()))
    return last / total


def measure_size(workdir: Path, name: str, landing: Path) -> dict:
    """Full build, DELTAS incremental builds after ~1% late events each, then a full refresh."""
    last_day = date(2026, 10, DAYS)
    held_share = min(0.95, DELTAS * DELTA_SHARE / day_share(landing, last_day))
    home, chunks = linked_home(workdir / f"dbt-{name}", landing, last_day, held_share)
    print(f"dbt {name}: landing …", file=sys.stderr)
    ingest(home)
    events = events_in(home)
    print(f"dbt {name}: full build of {events:,} events …", file=sys.stderr)
    full = timed_build(home)
    keep_results(home, workdir / f"dbt-{name}-full-build.json")
    incremental = []
    for n, chunk in enumerate(chunks, start=1):
        for path, data in chunk.items():
            path.write_bytes(data)
        delta = ingest(home).totals()
        print(f"dbt {name}: incremental build {n} after {delta['loaded']:,} late events …", file=sys.stderr)
        build = timed_build(home)
        incremental.append({**build, "delta_records": delta["records"], "delta_loaded": delta["loaded"]})
        keep_results(home, workdir / f"dbt-{name}-incremental-build-{n}.json")
    print(f"dbt {name}: full refresh …", file=sys.stderr)
    refresh = timed_build(home, "--full-refresh")
    full_seconds = statistics.median([full["seconds"], refresh["seconds"]])
    incremental_seconds = statistics.median(b["seconds"] for b in incremental)
    return {
        "events": events,
        "full_build_seconds": full["seconds"],
        "full_refresh_seconds": refresh["seconds"],
        "full_build_nodes": full["nodes"],
        "full_dbt_seconds": full["dbt_seconds"],
        "incremental": incremental,
        "incremental_build_seconds": incremental_seconds,
        "delta_records": statistics.median(b["delta_records"] for b in incremental),
        "delta_loaded": statistics.median(b["delta_loaded"] for b in incremental),
        "incremental_share": incremental_seconds / full_seconds,
    }


def measure(workdir: Path, quick: bool) -> dict:
    from benchmarks.run import simulated

    demo = Home(workdir / "dbt-demo")
    shutil.rmtree(demo.root, ignore_errors=True)
    demo.ensure()
    simulate(demo.landing, demo.manifest, SimulationConfig(days=DAYS, scale=2.0, seed=7, start=date(2026, 10, 1)))
    ingest(demo)
    demo_build = timed_build(demo)
    results: dict = {"demo_events": events_in(demo), "demo_build_seconds": demo_build["seconds"], "sizes": {}}
    for name, scale in (("2m", 2 if quick else 54), ("10m", 10 if quick else 270)):
        landing = simulated(workdir, f"m{name[:-1]}", SimulationConfig(days=DAYS, scale=scale, seed=7))
        results["sizes"][name] = measure_size(workdir, name, landing / "landing")
    # the keys the report has always shown, from the ≥2M size
    two = results["sizes"]["2m"]
    results.update(
        events=two["events"],
        full_build_seconds=two["full_build_seconds"],
        delta_records=two["delta_records"],
        delta_loaded=two["delta_loaded"],
        incremental_build_seconds=two["incremental_build_seconds"],
        full_refresh_after_delta_seconds=two["full_refresh_seconds"],
    )
    return results


def keep_results(home: Home, target: Path) -> None:
    """Keep dbt's per-node timings of a build (run_results.json) for the breakdown."""
    source = home.root / "dbt" / "target" / "run_results.json"
    if source.exists():
        shutil.copy(source, target)


def main() -> None:
    """One build of a home, reported as a JSON line on stdout (what timed_build reads)."""
    from pipelines.transform import build_models

    parser = argparse.ArgumentParser(description="one timed Agora dbt build of a home")
    parser.add_argument("home", type=Path)
    parser.add_argument("--full-refresh", action="store_true")
    args = parser.parse_args()
    home = Home(args.home)
    plan, run = build_models(home, full_refresh=args.full_refresh)
    results = run.results() if run else []
    elapsed = (
        json.loads((home.root / "dbt" / "target" / "run_results.json").read_text())["elapsed_time"] if run else 0.0
    )
    report = {"plan": plan.reason, "nodes": len(results), "dbt_seconds": elapsed}
    sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
