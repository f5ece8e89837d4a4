"""`make bench`: landing throughput against the floor and against dlt, incremental cost, memory.

Everything is measured in one run on the same simulated files, each load in a fresh process,
and written to benchmarks/results.md (and results.json). Nothing here asserts on time.

    python -m benchmarks.run            # the full set (2M and 10M events; ~10 minutes)
    python -m benchmarks.run --quick    # small sizes, to check the script itself
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from pipelines.simulator import SimulationConfig, simulate

ROOT = Path(__file__).resolve().parent
PYTHON = sys.executable


@dataclass
class Run:
    wall: float  # seconds, process start to exit
    peak_rss_mb: float
    output: dict


def run_measured(args: list[str], env: dict[str, str] | None = None) -> Run:
    """Like run_process but with the child's peak RSS, read from its rusage."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
    out_chunks = []
    assert proc.stdout is not None
    for chunk in iter(lambda: proc.stdout.read(65536), b""):  # type: ignore[union-attr]
        out_chunks.append(chunk)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{stderr[-2000:]}")
    return Run(wall, usage.ru_maxrss / 1024, json.loads(b"".join(out_chunks)))


def simulated(workdir: Path, name: str, config: SimulationConfig) -> Path:
    """A landing zone for `config`, generated once and reused while the config is the same."""
    home = workdir / name
    stamp = home / "config.json"
    wanted = json.dumps({"days": config.days, "scale": config.scale, "seed": config.seed, "dirt": config.dirt})
    if not (stamp.exists() and stamp.read_text() == wanted):
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        print(f"simulating {name} …", file=sys.stderr)
        simulate(home / "landing", home / "simulation" / "manifest.json", config)
        stamp.write_text(wanted)
    return home


def events_only(home: Path) -> Path:
    """A home whose landing zone links only the events folders of `home`."""
    target = home.parent / f"{home.name}-events"
    shutil.rmtree(target, ignore_errors=True)
    for domain in sorted((home / "landing").iterdir()):
        (target / "landing" / domain.name).mkdir(parents=True)
        (target / "landing" / domain.name / "events").symlink_to(domain / "events")
    return target


def reset_warehouse(home: Path) -> None:
    for name in ("warehouse.duckdb", "warehouse.duckdb.wal"):
        (home / name).unlink(missing_ok=True)


def agora_ingest(home: Path) -> Run:
    reset_warehouse(home)
    return run_measured([PYTHON, "-m", "pipelines.cli", "--home", str(home), "ingest", "--json"])


def bare_load(home: Path) -> Run:
    db = home / "bare.duckdb"
    db.unlink(missing_ok=True)
    run = run_measured([PYTHON, "-m", "benchmarks.bare_load", str(home / "landing"), str(db)])
    db.unlink(missing_ok=True)
    return run


def dlt_load(home: Path, limit: int) -> Run:
    workdir = home / "dlt"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir()
    run = run_measured([PYTHON, "-m", "benchmarks.dlt_load", str(home / "landing"), str(workdir), str(limit)])
    shutil.rmtree(workdir, ignore_errors=True)
    return run


def add_delta(home: Path, fraction_of: int, seed: int, prefix: str = "delta") -> int:
    """Land ~1% new events: a later day simulated apart, ids prefixed so they are new events."""
    delta_home = home.parent / f"{home.name}-delta"
    shutil.rmtree(delta_home, ignore_errors=True)
    per_day_at_scale_1 = 1240
    scale = max(0.05, fraction_of / per_day_at_scale_1)
    simulate(
        delta_home / "landing",
        delta_home / "manifest.json",
        SimulationConfig(days=1, scale=scale, seed=seed, start=date(2026, 11, 15), dirt=1.0),
    )
    lines = 0
    for source in sorted((delta_home / "landing").glob("*/events/*")):
        data = gzip.decompress(source.read_bytes()) if source.name.endswith(".gz") else source.read_bytes()
        fresh = (
            b"\n".join(line.replace(b'"id":"', f'"id":"{prefix}-'.encode(), 1) for line in data.splitlines()) + b"\n"
        )
        target = home / "landing" / source.parent.parent.name / "events" / f"{prefix}-{source.name.removesuffix('.gz')}"
        target.write_bytes(fresh)
        lines += fresh.count(b"\n")
    shutil.rmtree(delta_home)
    return lines


