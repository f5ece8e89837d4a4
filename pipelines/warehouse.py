"""The warehouse connection and the tables landing owns: raw_<domain>.*, ops.*, quarantine.*.

The warehouse is named by a DuckDB database string, never assumed to be a local file, so the
same code can point at MotherDuck or DuckLake.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from pipelines.checks import SQL_TYPES, quote_ident
from pipelines.contracts import DOMAINS, Contracts, ExtractContract
from pipelines.errors import AgoraError, WarehouseBusyError

# The payload is stored with zstd, chosen for that column alone: JSON text full of repeated keys
# compresses better with it than with DuckDB's automatic choice (dict_fsst), and writing it costs
# less (2M events: warehouse 102 -> 70 MB, landing 13% faster in an A/B). Forcing zstd on every
# column made the warehouse 35% bigger; zstd on `id` too wrote 12% faster but made every later
# batch's duplicate check, which reads all ids, slower (1% delta at 10M: 0.55 -> 0.63 s).
EVENT_COLUMNS = """
    source VARCHAR NOT NULL,
    id VARCHAR NOT NULL,
    type VARCHAR NOT NULL,
    specversion VARCHAR NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    subject VARCHAR,
    datacontenttype VARCHAR,
    dataschema VARCHAR,
    data JSON USING COMPRESSION zstd,
    _file_id VARCHAR NOT NULL,
    _line_no BIGINT NOT NULL,
    _batch_id VARCHAR NOT NULL,
    _ingested_at TIMESTAMPTZ NOT NULL
