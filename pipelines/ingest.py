"""`agora ingest`: land everything new in the landing zone, file by file, batch by batch.

Files are known by content hash: bytes already landed (under any name) are a no-op, and a path
whose size and mtime are unchanged is not even re-read. Event files of one domain are grouped
into batches of bounded size, each landed in one transaction; every extract snapshot is its own
transaction. A file that cannot be read is reported and skipped; the others still land.
Batches commit to the WAL and the run checkpoints once, at its end (pipelines.warehouse).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from itertools import groupby

import duckdb

from pipelines.contracts import Contracts, load_contracts
from pipelines.errors import AgoraError
from pipelines.home import REPO_ROOT, Home
from pipelines.landing import LandedFile, Rejected, discover
from pipelines.lines import UnreadableFileError, decompress, split_lines
from pipelines.load_events import PreparedEventFile, load_event_batch
from pipelines.load_extracts import Snapshot, load_snapshot, read_snapshot
from pipelines.load_query_log import load_query_log
from pipelines.results import FileResult, IngestReport
from pipelines.warehouse import (
    bootstrap,
    checkpoint,
    connect,
    file_identity,
    prepare_ingest,
    should_compact,
    transaction,
)

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
DEFAULT_BATCH_BYTES = 128 << 20
DEFAULT_MEMORY_LIMIT = "1GB"
CORES = os.cpu_count() or 1


class _BatchIds:
    def __init__(self) -> None:
        self.stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        self.n = 0
        self.lock = threading.Lock()

    def next(self) -> str:
        with self.lock:
            self.n += 1
            return f"{self.stamp}-{self.n:05d}"


def _read(file: LandedFile) -> tuple[bytes, os.stat_result]:
    try:
        stat = file.path.stat()
        return file.path.read_bytes(), stat
    except OSError as exc:
        raise UnreadableFileError(f"{file.rel}: cannot be read ({exc.strerror or exc})") from None


def _rejected(file: LandedFile | Rejected, reason: str, sha: str | None = None, size: int = 0) -> FileResult:
    domain = file.domain if isinstance(file, LandedFile) else file.rel.split("/")[0]
    dataset = file.dataset if isinstance(file, LandedFile) else "?"
    kind = file.kind if isinstance(file, LandedFile) else "?"
    return FileResult(
        rel=file.rel,
        domain=domain,
        kind=kind,
        dataset=dataset,
        sha256=sha or "",
        bytes=size,
        status="rejected",
        detail=reason,
    )


class Ingestor:
    """One ingest run against one warehouse connection."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        home: Home,
        contracts: Contracts,
        progress: Progress | None,
        batch_bytes: int,
        workers: int = 2,
    ) -> None:
        self.main = con
        self.local = threading.local()
        self.lock = threading.RLock()
        self.workers = workers
        self.home = home
        self.contracts = contracts
        self.progress = progress or (lambda label, done, total: None)
        self.batch_bytes = batch_bytes
        self.ids = _BatchIds()
        self.report = IngestReport()
        self.known_paths = {
            path: (size, mtime)
            for path, size, mtime in con.execute("SELECT path, bytes, mtime_ns FROM ops.paths").fetchall()
        }
        self.known_shas = {sha for (sha,) in con.execute("SELECT DISTINCT file_id FROM ops.files").fetchall()}
        self.content_sha: dict[str, str] = {}
        self.replays: list[tuple[LandedFile, str, os.stat_result]] = []
        self.sizes: dict[str, int] = {}  # rel path -> bytes, from the one stat per run
        # the home's last dbt build, else the project manifest `make setup` prepares
        home_manifest = home.root / "dbt" / "target" / "manifest.json"
        self.manifest = home_manifest if home_manifest.exists() else REPO_ROOT / "target" / "manifest.json"
        self.done_bytes = 0
        self.total_bytes = 0
        self.compact = True  # decided once the run knows how much is new (warehouse.should_compact)
        self.jobs_left = 0

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """This thread's connection: domains land in parallel, each on its own cursor."""
        return getattr(self.local, "con", None) or self.main

    def _in_worker(self, work: Callable[..., None], *args: object) -> None:
        self.local.con = self.main.cursor()
        try:
            work(*args)
        finally:
            # a tuning hint only: it must never hide the error that ended the job
            with self.lock, contextlib.suppress(duckdb.Error):
                self.jobs_left -= 1
                self._share_cores(self.local.con)
            self.local.con.close()
            self.local.con = None

    def _share_cores(self, con: duckdb.DuckDBPyConnection) -> None:
        """Give each job still landing its share of the cores (DuckDB's threads are per database).

        Two domains each on one core spend less on parallel merges (and leave fewer part-filled
        row groups) than both on two, and one's reading and committing still overlap the other's
        SQL; the last job left gets every core.
        """
        running = max(1, min(self.workers, self.jobs_left))
        con.execute(f"SET threads = {max(1, CORES // running)}")

    # -- what is new -------------------------------------------------------------------------
    def _unchanged(self, file: LandedFile) -> bool:
        """Same size and mtime as when it landed; remembers the size of the others (one stat)."""
        try:
            stat = file.path.stat()
        except OSError:
            self.sizes[file.rel] = 0  # the read will fail and reject it with the reason
            return False
        self.sizes[file.rel] = stat.st_size
        return self.known_paths.get(file.rel) == (stat.st_size, stat.st_mtime_ns)

    def _new_content(self, file: LandedFile) -> tuple[bytes, str, os.stat_result] | None:
        """The file's bytes and hash, or None when those bytes already landed (recorded here)."""
        payload, stat = _read(file)
        content = hashlib.sha256(payload).hexdigest()
        sha = file_identity(content, file.dataset, file.snapshot_at)
        with self.lock:
            self.content_sha[sha] = content
            replay = sha in self.known_shas
            self.known_shas.add(sha)
        if replay:
            self._record_replay(file, sha, stat)
            return None
        return payload, sha, stat

    def _record_replay(self, file: LandedFile, sha: str, stat: os.stat_result) -> None:
        """Note a copy of bytes that landed (or are landing in this run) under another name.

        Written only after every batch committed: the original may still be in an open batch,
        and a path must never point at a file that did not land.
        """
        with self.lock:
            self.replays.append((file, sha, stat))

    def _write_replays(self) -> None:
        landed = {sha for (sha,) in self.main.execute("SELECT DISTINCT file_id FROM ops.files").fetchall()}
        replays = [(f, sha, st) for f, sha, st in self.replays if sha in landed]
        if not replays:
            return
        with transaction(self.main):
            for file, sha, stat in replays:
                self.main.execute("DELETE FROM ops.paths WHERE path = ?", [file.rel])
                self.main.execute(
                    "INSERT INTO ops.paths VALUES (?, ?, ?, ?, now())", [file.rel, sha, stat.st_size, stat.st_mtime_ns]
                )
        for file, sha, stat in replays:
            self.known_paths[file.rel] = (stat.st_size, stat.st_mtime_ns)
            self.report.files.append(
                FileResult(
                    rel=file.rel,
                    domain=file.domain,
                    kind=file.kind,
                    dataset=file.dataset,
                    sha256=sha,
                    bytes=stat.st_size,
                    status="replayed",
                    detail="same bytes already landed",
                )
            )

    def _reject(self, result: FileResult) -> None:
        log.info("rejected %s", result.detail)
        with transaction(self.con):
            self.con.execute("DELETE FROM ops.rejected_files WHERE path = ?", [result.rel])
            self.con.execute(
                "INSERT INTO ops.rejected_files VALUES (?, ?, ?, now())",
                [result.rel, result.sha256 or None, result.detail],
            )
        self.report.files.append(result)

    def _advance(self, label: str, size: int) -> None:
        with self.lock:
            self.done_bytes += size
            self.progress(label, self.done_bytes, self.total_bytes)

    # -- events --------------------------------------------------------------------------------
    def _prepared_events(self, files: list[LandedFile]) -> Iterator[PreparedEventFile]:
        for file in files:
            try:
                found = self._new_content(file)
                if found is None:
                    self._advance(file.rel, self.sizes[file.rel])
                    continue
                payload, sha, stat = found
                lines = split_lines(decompress(payload, file.rel))
            except UnreadableFileError as exc:
                self._reject(_rejected(file, str(exc)))
                continue
            yield PreparedEventFile(file, sha, stat.st_size, stat.st_mtime_ns, lines)

    def land_events(self, files: list[LandedFile]) -> None:
        domain = files[0].domain
        # New files that fit in two batches land as one: a split would only add a commit, a
        # dedup pass against the first half and a part-filled row group (2M events: 4% faster)
        whole = sum(self.sizes[f.rel] for f in files) <= 2 * self.batch_bytes
        limit = 2 * self.batch_bytes if whole else self.batch_bytes
        batch: list[PreparedEventFile] = []
        size = 0
        for prepared in self._prepared_events(files):
            batch.append(prepared)
            size += prepared.lines.text.nbytes
            if size >= limit:
                self._flush_events(domain, batch)
                batch, size = [], 0
        if batch:
            self._flush_events(domain, batch)

    def _flush_events(self, domain: str, batch: list[PreparedEventFile]) -> None:
        started = datetime.now(UTC)
        results = load_event_batch(self.con, domain, batch, self.contracts, self.ids.next(), started)
        for prepared, result in zip(batch, results, strict=True):
            self.known_paths[prepared.file.rel] = (prepared.bytes, prepared.mtime_ns)
            self.report.files.append(result)
            self._advance(prepared.file.rel, prepared.bytes)

    # -- extracts ------------------------------------------------------------------------------
    def land_extract(self, file: LandedFile) -> None:
        contract = self.contracts.extract(file.domain, file.table or "")
        assert contract is not None  # discover() rejects extracts without a contract
        try:
            found = self._new_content(file)
            if found is None:
                return
            payload, sha, stat = found
            table, unreadable = read_snapshot(file, payload)
        except UnreadableFileError as exc:
            self._reject(_rejected(file, str(exc)))
            return
        snap = Snapshot(
            file,
            contract,
            sha,
            self.content_sha[sha],
            stat.st_size,
            stat.st_mtime_ns,
            table,
            unreadable,
            manifest=self.manifest,
        )
        result = load_snapshot(self.con, snap, self.ids.next(), datetime.now(UTC))
        self.known_paths[file.rel] = (stat.st_size, stat.st_mtime_ns)
        self.report.files.append(result)
        if result.status == "blocked":
            log.info("%s blocked: %s", file.rel, result.detail)

    # -- the run -------------------------------------------------------------------------------
    def run(self, domains: set[str] | None = None) -> IngestReport:
        files, rejected = discover(self.home.landing, self.contracts)
        if domains is not None:
            files = [f for f in files if f.domain in domains]
            rejected = [r for r in rejected if r.rel.split("/")[0] in domains]
        for bad in rejected:
            self._reject(_rejected(bad, f"{bad.rel}: {bad.reason}"))
        landed_bytes = sum(size for size, _ in self.known_paths.values())
        new = [f for f in files if not self._unchanged(f)]
        self.report.skipped_known = len(files) - len(new)
        self.total_bytes = sum(self.sizes[f.rel] for f in new)
        self.compact = should_compact(self.main, self.total_bytes, landed_bytes)
        # Domains are independent (own raw tables; shared ops tables only take appends), so two
        # land at once: one's single-threaded steps (reading, hashing, committing) overlap the
        # other's parallel SQL. Within a domain, files still land in path order.
        jobs: list[tuple[Callable[..., None], list[LandedFile]]] = []
        for (_, kind), group in groupby(new, key=lambda f: (f.domain, f.kind)):
            members = list(group)
            jobs.append((self.land_events if kind == "events" else self.land_extracts, members))
        jobs.sort(key=lambda job: -sum(self.sizes[f.rel] for f in job[1]))
        self.jobs_left = len(jobs)
        self._share_cores(self.main)
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            for future in [pool.submit(self._in_worker, work, members) for work, members in jobs]:
                future.result()
        self._write_replays()
        self.report.files.sort(key=lambda r: r.rel)
        return self.report

    def land_extracts(self, files: list[LandedFile]) -> None:
        for file in files:
            self.land_extract(file)
            self._advance(file.rel, self.sizes[file.rel])


def ingest(
    home: Home,
    *,
    contracts: Contracts | None = None,
    progress: Progress | None = None,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    domains: set[str] | None = None,
) -> IngestReport:
    """Land what is new under `home.landing` into `home.warehouse` (only `domains`, if given)."""
    if not home.landing.is_dir():
        raise AgoraError(f"no landing zone at {home.landing} — run `agora simulate` or drop files there first")
    started = time.perf_counter()
    contracts = contracts or load_contracts()
    home.ensure()
    con = connect(home.warehouse, memory_limit=memory_limit)
    try:
        bootstrap(con, contracts)
        prepare_ingest(con)
        ingestor = Ingestor(con, home, contracts, progress, batch_bytes)
        report = ingestor.run(domains)
        load_query_log(con, home)  # the gateway's query log lands like any other event stream
        checkpoint(con, compact=ingestor.compact)
    finally:
        con.close()
    report.seconds = time.perf_counter() - started
    return report