def remove_delta(home: Path) -> None:
    for path in (home / "landing").glob("*/events/delta*-*"):
        path.unlink()


def machine() -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": f"{mem_kb / 1024 / 1024:.0f} GiB",
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "os": platform.platform(),
    }


def median_of(runs: list[Run], key: str | None = None) -> float:
    return statistics.median(r.output[key] if key else r.wall for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes (checks the script, not the product)")
    parser.add_argument("--workdir", type=Path, default=ROOT / "data")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--only",
        choices=["landing", "dbt", "quality", "dagster", "gateway", "catalog"],
        help="run one section (others keep their last figures)",
    )
    args = parser.parse_args()
    workdir: Path = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    repeat = 1 if args.quick else args.repeat
    previous = json.loads((ROOT / "results.json").read_text()) if (ROOT / "results.json").exists() else {}
    results: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(), "quick": args.quick}
    sections = {
        "dbt": lambda: __import__("benchmarks.dbt_build", fromlist=["measure"]).measure(workdir, args.quick),
        "quality": lambda: __import__("benchmarks.quality", fromlist=["measure"]).measure(workdir, args.quick, repeat),
        "dagster": lambda: __import__("benchmarks.dagster_run", fromlist=["measure"]).measure(workdir),
        "gateway": lambda: __import__("benchmarks.gateway", fromlist=["measure"]).measure(workdir, args.quick),
        "catalog": lambda: __import__("benchmarks.catalog", fromlist=["measure"]).measure(workdir, args.quick),
    }
    for name, run in sections.items():
        if args.only in (None, name):
            print(f"{name} …", file=sys.stderr)
            results[name] = run()
        elif name in previous:
            results[name] = previous[name]
    if args.only not in (None, "landing"):
        results["throughput"], results["incremental"] = previous["throughput"], previous["incremental"]
        write(results)
        return

    load_before = os.getloadavg()[0]
    # 1. ~2M events: bare DuckDB vs agora ingest vs dlt, same files -------------------------
    m2 = simulated(workdir, "m2", SimulationConfig(days=30, scale=2 if args.quick else 54, seed=7))
    ev = events_only(m2)
    # interleaved, so a change in the machine's load hits both loaders alike
    bare: list[Run] = []
    ours: list[Run] = []
    for n in range(repeat):
        print(f"bare DuckDB, then agora ingest (events), run {n + 1} of {repeat} …", file=sys.stderr)
        bare.append(bare_load(ev))
        ours.append(agora_ingest(ev))
    print("agora ingest (events + extracts) …", file=sys.stderr)
    full = agora_ingest(m2)
    dlt_limit = 20_000 if args.quick else 200_000
    print(f"dlt on {dlt_limit:,} events …", file=sys.stderr)
    dlt_run = dlt_load(ev, dlt_limit)
    lines = ours[0].output["totals"]["records"]
    bare_s = median_of(bare, "seconds")
    ours_s = median_of(ours, "seconds")
    ours_wall = median_of(ours)
    dlt_rate = dlt_run.output["events_offered"] / dlt_run.output["seconds"]
    results["throughput"] = {
        "lines": lines,
        "bytes": sum(p.stat().st_size for p in (m2 / "landing").glob("*/events/*")),
        "bare_seconds": bare_s,
        "bare_rows": bare[0].output["rows"],
        "agora_seconds": ours_s,
        "agora_wall_seconds": ours_wall,
        "agora_peak_rss_mb": max(r.peak_rss_mb for r in ours),
        "agora_totals": ours[0].output["totals"],
        "agora_full_seconds": full.output["seconds"],
        "agora_full_records": full.output["totals"]["records"],
        "dlt_seconds": dlt_run.output["seconds"],
        "dlt_events": dlt_run.output["events_offered"],
        "bare_events_per_s": lines / bare_s,
        "agora_events_per_s": lines / ours_s,
        "agora_wall_events_per_s": lines / ours_wall,
        "dlt_events_per_s": dlt_rate,
        "runs": {
            "bare": [r.output["seconds"] for r in bare],
            "agora": [r.output["seconds"] for r in ours],
            "agora_wall": [r.wall for r in ours],
        },
    }

    # 2. ~10M events: full load, peak memory, then a 1% delta and a no-op --------------------
    big = simulated(workdir, "m10", SimulationConfig(days=30, scale=10 if args.quick else 270, seed=7))
    remove_delta(big)
    print("agora ingest (10M) …", file=sys.stderr)
    first = agora_ingest(big)
    events = first.output["totals"]["records"]
    delta_lines = add_delta(big, fraction_of=max(1, events // 100), seed=99)
    print(f"agora ingest (delta of {delta_lines:,} lines) …", file=sys.stderr)
    delta = run_measured([PYTHON, "-m", "pipelines.cli", "--home", str(big), "ingest", "--json"])
    # a second delta: the steady state, after the first one has landed on top of the bulk load
    delta2_lines = add_delta(big, fraction_of=max(1, events // 100), seed=98, prefix="delta2")
    print(f"agora ingest (second delta of {delta2_lines:,} lines) …", file=sys.stderr)
    delta2 = run_measured([PYTHON, "-m", "pipelines.cli", "--home", str(big), "ingest", "--json"])
    noop = run_measured([PYTHON, "-m", "pipelines.cli", "--home", str(big), "ingest", "--json"])
    remove_delta(big)
    results["incremental"] = {
        "records": events,
        "full_seconds": first.output["seconds"],
        "full_wall_seconds": first.wall,
        "full_peak_rss_mb": first.peak_rss_mb,
        "delta_lines": delta_lines,
        "delta_records": delta.output["totals"]["records"],
        "delta_loaded": delta.output["totals"]["loaded"],
        "delta_seconds": delta.output["seconds"],
        "delta_wall_seconds": delta.wall,
        "delta_peak_rss_mb": delta.peak_rss_mb,
        "delta2_records": delta2.output["totals"]["records"],
        "delta2_seconds": delta2.output["seconds"],
        "delta2_wall_seconds": delta2.wall,
        "noop_seconds": noop.output["seconds"],
        "noop_wall_seconds": noop.wall,
    }
    results["throughput"]["load_average"] = [load_before, os.getloadavg()[0]]
    write(results)


def write(results: dict) -> None:
    (ROOT / "results.json").write_text(json.dumps(results, indent=2))
    (ROOT / "results.md").write_text(render(results))
    print((ROOT / "results.md").read_text())


def render(r: dict) -> str:
    t, i, m = r["throughput"], r["incremental"], r["machine"]
    return (
        f"""# Landing benchmarks

Measured {r["date"]} on {m["cpu"]}, {m["cores"]} cores, {m["memory"]}; Python {m["python"]},
DuckDB {m["duckdb"]}. {"QUICK RUN (small sizes; not representative)." if r["quick"] else ""}
Produced by `make bench` (`python -m benchmarks.run`); every load runs in a fresh process on the
same simulated files. Seconds are the median of the runs, timed inside the process (imports
excluded); "wall" includes interpreter start-up.

## Throughput: {t["lines"]:,} CloudEvents lines ({t["bytes"] / 1e6:,.0f} MB, realistic dirt)

| loader | what it does | seconds | events/s | vs bare |
|---|---|---:|---:|---:|
| bare DuckDB `read_ndjson` → table | no checks, no dedup, bad lines skipped silently | {t["bare_seconds"]:.2f} | {t["bare_events_per_s"]:,.0f} | 1.00× |
| `agora ingest` (events) | contracts, dedup on (source, id), quarantine with reasons, per-file ledger, one transaction per batch | {t["agora_seconds"]:.2f} | {t["agora_events_per_s"]:,.0f} | {t["agora_events_per_s"] / t["bare_events_per_s"]:.2f}× |
| `agora ingest` (events), wall incl. start-up | same | {t["agora_wall_seconds"]:.2f} | {t["agora_wall_events_per_s"]:,.0f} | {t["agora_wall_events_per_s"] / t["bare_events_per_s"]:.2f}× |
| dlt 1.31 merge on (source, id), {t["dlt_events"]:,} events | row-wise normalize, merge load | {t["dlt_seconds"]:.2f} | {t["dlt_events_per_s"]:,.0f} | {t["dlt_events_per_s"] / t["bare_events_per_s"]:.3f}× |

- agora vs dlt: **{t["agora_events_per_s"] / t["dlt_events_per_s"]:,.0f}×** the events per second.
- agora landed {t["agora_totals"]["loaded"]:,} events, {t["agora_totals"]["duplicates"]:,} duplicates and
  {t["agora_totals"]["quarantined"]:,} quarantined lines; bare kept {t["bare_rows"]:,} rows (duplicates and
  unparseable lines silently included or dropped).
- Peak RSS of `agora ingest`: {t["agora_peak_rss_mb"]:,.0f} MB.
- Events and extracts together ({t["agora_full_records"]:,} records): {t["agora_full_seconds"]:.2f} s.
- Runs (s), interleaved: bare {", ".join(f"{x:.2f}" for x in t["runs"]["bare"])}; agora {", ".join(f"{x:.2f}" for x in t["runs"]["agora"])}.
- 1-minute load average before and after the landing runs: {" → ".join(f"{x:.1f}" for x in t.get("load_average", []))}
  (2 cores; above 2, other work shared the machine and every figure here is slower than on a quiet one).

## Incremental: {i["records"]:,} records landed, then ~1% new

| step | records | seconds | wall | peak RSS |
|---|---:|---:|---:|---:|
| full load (events + extracts) | {i["records"]:,} | {i["full_seconds"]:.2f} | {i["full_wall_seconds"]:.2f} | {i["full_peak_rss_mb"]:,.0f} MB |
| 1% delta ({i["delta_records"]:,} lines, {i["delta_loaded"]:,} new events) | {i["delta_records"]:,} | {i["delta_seconds"]:.2f} | {i["delta_wall_seconds"]:.2f} | {i["delta_peak_rss_mb"]:,.0f} MB |
| second 1% delta ({i.get("delta2_records", 0):,} lines) | {i.get("delta2_records", 0):,} | {i.get("delta2_seconds", float("nan")):.2f} | {i.get("delta2_wall_seconds", float("nan")):.2f} | |
| nothing new | 0 | {i["noop_seconds"]:.2f} | {i["noop_wall_seconds"]:.2f} | |

- Delta cost: **{100 * i["delta_seconds"] / i["full_seconds"]:.1f}%** of the full load's time
  ({100 * i["delta_wall_seconds"] / i["full_wall_seconds"]:.1f}% in wall time) for
  {100 * i["delta_records"] / i["records"]:.2f}% of the records; the second delta
  {100 * i.get("delta2_seconds", float("nan")) / i["full_seconds"]:.1f}%.
"""
        + (render_dbt(r["dbt"]) if "dbt" in r else "")
        + (render_quality(r["quality"]) if "quality" in r else "")
        + (render_dagster(r["dagster"]) if "dagster" in r else "")
        + (render_gateway(r["gateway"]) if "gateway" in r else "")
        + (
            __import__("benchmarks.catalog", fromlist=["render_catalog"]).render_catalog(r["catalog"])
            if "catalog" in r
            else ""
        )
    )


def render_quality(q: dict) -> str:
    if "suite" not in q:  # figures written before the suite-at-2M measurement existed
        return ""
    s, e = q["suite"], q["events"]
    before, after = q.get("load_average", ("?", "?"))

    def row(what: str, m: dict) -> str:
        return (
            f"| {what} | {m['rows']:,} | {m['load_seconds']:.2f} | {m['validate_seconds']:.2f} | "
            f"{m['load_and_validate_seconds']:.2f} | {m['docs_seconds']:.2f} | {m['seconds']:.2f} | "
            f"{m['cpu_seconds']:.2f} | {m['seconds_per_million_rows']:.2f} |"
        )

    return f"""
## Great Expectations validation (the suites the asset checks run; medians of {q["repeat"]} runs)

| suite(s) | rows | load s | GE s | load + GE s | Data Docs s | total s | CPU s | total s per M rows |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
{row(f"`{s['dataset']}` (biggest events table, its {s['landed_rows']:,} rows repeated)", s)}
{row(f"the {len(e['tables'])} `raw_<domain>.events` suites", e)}

- Every expectation of each suite on every row (no sampling). Load: DuckDB → Arrow → pandas with only the
  suite's columns, payload fields parsed in SQL, numpy dtypes GE compares vectorised. GE: the checkpoint
  run. Data Docs: the dataset's pages, written after the validation. CPU: this process, DuckDB's threads
  included. 1-minute load average before / after: {before} / {after} (above the core count: a shared machine).
- Runs (total s): {", ".join(f"{x:.2f}" for x in s["runs"])} (suite); {", ".join(f"{x:.2f}" for x in e["runs"])} (six suites).
"""


def render_gateway(g: dict) -> str:
    o, b = g["overhead"], g["bulk_check"]
    rows = "\n".join(
        f"| {name} | {q.get('principal', '')} | {q['duckdb_ms']:.2f} | {q['gateway_ms']:.2f} | {q['ratio']:.3f}× |"
        for name, q in o["queries"].items()
    )
    return f"""
## Governed SQL gateway (serving snapshot {g["snapshot_mb"]} MB; medians of {o["repeat"]} runs each)

| query | principal | DuckDB ms | gateway ms | ratio |
|---|---|---:|---:|---:|
{rows}

- Median ratio **{o["median_ratio"]:.3f}×** (worst {o["max_ratio"]:.3f}×; median overhead {o["median_overhead_ms"]:.2f} ms).
- `agora access` bulk check over {b["datasets"]:,} datasets: **{b["median_ms"]:.2f} ms** median ({b["allowed"]} allowed).
"""


def render_dagster(g: dict) -> str:
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in list(g["steps"].items())[:6])
    return f"""
## `agora run` (the whole Dagster job) on the demo data ({g["data"]})

- Wall time **{g["wall_seconds"]:.1f} s**; the steps' own work {g["step_seconds"]:.1f} s; outside the steps
  (process start, definitions, Dagster bookkeeping) {g["overhead_seconds"]:.1f} s = **{100 * g["overhead_share"]:.0f}%**.
- Slowest steps: {steps}.
"""


def render_dbt(d: dict) -> str:
    def size_row(s: dict) -> str:
        builds = ", ".join(f"{b['seconds']:.1f}" for b in s["incremental"])
        return (
            f"| {s['events']:,} | {s['full_build_seconds']:.1f} / {s['full_refresh_seconds']:.1f} "
            f"| {s['delta_loaded']:,.0f} | {builds} | **{100 * s['incremental_share']:.0f}%** |"
        )

    rows = "\n".join(size_row(s) for s in d.get("sizes", {}).values())
    return f"""
## dbt (Agora's build, fresh process each; data tests included, unit tests in CI)

Demo home ({d["demo_events"]:,} events): full build {d["demo_build_seconds"]:.1f} s.

| events | full build / full refresh (s) | late events per delta | incremental builds (s) | incremental / full |
|---|---:|---:|---:|---:|
{rows}
"""


if __name__ == "__main__":
    main()
