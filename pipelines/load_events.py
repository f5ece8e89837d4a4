"""Land a batch of one domain's event files in one transaction (DESIGN.md, guarantees 1–3).

Every line becomes exactly one of: loaded into raw_<domain>.events, a duplicate of an event
already there or earlier in the batch (same source and id), or a row of quarantine.events with
a reason. The per-file counts are written to ops.files in the same transaction, after SQL has
checked that they reconcile with the rows actually written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np
import pyarrow as pa

from pipelines import arrow
from pipelines.checks import event_classifier_sql
from pipelines.contracts import Contracts
from pipelines.landing import LandedFile
from pipelines.lines import SplitLines
from pipelines.results import FileResult
from pipelines.warehouse import raw_schema, record_batch, transaction


@dataclass
class PreparedEventFile:
    """An events file read and split, waiting for its batch."""

    file: LandedFile
    sha256: str
    bytes: int
    mtime_ns: int
    lines: SplitLines


def _lines_table(prepared: list[PreparedEventFile]) -> pa.Table:
    parts = [
        pa.table(
            {
                "file_ord": arrow.ints(np.full(len(p.lines.line_no), ord_, np.int32), np.int32),
                "line_no": arrow.ints(p.lines.line_no),
                "txt": p.lines.text,
            }
        )
        for ord_, p in enumerate(prepared)
    ]
    return pa.concat_tables(parts)


def _invalid_table(prepared: list[PreparedEventFile]) -> pa.Table:
    rows = [(ord_, line_no, raw) for ord_, p in enumerate(prepared) for line_no, raw in p.lines.invalid]
    return pa.table(
        {
            "file_ord": arrow.ints([r[0] for r in rows], np.int32),
            "line_no": arrow.ints([r[1] for r in rows]),
            "raw_bytes": arrow.binaries([r[2] for r in rows]),
            "raw": arrow.strings([r[2].decode("utf-8", errors="backslashreplace") for r in rows]),
        }
    )


def _files_table(prepared: list[PreparedEventFile]) -> pa.Table:
    return pa.table(
        {
            "file_ord": arrow.ints(range(len(prepared)), np.int32),
            "sha": arrow.strings([p.sha256 for p in prepared]),
            "path": arrow.strings([p.file.rel for p in prepared]),
            "bytes": arrow.ints([p.bytes for p in prepared]),
            "mtime_ns": arrow.ints([p.mtime_ns for p in prepared]),
        }
    )


def load_event_batch(
    con: duckdb.DuckDBPyConnection,
    domain: str,
    prepared: list[PreparedEventFile],
    contracts: Contracts,
    batch_id: str,
    started_at: datetime,
) -> list[FileResult]:
    """Land `prepared` (files of one domain) atomically and return one result per file."""
    events = f"{raw_schema(domain)}.events"
    con.register("_lines", _lines_table(prepared))
    con.register("_invalid", _invalid_table(prepared))
    con.register("_files_in", _files_table(prepared))
    classifier = event_classifier_sql(contracts.event_types(domain), lines="_lines")
    with transaction(con):
        con.execute("SET VARIABLE batch_id = ?", [batch_id])
        con.execute("CREATE OR REPLACE TEMP TABLE _files AS SELECT * FROM _files_in")
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _stage AS "
            "SELECT * EXCLUDE (txt), CASE WHEN verdict IS NOT NULL THEN rtrim(txt, chr(13) || chr(10)) END AS txt "
            f"FROM ({classifier})"
        )
        con.execute(
            f"""
            INSERT INTO quarantine.events
            SELECT {domain!r}, f.sha, f.path, s.line_no, s.txt, NULL,
                   split_part(s.verdict, ':', 1),
                   CASE WHEN strpos(s.verdict, ':') > 0 THEN substr(s.verdict, strpos(s.verdict, ':') + 1) END,
                   getvariable('batch_id')
            FROM _stage s JOIN _files f USING (file_ord)
            WHERE s.verdict IS NOT NULL
            UNION ALL
            SELECT {domain!r}, f.sha, f.path, i.line_no, i.raw, i.raw_bytes, 'invalid_utf8', NULL,
                   getvariable('batch_id')
            FROM _invalid i JOIN _files f USING (file_ord)
            """
        )
        # Rows not to load: later copies of an event inside this batch (first seen wins: file order,
        # then line) and events already in the table. Only keys seen twice need ordering: one
        # aggregate over 64-bit hashes finds them (a collision only adds a key to order; the window
        # still partitions by the key itself), so the window sorts a few rows, not the whole batch
        # (measured on 800k lines: 0.15 s vs 0.32 s). Events already there are found by an inner
        # join, which hashes the batch and streams the table past it; NOT EXISTS would hash the
        # table, a cost growing with every batch landed (670k lines against 4M events: 0.23 s vs 0.46 s).
        already_there = (
            ""
            if _is_empty(con, events)
            else f"""
            UNION ALL
            SELECT s.file_ord, s.line_no FROM _stage s JOIN {events} r ON r.source = s.source AND r.id = s.id
            WHERE s.verdict IS NULL"""
        )
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _skip AS
            SELECT file_ord, line_no FROM _stage
            WHERE verdict IS NULL AND hash(source, id) IN (
                SELECT hash(source, id) FROM _stage WHERE verdict IS NULL GROUP BY ALL HAVING count(*) > 1
            )
            QUALIFY row_number() OVER (PARTITION BY source, id ORDER BY file_ord, line_no) > 1
            {already_there}
            """
        )
        con.execute(
            f"""
            INSERT INTO {events}
            SELECT s.source, s.id, s.type, s.specversion, s.time, s.subject, s.datacontenttype,
                   s.dataschema, s.data, f.sha, s.line_no, getvariable('batch_id'), now()
            FROM _stage s JOIN _files f USING (file_ord)
            WHERE s.verdict IS NULL
              AND NOT EXISTS (SELECT 1 FROM _skip c WHERE c.file_ord = s.file_ord AND c.line_no = s.line_no)
            """
        )
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _counts AS
            WITH staged AS (
                SELECT file_ord, count(*) AS records, count(*) FILTER (WHERE verdict IS NOT NULL) AS bad
                FROM _stage GROUP BY ALL
            ), invalid AS (
                SELECT file_ord, count(*) AS bad FROM _invalid GROUP BY ALL
            ), loaded AS (
                SELECT _file_id AS sha, count(*) AS loaded FROM {events}
                WHERE _batch_id = getvariable('batch_id') GROUP BY ALL
            )
            SELECT f.file_ord, f.sha, f.path, f.bytes, f.mtime_ns,
                   coalesce(s.records, 0) + coalesce(i.bad, 0) AS records,
                   coalesce(l.loaded, 0) AS loaded,
                   coalesce(s.bad, 0) + coalesce(i.bad, 0) AS quarantined
            FROM _files f
            LEFT JOIN staged s USING (file_ord)
            LEFT JOIN invalid i USING (file_ord)
            LEFT JOIN loaded l USING (sha)
            """
        )
        con.execute(
            f"""
            INSERT INTO ops.files
            SELECT sha, sha, path, {domain!r}, 'events', NULL, NULL, bytes, records, loaded,
                   records - loaded - quarantined, quarantined, 'landed', NULL,
                   getvariable('batch_id'), now()
            FROM _counts
            """
        )
        con.execute("INSERT INTO ops.paths SELECT path, sha, bytes, mtime_ns, now() FROM _counts")
        _assert_reconciled(con, domain)
        record_batch(con, batch_id, "events", domain, started_at)
        rows = con.execute(
            "SELECT file_ord, records, loaded, records - loaded - quarantined, quarantined FROM _counts ORDER BY file_ord"
        ).fetchall()
        con.execute("DROP TABLE _stage; DROP TABLE _skip; DROP TABLE _counts; DROP TABLE _files")
    for view in ("_lines", "_invalid", "_files_in"):
        con.unregister(view)
    results = []
    for file_ord, records, loaded, duplicates, quarantined in rows:
        p = prepared[file_ord]
        results.append(
            FileResult(
                rel=p.file.rel,
                domain=domain,
                kind="events",
                dataset=p.file.dataset,
                sha256=p.sha256,
                bytes=p.bytes,
                records=records,
                loaded=loaded,
                duplicates=duplicates,
                quarantined=quarantined,
            )
        )
    return results


def _is_empty(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return con.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {table})").fetchone() == (True,)


def _assert_reconciled(con: duckdb.DuckDBPyConnection, domain: str) -> None:
    """Abort the transaction unless quarantine rows match the counts about to be committed."""
    con.execute(
        f"""
        SELECT CASE WHEN c.quarantined <> coalesce(q.n, 0) OR c.loaded > c.records - c.quarantined
                    THEN error('reconciliation failed for ' || c.path) END
        FROM _counts c
        LEFT JOIN (
            SELECT file_id AS sha, count(*) AS n FROM quarantine.events
            WHERE batch_id = getvariable('batch_id') AND domain = {domain!r} GROUP BY ALL
        ) q USING (sha)
        """
    ).fetchall()
