"""Land the gateway's query log (`<home>/query_log/*.jsonl`) into `ops.query_log`.

The files only grow, so each load reads from where the last one stopped (`ops.query_log_files`
keeps the byte offset per file) up to the last complete line; a line still being written waits
for the next landing. Every line read is exactly one of loaded, duplicate (its query_id is
already there) or quarantined (not a valid record, with a reason) — guarantee 1 — and a file's
segment commits together with its accounting (guarantee 3). Loading twice changes nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines.home import Home
from pipelines.warehouse import transaction

log = logging.getLogger(__name__)

QUERY_LOG_DIR = "query_log"
REQUIRED = ("query_id", "logged_at", "principal", "sql", "decision")

QUERY_LOG_DDL = """
CREATE SCHEMA IF NOT EXISTS ops;
CREATE SCHEMA IF NOT EXISTS quarantine;
CREATE TABLE IF NOT EXISTS ops.query_log (
    query_id VARCHAR NOT NULL, logged_at TIMESTAMPTZ NOT NULL, principal VARCHAR NOT NULL,
    source VARCHAR, sql VARCHAR NOT NULL, fingerprint VARCHAR, relations VARCHAR[], columns VARCHAR[],
    masked VARCHAR[], decision VARCHAR NOT NULL, reason VARCHAR, message VARCHAR, rows BIGINT,
    duration_ms DOUBLE, path VARCHAR NOT NULL, line_no BIGINT NOT NULL, landed_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS ops.query_log_files (
    path VARCHAR NOT NULL, start_offset BIGINT NOT NULL, end_offset BIGINT NOT NULL,
    first_line BIGINT NOT NULL, records BIGINT NOT NULL, loaded BIGINT NOT NULL,
    duplicates BIGINT NOT NULL, quarantined BIGINT NOT NULL, landed_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine.query_log (
    path VARCHAR NOT NULL, line_no BIGINT NOT NULL, raw VARCHAR NOT NULL, reason VARCHAR NOT NULL,
    landed_at TIMESTAMPTZ NOT NULL
);
"""


@dataclass
class QueryLogLoad:
    records: int = 0
    loaded: int = 0
    duplicates: int = 0
    quarantined: int = 0
    files: list[str] = field(default_factory=list)


def _record(raw: str) -> tuple[dict | None, str]:
    try:
        record = json.loads(raw)
    except ValueError:
        return None, "invalid_json"
    if not isinstance(record, dict):
        return None, "not_an_object"
    missing = [k for k in REQUIRED if not record.get(k)]
    return (None, "missing_required:" + ",".join(missing)) if missing else (record, "")


def _load_file(con: duckdb.DuckDBPyConnection, path: Path, rel: str, result: QueryLogLoad) -> None:
    start, first_line = con.execute(
        "SELECT coalesce(max(end_offset), 0), coalesce(max(first_line + records), 1) "
        "FROM ops.query_log_files WHERE path = ?",
        [rel],
    ).fetchone()  # type: ignore[misc]
    if path.stat().st_size < start:  # the file was replaced (rotated, restored): read it again whole;
        log.warning("query log %s is shorter than what was landed from it; reading it again", rel)
        start, first_line = 0, 1  # lines already landed come back as duplicates (same query_id)
    with path.open("rb") as handle:
        handle.seek(start)
        data = handle.read()
    end = data.rfind(b"\n") + 1  # complete lines only
    if end == 0:
        return
    lines = data[:end].decode("utf-8", errors="replace").split("\n")[:-1]
    rows, bad = [], []
    for offset, raw in enumerate(lines):
        line_no = first_line + offset
        record, reason = _record(raw)
        if record is None:
            bad.append((rel, line_no, raw, reason))
        else:
            rows.append(
                (
                    record["query_id"],
                    record["logged_at"],
                    record["principal"],
                    record.get("source"),
                    record["sql"],
                    record.get("fingerprint"),
                    record.get("relations") or [],
                    record.get("columns") or [],
                    record.get("masked") or [],
                    record["decision"],
                    record.get("reason"),
                    record.get("message"),
                    record.get("rows"),
                    record.get("duration_ms"),
                    rel,
                    line_no,
                )
            )
    with transaction(con):
        loaded = _insert_new_records(con, rows) if rows else 0
        duplicates = len(rows) - loaded
        if bad:
            con.executemany("INSERT INTO quarantine.query_log VALUES (?, ?, ?, ?, now())", bad)
        con.execute(
            "INSERT INTO ops.query_log_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, now())",
            [rel, start, start + end, first_line, len(lines), loaded, duplicates, len(bad)],
        )
    result.records += len(lines)
    result.loaded += loaded
    result.duplicates += duplicates
    result.quarantined += len(bad)
    result.files.append(rel)


_COLUMNS = (
    ("query_id", pa.string()),
    ("logged_at", pa.string()),
    ("principal", pa.string()),
    ("source", pa.string()),
    ("sql", pa.string()),
    ("fingerprint", pa.string()),
    ("relations", pa.list_(pa.string())),
    ("columns", pa.list_(pa.string())),
    ("masked", pa.list_(pa.string())),
    ("decision", pa.string()),
    ("reason", pa.string()),
    ("message", pa.string()),
    ("rows", pa.int64()),
    ("duration_ms", pa.float64()),
    ("path", pa.string()),
    ("line_no", pa.int64()),
)


def _insert_new_records(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> int:
    """Insert the records whose query_id is not landed yet (the first of repeats within the
    batch), in one columnar statement; returns how many. Row-by-row inserts took minutes for
    100k lines, and a Python set of every landed id grew with the log."""
    table = pa.table({name: pa.array([row[i] for row in rows], type=kind) for i, (name, kind) in enumerate(_COLUMNS)})
    con.register("_query_log_in", table)
    try:
        select = ", ".join(f"{name}::TIMESTAMPTZ" if name == "logged_at" else name for name, _ in _COLUMNS)
        inserted = con.execute(
            f"INSERT INTO ops.query_log SELECT {select}, now() FROM _query_log_in AS new "
            "WHERE NOT EXISTS (SELECT 1 FROM ops.query_log AS old WHERE old.query_id = new.query_id) "
            "QUALIFY row_number() OVER (PARTITION BY query_id ORDER BY line_no) = 1"
        ).fetchall()
        return int(inserted[0][0])
    finally:
        con.unregister("_query_log_in")


def load_query_log(con: duckdb.DuckDBPyConnection, home: Home) -> QueryLogLoad:
    """Land what is new in the home's query log; a no-op when there is none."""
    result = QueryLogLoad()
    folder = home.root / QUERY_LOG_DIR
    con.execute(QUERY_LOG_DDL)
    if not folder.is_dir():
        return result
    for path in sorted(folder.glob("*.jsonl")):
        _load_file(con, path, f"{QUERY_LOG_DIR}/{path.name}", result)
    if result.records:
        log.info(
            "query log: %d read, %d loaded, %d duplicate, %d quarantined",
            result.records,
            result.loaded,
            result.duplicates,
            result.quarantined,
        )
    return result
