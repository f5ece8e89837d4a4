"""How fast the catalog reads a query log: `reads()` per query, and with a fingerprint cache.

A synthetic log of `n` entries cycles through the SQL-reads corpus (tests/catalog/cases/, ~140
analyst-style queries over Agora's warehouse schema), each entry with its own literals (every
number of two or more digits replaced by the entry's index) and a comment naming the run, so no
two entries share a text but they share ~140 shapes — a log where analysts and dashboards rerun
the same questions.

- uncached: `reads()` on every entry (parse, qualify, scope walk each time);
- cached: `fingerprint()` on every entry and `reads()` once per fingerprint (dict fingerprint →
  Reads), as the catalog does; the fingerprint's own lru_cache is cleared first;
- fingerprints alone, and the parse-based fingerprint this module replaced, as the baseline.

Each figure is the median of `repeat` runs, all in one process. Nothing here asserts on time.

    python -m benchmarks.catalog_parse [--n 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import sqlglot
import yaml
from sqlglot import exp

from catalog.query_log import fingerprint
from catalog.sql_reads import Reads, Schema, reads

CASES = Path(__file__).resolve().parent.parent / "tests" / "catalog" / "cases"


def corpus() -> tuple[Schema, list[str]]:
    """The corpus schema and its queries (the lineage cases are dbt models, not log entries)."""
    raw = yaml.safe_load((CASES / "schema.yml").read_text())
    schema = Schema(
        relations={name: tuple(columns) for name, columns in raw["relations"].items()},
        views=dict(raw.get("views") or {}),
        search_path=tuple(raw["search_path"]),
    )
    queries = [
        case["sql"]
        for path in sorted(CASES.glob("*.yml"))
        if path.name not in ("schema.yml", "lineage.yml")
        for case in yaml.safe_load(path.read_text())
    ]
    return schema, queries


def query_log(queries: list[str], n: int) -> list[str]:
    """`n` entries cycling through `queries`, each text distinct: its own numbers and a comment
    (so the fingerprint's lru_cache never answers for the tokenizer)."""
    return [re.sub(r"\b\d{2,}\b", str(10 + i), queries[i % len(queries)]) + f"\n-- run {i}" for i in range(n)]


def parse_based_fingerprint(sql: str) -> str:
    """The fingerprint before this change (sqlglot parse, literals → placeholders, regenerate)."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
        normal = ";".join(
            s.transform(lambda n: exp.Placeholder() if isinstance(n, exp.Literal) else n).sql(
                dialect="duckdb", normalize=True
            )
            for s in statements
        )
    except Exception:
        normal = " ".join(sql.lower().split())
    return hashlib.sha256(normal.encode()).hexdigest()[:16]


def _median_seconds(work: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of `repeat` runs (CPU time too: the machine may be shared)."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def _cached(log: list[str], schema: Schema) -> dict[str, Reads]:
    fingerprint.cache_clear()
    shapes: dict[str, Reads] = {}
    for sql in log:
        key = fingerprint(sql)
        if key not in shapes:
            shapes[key] = reads(sql, schema)
    return shapes


def _fingerprints(log: list[str]) -> list[str]:
    fingerprint.cache_clear()
    return [fingerprint(sql) for sql in log]


def parse_rate(n: int, repeat: int = 3, uncached_limit: int = 20_000) -> dict:
    """Queries per second through `reads()` over an `n`-entry log, without and with a fingerprint
    cache. The uncached pass runs over at most `uncached_limit` entries (it is linear in entries;
    100k uncached would take minutes), so its rate is measured, not extrapolated."""
    schema, queries = corpus()
    log = query_log(queries, n)
    sample = log[:uncached_limit]
    for sql in queries:  # warm sqlglot's lazy imports and caches, outside the timings
        reads(sql, schema)
    quiet = logging.getLogger("sqlglot")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # EXPLAIN makes the baseline's parser warn on every call
    try:
        uncached = _median_seconds(lambda: [reads(sql, schema) for sql in sample], repeat)
        cached = _median_seconds(lambda: _cached(log, schema), repeat)
        fingerprint_only = _median_seconds(lambda: _fingerprints(log), repeat)
        fingerprint_sample = log[: min(len(log), 5_000)]
        baseline = _median_seconds(lambda: [parse_based_fingerprint(s) for s in fingerprint_sample], repeat)
    finally:
        quiet.setLevel(level)
    shapes = len(_cached(log, schema))
    return {
        "entries": n,
        "shapes": shapes,
        "uncached_entries": len(sample),
        "uncached_seconds": round(uncached[0], 3),
        "uncached_queries_per_s": round(len(sample) / uncached[0]),
        "uncached_queries_per_cpu_s": round(len(sample) / uncached[1]),
        "cached_seconds": round(cached[0], 3),
        "cached_queries_per_s": round(n / cached[0]),
        "cached_queries_per_cpu_s": round(n / cached[1]),
        "fingerprints_per_s": round(n / fingerprint_only[0]),
        "fingerprints_per_cpu_s": round(n / fingerprint_only[1]),
        "parse_based_fingerprints_per_s": round(len(fingerprint_sample) / baseline[0]),
        "parse_based_fingerprints_per_cpu_s": round(len(fingerprint_sample) / baseline[1]),
        "repeat": repeat,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.stdout.write(json.dumps(parse_rate(args.n, args.repeat), indent=2) + "\n")


if __name__ == "__main__":
    main()