"""


# A landed file's identity. For events it is the content hash: the same bytes under another name
# are the same file. For extracts the snapshot time and dataset are part of it: an unchanged
# table exported again at a later time is a new snapshot even though its bytes are identical.
def file_identity(content_sha256: str, dataset: str, snapshot_at: object | None) -> str:
    if snapshot_at is None:
        return content_sha256
    return hashlib.sha256(f"{dataset}@{snapshot_at}@{content_sha256}".encode()).hexdigest()


# Bookkeeping columns start with '_'; they say where a row came from, not what it is, and are
# left out of content checksums (a replay may land the same event from another file).
BOOKKEEPING_PREFIX = "_"

OPS_DDL = """
CREATE SCHEMA IF NOT EXISTS ops;
CREATE SCHEMA IF NOT EXISTS quarantine;
CREATE TABLE IF NOT EXISTS ops.batches (
    batch_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, domain VARCHAR NOT NULL,
    files INTEGER NOT NULL, records BIGINT NOT NULL, loaded BIGINT NOT NULL,
    duplicates BIGINT NOT NULL, quarantined BIGINT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL, committed_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS ops.files (
    file_id VARCHAR NOT NULL, content_sha256 VARCHAR NOT NULL, path VARCHAR NOT NULL, domain VARCHAR NOT NULL,
    kind VARCHAR NOT NULL, table_name VARCHAR, snapshot_at TIMESTAMPTZ, bytes BIGINT NOT NULL,
    records BIGINT NOT NULL, loaded BIGINT NOT NULL, duplicates BIGINT NOT NULL,
    quarantined BIGINT NOT NULL, status VARCHAR NOT NULL, detail VARCHAR,
    batch_id VARCHAR NOT NULL, landed_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS ops.paths (
    path VARCHAR NOT NULL, file_id VARCHAR NOT NULL, bytes BIGINT NOT NULL,
    mtime_ns BIGINT NOT NULL, first_seen_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS ops.rejected_files (
    path VARCHAR NOT NULL, file_id VARCHAR, reason VARCHAR NOT NULL, seen_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS ops.schema_changes (
    dataset VARCHAR NOT NULL, file_id VARCHAR NOT NULL, path VARCHAR NOT NULL,
    snapshot_at TIMESTAMPTZ, change VARCHAR NOT NULL, columns VARCHAR[] NOT NULL,
    detail VARCHAR NOT NULL, consumers VARCHAR[] NOT NULL, batch_id VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine.events (
    domain VARCHAR NOT NULL, file_id VARCHAR NOT NULL, path VARCHAR NOT NULL,
    line_no BIGINT NOT NULL, raw VARCHAR NOT NULL, raw_bytes BLOB,
    reason VARCHAR NOT NULL, detail VARCHAR, batch_id VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine.extract_rows (
    dataset VARCHAR NOT NULL, file_id VARCHAR NOT NULL, path VARCHAR NOT NULL,
    snapshot_at TIMESTAMPTZ, row_no BIGINT NOT NULL, raw VARCHAR NOT NULL,
    reason VARCHAR NOT NULL, detail VARCHAR, batch_id VARCHAR NOT NULL
);
CREATE OR REPLACE VIEW ops.file_reconciliation AS
SELECT
    f.path, f.domain, f.kind, f.table_name, f.status, f.records, f.loaded, f.duplicates, f.quarantined,
    f.records = f.loaded + f.duplicates + f.quarantined AS balanced,
    coalesce(q.n, 0) AS quarantine_rows,
    coalesce(q.n, 0) = f.quarantined AS quarantine_matches
FROM ops.files f
LEFT JOIN (
    SELECT file_id, count(*) AS n FROM quarantine.events GROUP BY ALL
    UNION ALL
    SELECT file_id, count(*) AS n FROM quarantine.extract_rows GROUP BY ALL
) q USING (file_id);
"""

_LOCK_HINT = re.compile(r"Conflicting lock is held in (.*?) \(PID (\d+)\)")


def connect(database: str, *, read_only: bool = False, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; a held write lock becomes a one-line WarehouseBusyError."""
    config: dict[str, str | bool | int | float | list[str]] = {}
    if memory_limit:
        config["memory_limit"] = memory_limit
    try:
        con = duckdb.connect(database, read_only=read_only, config=config)
    except duckdb.IOException as exc:
        message = str(exc)
        if "lock" in message.lower():
            match = _LOCK_HINT.search(message)
            holder = f" (held by {match.group(1)}, pid {match.group(2)})" if match else ""
            raise WarehouseBusyError(
                f"the warehouse {database} is being written by another process{holder}; "
                "only one writer at a time — wait for it to finish"
            ) from None
        raise AgoraError(f"cannot open the warehouse {database}: {message.splitlines()[0]}") from None
    con.execute("LOAD icu")  # statically linked; setting a time zone needs it loaded first
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    return con


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


# DuckDB checkpoints on its own at a commit whose WAL would exceed 100 kB (it then writes no WAL and
# blocks every other commit while it checkpoints) and whenever the WAL passes 16 MB. During a
# landing run that is nearly every batch: each checkpoint rewrites the ops tables and the tails
# of the tables written since the last one. Instead commits only append to the WAL (durable all
# the same) and the run checkpoints once, at its end.
_ONE_CHECKPOINT_PER_RUN = ("SET auto_checkpoint_skip_wal_threshold = 4294967296", "SET checkpoint_threshold = '4GB'")

# A checkpoint also compacts ("vacuums") tables: it merges neighbouring row groups that would fit
# in fewer. DuckDB never appends to a row group already on disk, so every run that lands rows
# opens new row groups at the tail of each table it touches, and the next checkpoint may merge
# them with the full ones before them: after a bulk load of 10M events, the first 1% delta
# rewrote four row groups (375k and 397k rows) of two tables, a one-off costing as much as the
# delta itself. So a small run leaves compaction to the next bulk run, or to every 16th run
# (which then merges what the small runs before it left): the cost of small row groups is paid
# in bulk, not by each delta.
COMPACT_SHARE = 0.1  # a run landing this share of what is already there compacts
COMPACT_EVERY = 16  # runs


def prepare_ingest(con: duckdb.DuckDBPyConnection) -> None:
    """Settings for a landing run: batches commit to the WAL, the run checkpoints at its end."""
    for statement in _ONE_CHECKPOINT_PER_RUN:
        con.execute(statement)


def should_compact(con: duckdb.DuckDBPyConnection, new_bytes: int, landed_bytes: int) -> bool:
    """Whether this run's checkpoint should merge small row groups (see COMPACT_SHARE)."""
    if new_bytes >= COMPACT_SHARE * landed_bytes:
        return True
    runs = con.execute("SELECT count(DISTINCT split_part(batch_id, '-', 1)) FROM ops.batches").fetchone()
    return runs is not None and (runs[0] + 1) % COMPACT_EVERY == 0


def checkpoint(con: duckdb.DuckDBPyConnection, *, compact: bool) -> None:
    """Write everything committed into the database file; merge small row groups only if `compact`."""
    con.execute("RESET threads")  # the run's last statement: all cores are free for it
    con.execute("RESET max_vacuum_tasks" if compact else "SET max_vacuum_tasks = 0")
    con.execute("CHECKPOINT")


def raw_schema(domain: str) -> str:
    return f"raw_{domain}"


def extract_table(contract: ExtractContract) -> str:
    return f"{raw_schema(contract.domain)}.{quote_ident(contract.table)}"


def _extract_ddl(contract: ExtractContract) -> str:
    columns = [f"{quote_ident(c.name)} {SQL_TYPES[c.type]}" for c in contract.columns]
    columns += [
        "_snapshot_at TIMESTAMPTZ NOT NULL",
        "_file_id VARCHAR NOT NULL",
        "_row_no BIGINT NOT NULL",
        "_batch_id VARCHAR NOT NULL",
        "_ingested_at TIMESTAMPTZ",
    ]
    return f"CREATE TABLE IF NOT EXISTS {extract_table(contract)} (\n    " + ",\n    ".join(columns) + "\n)"


def table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()
    return {name: dtype for name, dtype in rows}


def bootstrap(con: duckdb.DuckDBPyConnection, contracts: Contracts) -> None:
    """Create every landing table (idempotent); add columns a newer contract version declares."""
    with transaction(con):
        con.execute(OPS_DDL)
        for domain in DOMAINS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {raw_schema(domain)}")
            con.execute(f"CREATE TABLE IF NOT EXISTS {raw_schema(domain)}.events ({EVENT_COLUMNS})")
        for contract in contracts.extracts.values():
            con.execute(_extract_ddl(contract))
            existing = table_columns(con, raw_schema(contract.domain), contract.table)
            if "_ingested_at" not in existing:
                con.execute(f"ALTER TABLE {extract_table(contract)} ADD COLUMN _ingested_at TIMESTAMPTZ")
            for column in contract.columns:
                if column.name not in existing:
                    con.execute(
                        f"ALTER TABLE {extract_table(contract)} ADD COLUMN {quote_ident(column.name)} "
                        f"{SQL_TYPES[column.type]}"
                    )


def content_checksum(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> tuple[int, int]:
    """(rows, order-independent hash) over a table's content columns (bookkeeping excluded)."""
    columns = [c for c in table_columns(con, schema, table) if not c.startswith(BOOKKEEPING_PREFIX)]
    if not columns:
        return (0, 0)
    row = ", ".join(quote_ident(c) for c in columns)
    result = con.execute(
        f"SELECT count(*), coalesce(sum(hash({row}))::HUGEINT, 0) FROM {schema}.{quote_ident(table)}"
    ).fetchone()
    assert result is not None
    return int(result[0]), int(result[1])


def record_batch(con: duckdb.DuckDBPyConnection, batch_id: str, kind: str, domain: str, started_at: object) -> None:
    """Write the batch's ops.batches row from its ops.files rows (inside the batch transaction)."""
    con.execute(
        """
        INSERT INTO ops.batches
        SELECT ?, ?, ?, count(*), sum(records), sum(loaded), sum(duplicates), sum(quarantined), ?, now()
        FROM ops.files WHERE batch_id = ?
        """,
        [batch_id, kind, domain, started_at, batch_id],
    )
