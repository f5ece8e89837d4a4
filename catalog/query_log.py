"""The governed query log: one JSON line per gateway request, allowed or refused.

Lines go to `<home>/query_log/<UTC date>.jsonl`. Each record is written with one `write()` on a
file opened with O_APPEND while holding an exclusive `flock`, so many analysts' processes can
log at once without losing or interleaving lines. The next landing loads the files into
`ops.query_log` (pipelines.load_query_log); the catalog reads observed usage from there.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

import sqlglot
from sqlglot import exp

from pipelines.errors import AgoraError
from pipelines.home import Home
from pipelines.load_query_log import QUERY_LOG_DIR


@lru_cache(maxsize=1024)  # a session repeats its queries; parsing again would cost more than the query
def fingerprint(sql: str) -> str:
    """Same query shape, same fingerprint: literals become placeholders, case and spacing normalised."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
        normal = ";".join(
            s.transform(lambda n: exp.Placeholder() if isinstance(n, exp.Literal) else n).sql(
                dialect="duckdb", normalize=True
            )
            for s in statements
        )
    except Exception:  # not SQL sqlglot reads: fingerprint the text itself
        normal = " ".join(sql.lower().split())
    return hashlib.sha256(normal.encode()).hexdigest()[:16]


@dataclass
class QueryRecord:
    query_id: str
    logged_at: str
    principal: str
    source: str
    sql: str
    fingerprint: str
    relations: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    masked: list[str] = field(default_factory=list)
    decision: str = ""  # allowed | refused | failed
    reason: str = ""
    message: str = ""
    rows: int | None = None
    duration_ms: float = 0.0
    pid: int = 0

    @classmethod
    def start(cls, principal: str, sql: str, source: str) -> QueryRecord:
        return cls(
            query_id=uuid.uuid4().hex,
            logged_at=datetime.now(UTC).isoformat(),
            principal=principal,
            source=source,
            sql=sql,
            fingerprint=fingerprint(sql),
            pid=os.getpid(),
        )

    def finish(
        self,
        decision: str,
        reason: str,
        message: str,
        started: float,
        rows: int | None = None,
        relations: tuple[str, ...] = (),
    ) -> None:
        self.decision, self.reason, self.message, self.rows = decision, reason, message, rows
        if relations and not self.relations:
            self.relations = list(relations)
        self.duration_ms = round((time.perf_counter() - started) * 1000, 3)


def append(home: Home, record: QueryRecord) -> None:
    """Append one record as one line; concurrent writers never tear or lose a line."""
    folder = home.root / QUERY_LOG_DIR
    fields = vars(record)  # flat (str, number, list of str): asdict's deep copy would cost more than the write
    line = (json.dumps(fields, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    path = folder / f"{record.logged_at[:10]}.jsonl"
    try:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except FileNotFoundError:  # the first line of a new home
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            written = 0
            while written < len(line):  # a short write is finished under the same lock
                written += os.write(fd, line[written:])
        finally:
            os.close(fd)  # closing releases the lock
    except OSError as exc:
        raise AgoraError(f"cannot write the query log {path}: {exc.strerror or exc}") from None
