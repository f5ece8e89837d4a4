"""A synthetic governed query log, for the catalog's scale test and benchmark.

`write_synthetic_log(con, entries)` appends `entries` rows to `ops.query_log` of a warehouse
(a copy of a demo home's): a few hundred query shapes over the served models (projections,
filters, aggregates, joins), each repeated with different literals by principals of
catalog/access.yml over 45 days — the shape of a real log, where a few shapes dominate.
Every instance of a shape carries the shape's gateway fingerprint (literals do not change it),
computed once per shape so generating 100k entries takes a second, not a parse per entry.

`benchmark_refresh(home, entries)` is what `benchmarks/` can call: it loads the log into the
home's warehouse and times a cold refresh (every shape parsed) and a warm one (all cached).
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import duckdb

from catalog.query_log import fingerprint
from pipelines.home import Home
from pipelines.load_query_log import QUERY_LOG_DDL

PRINCIPALS = (
    "exec-dashboard",
    "finance-analyst",
    "sales-analyst",
    "marketing-analyst",
    "support-agent-bot",
    "platform-admin",
    "revenue-analyst",
    "support-ops-app",
    "reliability-analyst",
    "ana.controller@agora.example",
)
END = datetime(2026, 10, 31, tzinfo=UTC)


def served_relations(con: duckdb.DuckDBPyConnection) -> list[tuple[str, tuple[str, ...]]]:
    rows = con.execute(
        "SELECT schema_name || '.' || table_name, list(column_name ORDER BY column_index) FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name IN ('public', 'marts') GROUP BY ALL ORDER BY 1"
    ).fetchall()
    return [(r, tuple(c)) for r, c in rows]


def shape_templates(relations: list[tuple[str, tuple[str, ...]]], shapes: int, seed: int) -> list[str]:
    """SQL templates with `{n}` where a literal goes; distinct shapes by construction."""
    rng = random.Random(seed)
    templates: list[str] = []
    seen: set[str] = set()
    while len(templates) < shapes:
        relation, columns = rng.choice(relations)
        picked = rng.sample(columns, k=min(len(columns), rng.randint(1, 4)))
        where = rng.choice(columns)
        kind = rng.random()
        if kind < 0.5:
            sql = f"select {', '.join(picked)} from {relation} where {where} is not null limit {{n}}"
        elif kind < 0.8:
            sql = f"select {picked[0]}, count(*) as n from {relation} where length(cast({where} as varchar)) > {{n}} group by {picked[0]}"
        else:
            other, other_columns = rng.choice(relations)
            shared = sorted(set(columns) & set(other_columns))
            if not shared or other == relation:
                continue
            key = rng.choice(shared)
            extra = rng.choice(other_columns)
            sql = (
                f"select a.{picked[0]}, b.{extra} from {relation} as a inner join {other} as b "
                f"on a.{key} = b.{key} limit {{n}}"
            )
        if sql not in seen:
            seen.add(sql)
            templates.append(sql)
    return templates


def write_synthetic_log(
    con: duckdb.DuckDBPyConnection, entries: int, shapes: int = 300, seed: int = 7, days: int = 45
) -> int:
    """Append `entries` synthetic records to ops.query_log; returns the number of shapes used."""
    import pyarrow as pa

    con.execute(QUERY_LOG_DDL)
    rng = random.Random(seed)
    templates = shape_templates(served_relations(con), shapes, seed)
    prints = [fingerprint(t.format(n=1)) for t in templates]
    weights = [1 / (i + 1) for i in range(len(templates))]  # a few shapes dominate, as in real logs
    picks = rng.choices(range(len(templates)), weights=weights, k=entries)
    seconds = days * 86400
    rows = {
        "query_id": [],
        "logged_at": [],
        "principal": [],
        "sql": [],
        "fingerprint": [],
        "decision": [],
        "path": [],
        "line_no": [],
    }
    for line, shape in enumerate(picks):
        rows["query_id"].append(uuid.UUID(int=rng.getrandbits(128)).hex)
        rows["logged_at"].append(END - timedelta(seconds=rng.randrange(seconds)))
        rows["principal"].append(PRINCIPALS[(shape + rng.randrange(2)) % len(PRINCIPALS)])
        rows["sql"].append(templates[shape].format(n=rng.randint(1, 1000)))
        rows["fingerprint"].append(prints[shape])
        rows["decision"].append("allowed" if rng.random() < 0.9 else "refused")
        rows["path"].append("query_log/synthetic.jsonl")
        rows["line_no"].append(line + 1)
    table = pa.table(rows)
    con.register("synthetic_log", table)
    try:
        con.execute(
            "INSERT INTO ops.query_log (query_id, logged_at, principal, sql, fingerprint, decision, path, line_no, landed_at) "
            "SELECT query_id, logged_at, principal, sql, fingerprint, decision, path, line_no, now() FROM synthetic_log"
        )
    finally:
        con.unregister("synthetic_log")
    return len(templates)


def _entries_parsed_per_second(con: duckdb.DuckDBPyConnection, sample: int) -> float:
    """Parse `sample` log entries one by one, as a catalog without fingerprint dedup would."""
    from catalog.inventory import read_warehouse
    from catalog.sql_reads import reads

    schema = read_warehouse(con).schema()
    sqls = [s for (s,) in con.execute(f"SELECT sql FROM ops.query_log USING SAMPLE {int(sample)} ROWS").fetchall()]
    started = time.perf_counter()
    for sql in sqls:
        reads(sql, schema)
    return len(sqls) / (time.perf_counter() - started)


def benchmark_refresh(home: Home, entries: int = 100_000, seed: int = 7) -> dict[str, float]:
    """Time catalog refreshes over a synthetic log of `entries` in `home` (use a copy: it writes
    the log into its warehouse). Returns seconds and step timings, cold (no cache) then warm."""
    from catalog.refresh import load_manifest, refresh_with
    from pipelines.warehouse import connect

    manifest, _ = load_manifest(home)
    con = connect(home.warehouse)
    try:
        started = time.perf_counter()
        shapes = write_synthetic_log(con, entries, seed=seed)
        generated = time.perf_counter() - started
        con.execute("DROP TABLE IF EXISTS catalog.query_shapes")  # a cold cache
        cold = refresh_with(con, home, manifest)
        warm = refresh_with(con, home, manifest)
        per_entry = _entries_parsed_per_second(con, sample=1000)
    finally:
        con.close()
    return {
        "entries": float(cold.log_entries),
        "shapes": float(shapes),
        "generate_seconds": generated,
        "cold_seconds": cold.seconds,
        "cold_usage_seconds": cold.timings["usage"],
        "cold_findings_seconds": cold.timings["findings"],
        "cold_shapes_parsed": float(cold.shapes_parsed),
        "warm_seconds": warm.seconds,
        "warm_usage_seconds": warm.timings["usage"],
        "warm_shapes_parsed": float(warm.shapes_parsed),
        "shapes_per_second_cold": cold.shapes_parsed / cold.timings["usage"] if cold.timings["usage"] else 0.0,
        # the log's entries per second of usage step: one parse per shape (cold) or none (warm) …
        "entries_per_second_cold": cold.log_entries / cold.timings["usage"],
        "entries_per_second_warm": warm.log_entries / warm.timings["usage"],
        # … against parsing every entry (no fingerprint dedup), measured on a sample
        "entries_per_second_without_dedup": per_entry,
        **{f"cold_{k}_step_seconds": v for k, v in cold.timings.items()},
    }
