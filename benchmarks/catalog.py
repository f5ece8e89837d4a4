"""What the catalog costs: findings over a 100k-entry query log, and SQL parsing rates.

Run by benchmarks.run (section "catalog"), or alone: `python -m benchmarks.catalog [--quick]`.

(a) Findings. A fresh `agora demo` home; the gateway's log directory gets `entries` JSON lines
    in the gateway's own format (a few hundred query shapes over the served models, each rerun
    with other literals by the principals of catalog/access.yml over 45 days; a few shapes
    dominate, as in real logs). Timed: `refresh_catalog(home)` — land the new log lines into
    ops.query_log, parse each new query shape once, derive every finding, rewrite catalog.* —
    cold (nothing cached) on a copy of the home, then warm (nothing new: cached shapes).
(b) Parsing. `benchmarks.catalog_parse.parse_rate`: `reads()` on every query of a corpus-based
    log versus fingerprint + `reads()` once per fingerprint (the cache the catalog uses).

Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from pipelines.home import REPO_ROOT, Home

END = datetime(2026, 10, 31, tzinfo=UTC)


def demo_home(workdir: Path) -> Path:
    home = workdir / "catalog-demo"
    if not (home / "serving.duckdb").exists():
        shutil.rmtree(home, ignore_errors=True)
        subprocess.run(
            [sys.executable, "-m", "pipelines.cli", "--home", str(home), "demo"],
            cwd=REPO_ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return home


def write_log(home: Path, entries: int, shapes: int = 300, seed: int = 7, days: int = 45) -> int:
    """`entries` gateway log lines in `<home>/query_log/`; returns the number of shapes."""
    from catalog.query_log import fingerprint
    from tests.catalog.query_log_generator import PRINCIPALS, served_relations, shape_templates

    con = duckdb.connect(str(home / "serving.duckdb"), read_only=True)
    try:
        templates = shape_templates(served_relations(con), shapes, seed)
    finally:
        con.close()
    rng = random.Random(seed)
    prints = [fingerprint(t.format(n=1)) for t in templates]  # the gateway fingerprints at query time
    weights = [1 / (i + 1) for i in range(len(templates))]
    picks = rng.choices(range(len(templates)), weights=weights, k=entries)
    folder = home / "query_log"
    folder.mkdir(exist_ok=True)
    lines = []
    for shape in picks:
        logged = END - timedelta(seconds=rng.randrange(days * 86400))
        refused = rng.random() >= 0.9
        lines.append(
            json.dumps(
                {
                    "query_id": uuid.UUID(int=rng.getrandbits(128)).hex,
                    "logged_at": logged.isoformat(),
                    "principal": PRINCIPALS[(shape + rng.randrange(2)) % len(PRINCIPALS)],
                    "source": "cli",
                    "sql": templates[shape].format(n=rng.randint(1, 1000)),
                    "fingerprint": prints[shape],
                    "relations": [],
                    "columns": [],
                    "masked": [],
                    "decision": "refused" if refused else "allowed",
                    "reason": "not_granted" if refused else "",
                    "message": "",
                    "rows": None if refused else rng.randint(1, 500),
                    "duration_ms": 3.0,
                    "pid": 1,
                },
                separators=(",", ":"),
            )
        )
    (folder / f"{END.date()}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(templates)


def refresh_seconds(home: Path) -> tuple[float, dict]:
    from catalog.refresh import refresh_catalog

    started = time.perf_counter()
    result = refresh_catalog(Home.resolve(home))
    return time.perf_counter() - started, result.as_dict()


def measure(workdir: Path, quick: bool = False, repeat: int = 3) -> dict:
    entries = 10_000 if quick else 100_000
    base = demo_home(workdir)
    scratch = workdir / "catalog-log"
    cold, warm, detail = [], [], {}
    shapes = 0
    for _ in range(1 if quick else repeat):
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        for name in ("warehouse.duckdb", "serving.duckdb"):
            shutil.copy(base / name, scratch / name)
        shutil.copytree(base / "dbt", scratch / "dbt")
        shapes = write_log(scratch, entries)
        seconds, detail = refresh_seconds(scratch)
        cold.append(seconds)
        warm.append(refresh_seconds(scratch)[0])
    from benchmarks.catalog_parse import parse_rate

    rates = parse_rate(20_000 if quick else 100_000)
    return {
        "entries": entries,
        "shapes": shapes,
        "cold_seconds": statistics.median(cold),
        "warm_seconds": statistics.median(warm),
        "cold_runs": cold,
        "cold_timings": detail.get("timings", {}),
        "findings": detail.get("findings", {}),
        "parse": rates,
    }


def render_catalog(c: dict) -> str:
    p = c["parse"]
    timings = ", ".join(f"{k} {v:.2f} s" for k, v in c["cold_timings"].items())
    return f"""
## Catalog: findings over a query log, parsing rates

| what | figure |
|---|---:|
| query log entries (distinct shapes) | {c["entries"]:,} ({c["shapes"]}) |
| `agora catalog refresh` cold: land the log, parse every shape, all findings (median) | **{c["cold_seconds"]:.2f} s** |
| same, nothing new (warm cache) | {c["warm_seconds"]:.2f} s |
| queries parsed per second, `reads()` on every query | {p["uncached_queries_per_s"]:,.0f} |
| queries per second with the fingerprint cache (fingerprint each, parse each shape once) | {p["cached_queries_per_s"]:,.0f} |

Cold refresh steps (last run): {timings}.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workdir", type=Path, default=REPO_ROOT / "benchmarks" / "data")
    args = parser.parse_args()
    result = measure(args.workdir, args.quick)
    print(json.dumps(result, indent=2, default=str))
    print(render_catalog(result))


if __name__ == "__main__":
    main()
