"""Observed usage: the governed query log (`ops.query_log`) turned into who read what.

The log is summarised in SQL first — one row per (query shape, principal, decision) — so a
100k-entry log costs one GROUP BY, not 100k parses. Each distinct shape (the gateway's
fingerprint: literals, comments, spacing and case normalised) is parsed once with
`catalog.sql_reads.reads` against the warehouse schema; parsed shapes are cached in
`catalog.query_shapes` with the hash of the schema they were parsed against, so a refresh only
parses fingerprints it has not seen, and everything is parsed again when the schema changes.

Principals map to consumers through access.yml (`consumer:`, inherited from `member_of` teams);
a principal acting for no consumer keeps a NULL consumer and is never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from catalog.query_log import fingerprint as fingerprint_of
from catalog.sql_reads import Reads, Schema, reads
from catalog.store import ObservedReadRow, ShapeRow

DEFAULT_WINDOW_DAYS = 30
COUNTED_AS_READ = ("allowed", "failed")  # a refused query read nothing; a failed one was authorised


@dataclass(frozen=True)
class LogGroup:
    """The log entries of one query shape by one principal with one decision."""

    fingerprint: str
    principal: str
    decision: str
    queries: int
    window_queries: int  # entries inside the observation window
    first_seen: datetime
    last_seen: datetime
    example_sql: str


@dataclass(frozen=True)
class LogSummary:
    groups: list[LogGroup]
    entries: int
    window_end: datetime | None  # the newest entry: the window ends there, not at "now"
    window_days: int = DEFAULT_WINDOW_DAYS


@dataclass(frozen=True)
class Shape:
    """What one query shape reads, in dataset names."""

    fingerprint: str
    example_sql: str
    datasets: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]
    parsed: bool
    error: str | None = None


@dataclass(frozen=True)
class Use:
    """One principal's reads of one dataset (or column) with one decision, inside the window."""

    principal: str
    consumer: str | None
    dataset: str
    column: str | None
    decision: str
    queries: int
    fingerprints: tuple[str, ...]


@dataclass
class Usage:
    observed: list[ObservedReadRow]  # every entry of the log
    uses: list[Use]  # inside the window: what findings compare with the declarations
    shapes: list[ShapeRow]
    parsed: int = 0  # shapes parsed by this refresh (the others came from the cache)
    problems: list[str] = field(default_factory=list)


_SUMMARY_SQL = """
WITH bounds AS (SELECT max(logged_at) AS window_end FROM ops.query_log)
SELECT
    fingerprint,
    principal,
    decision,
    count(*) AS queries,
    count(*) FILTER (WHERE logged_at > window_end - to_days(?)) AS window_queries,
    min(logged_at) AS first_seen,
    max(logged_at) AS last_seen,
    arg_min(sql, logged_at) AS example_sql,
    CASE WHEN fingerprint IS NULL OR fingerprint = '' THEN sql END AS unprinted
FROM ops.query_log, bounds
GROUP BY ALL
"""


def read_log(con: duckdb.DuckDBPyConnection, window_days: int = DEFAULT_WINDOW_DAYS) -> LogSummary:
    """Summarise `ops.query_log` per (fingerprint, principal, decision); empty if never landed."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'ops' AND table_name = 'query_log'"
    ).fetchone()
    if not exists or not exists[0]:
        return LogSummary([], 0, None, window_days)
    entries, window_end = con.execute("SELECT count(*), max(logged_at) FROM ops.query_log").fetchone()  # type: ignore[misc]
    groups = []
    for fp, principal, decision, queries, in_window, first, last, example, unprinted in con.execute(
        _SUMMARY_SQL, [window_days]
    ).fetchall():
        if unprinted is not None:  # an entry logged without a fingerprint: compute it now
            fp = fingerprint_of(unprinted)
        groups.append(LogGroup(fp, principal, decision, queries, in_window, first, last, example))
    return LogSummary(_merge(groups), int(entries), window_end, window_days)


def _merge(groups: list[LogGroup]) -> list[LogGroup]:
    merged: dict[tuple[str, str, str], LogGroup] = {}
    for group in groups:
        key = (group.fingerprint, group.principal, group.decision)
        known = merged.get(key)
        if known is None:
            merged[key] = group
            continue
        merged[key] = LogGroup(
            group.fingerprint,
            group.principal,
            group.decision,
            known.queries + group.queries,
            known.window_queries + group.window_queries,
            min(known.first_seen, group.first_seen),
            max(known.last_seen, group.last_seen),
            known.example_sql if known.first_seen <= group.first_seen else group.example_sql,
        )
    return sorted(merged.values(), key=lambda g: (g.fingerprint, g.principal, g.decision))


def parse_shape(
    fingerprint: str,
    sql: str,
    schema: Schema,
    by_relation: dict[str, str],
    read: Callable[[str, Schema], Reads] = reads,
) -> Shape:
    """Parse one shape; relations that are not datasets (unknown, or catalog/ops tables) are
    named in the shape's error rather than dropped quietly."""
    try:
        found = read(sql, schema)
    except Exception as exc:  # unparseable SQL is a recorded shape, not a crash
        lines = str(exc).strip().splitlines()
        return Shape(fingerprint, sql, (), (), False, f"{type(exc).__name__}: {lines[0] if lines else ''}".strip())
    datasets = sorted({by_relation[t] for t in found.tables if t in by_relation})
    columns = sorted({(by_relation[t], c) for t, c in found.columns if t in by_relation})
    strangers = sorted(t for t in found.tables if t not in by_relation)
    notes = [found.error] if found.partial and found.error else []
    if strangers:
        notes.append(f"reads relations that are not datasets: {', '.join(strangers)}")
    return Shape(fingerprint, sql, tuple(datasets), tuple(columns), not found.partial, "; ".join(notes) or None)


def cached_shape(row: ShapeRow) -> Shape:
    columns = tuple(tuple(c.rsplit(".", 1)) for c in row.columns)
    return Shape(row.fingerprint, row.example_sql, tuple(row.datasets), columns, row.parsed, row.error)  # type: ignore[arg-type]


def resolve_shapes(
    groups: Iterable[LogGroup],
    cache: Iterable[ShapeRow],
    schema: Schema,
    schema_hash: str,
    by_relation: dict[str, str],
    read: Callable[[str, Schema], Reads] = reads,
) -> tuple[dict[str, Shape], int]:
    """Every fingerprint's shape: from the cache when parsed against this schema, else parsed
    now (once per fingerprint). Returns (shapes, number parsed now)."""
    valid = {row.fingerprint: row for row in cache if row.schema_hash == schema_hash}
    shapes: dict[str, Shape] = {}
    parsed = 0
    for group in groups:
        if group.fingerprint in shapes:
            continue
        row = valid.get(group.fingerprint)
        if row is not None:
            shapes[group.fingerprint] = cached_shape(row)
        else:
            shapes[group.fingerprint] = parse_shape(group.fingerprint, group.example_sql, schema, by_relation, read)
            parsed += 1
    return shapes, parsed


def summarise(
    log: LogSummary,
    shapes: dict[str, Shape],
    consumer_of: Callable[[str], str | None],
    schema_hash: str,
) -> tuple[list[ObservedReadRow], list[Use], list[ShapeRow]]:
    """Observed reads (all of the log), window uses, and the shape rows to store."""
    consumers: dict[str, str | None] = {}
    observed: dict[tuple[str, str, str | None, str], list] = {}
    window: dict[tuple[str, str, str | None, str], list] = {}
    per_shape: dict[str, list] = {}
    for group in log.groups:
        shape = shapes[group.fingerprint]
        if group.principal not in consumers:
            consumers[group.principal] = consumer_of(group.principal)
        stats = per_shape.setdefault(group.fingerprint, [0, set()])
        stats[0] += group.queries
        stats[1].add(group.principal)
        targets = [(d, None) for d in shape.datasets] + list(shape.columns)
        for dataset, column in targets:
            key = (group.principal, dataset, column, group.decision)
            entry = observed.setdefault(key, [0, set(), group.first_seen, group.last_seen])
            entry[0] += group.queries
            entry[1].add(group.fingerprint)
            entry[2] = min(entry[2], group.first_seen)
            entry[3] = max(entry[3], group.last_seen)
            if group.window_queries:
                used = window.setdefault(key, [0, set()])
                used[0] += group.window_queries
                used[1].add(group.fingerprint)
    observed_rows = [
        ObservedReadRow(p, consumers[p], d, c, decision, n, len(fps), first, last)
        for (p, d, c, decision), (n, fps, first, last) in sorted(observed.items(), key=_key)
    ]
    uses = [
        Use(p, consumers[p], d, c, decision, n, tuple(sorted(fps)))
        for (p, d, c, decision), (n, fps) in sorted(window.items(), key=_key)
    ]
    shape_rows = [
        ShapeRow(
            fingerprint=fp,
            example_sql=shape.example_sql,
            queries=per_shape[fp][0],
            principals=tuple(sorted(per_shape[fp][1])),
            datasets=shape.datasets,
            parsed=shape.parsed,
            error=shape.error,
            columns=tuple(f"{d}.{c}" for d, c in shape.columns),
            schema_hash=schema_hash,
        )
        for fp, shape in sorted(shapes.items())
        if fp in per_shape
    ]
    return observed_rows, uses, shape_rows


def _key(item: tuple) -> tuple:
    principal, dataset, column, decision = item[0]
    return (principal, dataset, column or "", decision)


def observe(
    log: LogSummary,
    cache: Iterable[ShapeRow],
    schema: Schema,
    schema_hash: str,
    by_relation: dict[str, str],
    consumer_of: Callable[[str], str | None],
    read: Callable[[str, Schema], Reads] = reads,
) -> Usage:
    """The whole usage step: shapes (cached or parsed), observed reads, window uses."""
    shapes, parsed = resolve_shapes(log.groups, cache, schema, schema_hash, by_relation, read)
    observed, uses, shape_rows = summarise(log, shapes, consumer_of, schema_hash)
    problems = [f"query shape {s.fingerprint}: {s.error}" for s in shapes.values() if not s.parsed]
    return Usage(observed, uses, shape_rows, parsed, problems)
