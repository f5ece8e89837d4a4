"""Guarantee 3, atomic: a batch and its bookkeeping commit together; a crash at any instant
leaves the warehouse as if the batch never started, and a rerun completes it (DESIGN.md)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines import load_events
from pipelines.home import Home
from pipelines.ingest import ingest
from pipelines.simulator import SimulationConfig
from tests.conftest import AGORA, REPO, make_home, raw_tables, simulate_into, warehouse_state

# Big enough that one uninterrupted `agora ingest` takes about two seconds here (measured:
# 166 files, 216k records, 2.0 s), so kills can land in start-up, in SQL and in commits.
BIG = SimulationConfig(days=20, scale=6, seed=23, start=date(2026, 10, 1), dirt=3.0)
KILLS = 24
# On a loaded machine a run can finish before its kill however it is timed; a few may miss
MIN_MID_RUN_KILLS = 20
MAX_ATTEMPTS = 3 * KILLS
KILL_SEED = 20261001

OPS_TOTALS = (
    "SELECT kind, domain, count(*), sum(records), sum(loaded), sum(duplicates), sum(quarantined) "
    "FROM ops.files GROUP BY ALL ORDER BY ALL"
)


def _ingest_command(home: Home) -> list[str]:
    return [*AGORA, "--home", str(home.root), "ingest"]


def _query(database: str, sql: str) -> list[tuple]:
    con = duckdb.connect(database, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _remove_warehouse(home: Home) -> None:
    for suffix in ("", ".wal"):
        Path(home.warehouse + suffix).unlink(missing_ok=True)


def _comparable(state: dict[str, object]) -> dict[str, object]:
    """warehouse_state with ops.schema_changes as a sorted list: conftest aggregates it with
    `list(DISTINCT … ORDER BY 1)`, which orders by the constant 1, so its order is arbitrary."""
    changes = state["ops.schema_changes"]
    return {**state, "ops.schema_changes": sorted(changes[0] or [])}  # type: ignore[index]


def _committed_batches(database: str) -> int:
    """ops.batches rows; 0 for a database whose bootstrap never committed (killed right after
    DuckDB created the file, which leaves it without any schema: as if the run never started)."""
    exists = "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'ops' AND table_name = 'batches'"
    if _query(database, exists) == [(0,)]:
        return 0
    return _query(database, "SELECT count(*) FROM ops.batches")[0][0]


def inconsistencies(database: str) -> list[str]:
    """Every way the warehouse disagrees with its own bookkeeping (empty when consistent)."""
    con = duckdb.connect(database, read_only=True)
    try:
        if con.execute("SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'ops'").fetchone() == (0,):
            tables = con.execute("SELECT count(*) FROM duckdb_tables()").fetchone()
            return [] if tables == (0,) else [f"{tables[0]} tables but no ops schema: bootstrap half committed"]
        landed = " UNION ALL ".join(
            f'SELECT _file_id AS file_id, _batch_id AS batch_id FROM {schema}."{table}"'
            for schema, table in raw_tables(con)
        )
        quarantined = " UNION ALL ".join(
            f"SELECT file_id, batch_id FROM quarantine.{table}" for table in ("events", "extract_rows")
        )
        checks = {
            "unbalanced files": "SELECT path FROM ops.files WHERE records <> loaded + duplicates + quarantined",
            "files landed twice": "SELECT file_id FROM ops.files GROUP BY ALL HAVING count(*) > 1",
            "files whose loaded count differs from their raw rows": f"""
                SELECT f.path, f.loaded, coalesce(l.n, 0) FROM ops.files f
                LEFT JOIN (SELECT file_id, batch_id, count(*) AS n FROM ({landed}) GROUP BY ALL) l
                USING (file_id, batch_id) WHERE f.loaded <> coalesce(l.n, 0)""",
            "files whose quarantined count differs from their quarantine rows": f"""
                SELECT f.path, f.quarantined, coalesce(q.n, 0) FROM ops.files f
                LEFT JOIN (SELECT file_id, batch_id, count(*) AS n FROM ({quarantined}) GROUP BY ALL) q
                USING (file_id, batch_id) WHERE f.quarantined <> coalesce(q.n, 0)""",
            "rows of a batch without an ops.batches row (partial batch)": f"""
                SELECT batch_id, count(*) FROM ({landed} UNION ALL {quarantined})
                WHERE batch_id NOT IN (SELECT batch_id FROM ops.batches) GROUP BY ALL""",
            "rows without their file's ops.files row": f"""
                SELECT file_id, batch_id, count(*) FROM ({landed} UNION ALL {quarantined}) r
                WHERE NOT EXISTS (SELECT 1 FROM ops.files f WHERE f.file_id = r.file_id AND f.batch_id = r.batch_id)
                GROUP BY ALL""",
            "ops.files rows without their batch": (
                "SELECT path FROM ops.files WHERE batch_id NOT IN (SELECT batch_id FROM ops.batches)"
            ),
            "batches whose totals differ from their files": """
                SELECT b.batch_id FROM ops.batches b LEFT JOIN (
                    SELECT batch_id, count(*) AS files, sum(records) AS records, sum(loaded) AS loaded,
                           sum(duplicates) AS duplicates, sum(quarantined) AS quarantined
                    FROM ops.files GROUP BY ALL
                ) f USING (batch_id)
                WHERE (b.files, b.records, b.loaded, b.duplicates, b.quarantined)
                      IS DISTINCT FROM (f.files, f.records, f.loaded, f.duplicates, f.quarantined)""",
            "paths recorded for files that did not land": (
                "SELECT path FROM ops.paths WHERE file_id NOT IN (SELECT file_id FROM ops.files)"
            ),
        }
        for schema, table in raw_tables(con):
            if table == "events":
                checks[f"events landed twice in {schema}.events"] = (
                    f"SELECT source, id FROM {schema}.events GROUP BY ALL HAVING count(*) > 1"
                )
        problems = []
        for label, sql in checks.items():
            rows = con.execute(sql).fetchall()
            if rows:
                problems.append(f"{label}: {rows[:5]}{' …' if len(rows) > 5 else ''} ({len(rows)} in all)")
        return problems
    finally:
        con.close()


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Home:
    home = make_home(tmp_path_factory.mktemp("big") / "home")
    simulate_into(home, BIG)
    return home


@pytest.mark.slow
@pytest.mark.integration
def test_ingest_survives_sigkill_at_any_instant(big: Home, tmp_path: Path) -> None:
    reference = make_home(tmp_path / "reference")
    shutil.copytree(big.landing, reference.landing)
    started = time.perf_counter()
    finished = subprocess.run(_ingest_command(reference), cwd=REPO, capture_output=True, text=True, timeout=300)
    duration = time.perf_counter() - started
    assert finished.returncode == 0, finished.stderr
    expected = _comparable(warehouse_state(reference))
    expected_totals = _query(reference.warehouse, OPS_TOTALS)
    expected_batches = _query(reference.warehouse, "SELECT count(*) FROM ops.batches")[0][0]

    home = make_home(tmp_path / "killed")
    shutil.copytree(big.landing, home.landing)
    rng = random.Random(KILL_SEED)
    # Each kill instant is a fraction of a run, one per equal slice, so start-up, SQL and commits
    # all get hit. The machine may be slower or faster than when `duration` was measured, and a
    # rerun after a kill has less left to do: a run that finishes before its kill is retried at
    # the same fraction of the time that run took, an earlier instant.
    fractions = [rng.uniform(i / KILLS, (i + 1) / KILLS) for i in range(KILLS)]
    rng.shuffle(fractions)
    queue = [(fraction, duration) for fraction in fractions]
    mid_run = before_first_commit = partial = finished_first = completed_cycles = kills_in_cycle = attempt = 0

    def summary() -> str:
        return (
            f"{mid_run} kills landed mid-run in {attempt} attempts ({before_first_commit} before the first batch "
            f"committed, {partial} with some but not all of {expected_batches} batches committed); "
            f"{finished_first} runs finished before their kill; {completed_cycles} warehouses completed after kills "
            f"(uninterrupted run: {duration:.2f} s)"
        )

    while queue and attempt < MAX_ATTEMPTS:
        fraction, run_seconds = queue.pop(0)
        delay = fraction * run_seconds
        attempt += 1
        stderr_path = tmp_path / f"attempt{attempt}.stderr"
        with stderr_path.open("wb") as stderr:
            started = time.perf_counter()
            proc = subprocess.Popen(_ingest_command(home), cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr)
            try:
                code = proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                code = proc.wait(timeout=60)
            took = time.perf_counter() - started
        killed = code == -signal.SIGKILL  # not a run that exited just before the signal
        if killed:
            mid_run += 1
            kills_in_cycle += 1
        else:
            finished_first += 1
            queue.append((fraction, took))
            assert code == 0, f"attempt {attempt}: ingest failed on its own: {stderr_path.read_text()}; {summary()}"
        if not os.path.exists(home.warehouse):
            before_first_commit += killed
            continue
        problems = inconsistencies(home.warehouse)
        assert problems == [], f"attempt {attempt}, killed after {delay:.3f} s: {problems}; {summary()}"
        # a kill between creating the file and committing the bootstrap leaves an empty database
        batches = _committed_batches(home.warehouse)
        if killed and batches == 0:
            before_first_commit += 1
        elif killed and batches < expected_batches:
            partial += 1
        if batches == expected_batches:
            # a run completed what earlier kills left: check it, then start over so later kills land mid-run
            result = _comparable(warehouse_state(home))
            assert result == expected, f"attempt {attempt}: completed warehouse differs from the reference; {summary()}"
            completed_cycles += int(kills_in_cycle > 0)
            kills_in_cycle = 0
            _remove_warehouse(home)

    finished = subprocess.run(_ingest_command(home), cwd=REPO, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, f"{finished.stderr}; {summary()}"
    assert inconsistencies(home.warehouse) == [], summary()
    assert _comparable(warehouse_state(home)) == expected, summary()
    assert _query(home.warehouse, OPS_TOTALS) == expected_totals, summary()
    # a kill test whose kills miss the run cannot fail
    assert mid_run >= MIN_MID_RUN_KILLS, summary()
    assert partial >= KILLS // 4, summary()


class _Crash(RuntimeError):
    pass


def _crash_every_batch(con: duckdb.DuckDBPyConnection, domain: str) -> None:
    raise _Crash(f"simulated crash at the end of the {domain} batch")


def test_ingest_failed_batch_leaves_no_trace(
    simulated: tuple[Home, dict], copy_of, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = copy_of(simulated[0])
    reconcile = load_events._assert_reconciled

    def crash_for_sales(con: duckdb.DuckDBPyConnection, domain: str) -> None:
        reconcile(con, domain)
        if domain == "sales":
            raise _Crash("simulated crash at the end of the sales batch")

    monkeypatch.setattr(load_events, "_assert_reconciled", crash_for_sales)
    with pytest.raises(_Crash):
        ingest(home)

    result = _query(
        home.warehouse,
        """
        SELECT (SELECT count(*) FROM raw_sales.events),
               (SELECT count(*) FROM quarantine.events WHERE domain = 'sales'),
               (SELECT count(*) FROM ops.files WHERE domain = 'sales' AND kind = 'events'),
               (SELECT count(*) FROM ops.paths WHERE path LIKE 'sales/events/%'),
               (SELECT count(*) FROM ops.batches WHERE domain = 'sales' AND kind = 'events')
        """,
    )
    assert result == [(0, 0, 0, 0, 0)]


def test_ingest_failed_batch_leaves_other_batches_consistent(
    simulated: tuple[Home, dict], copy_of, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = copy_of(simulated[0])
    reconcile = load_events._assert_reconciled

    def crash_for_sales(con: duckdb.DuckDBPyConnection, domain: str) -> None:
        reconcile(con, domain)
        if domain == "sales":
            raise _Crash("simulated crash at the end of the sales batch")

    monkeypatch.setattr(load_events, "_assert_reconciled", crash_for_sales)
    with pytest.raises(_Crash):
        ingest(home)

    assert inconsistencies(home.warehouse) == []


def test_ingest_rerun_completes_a_failed_batch(
    simulated: tuple[Home, dict], landed: tuple[Home, dict], copy_of, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = copy_of(simulated[0])
    with monkeypatch.context() as patch:
        patch.setattr(load_events, "_assert_reconciled", _crash_every_batch)
        with pytest.raises(_Crash):
            ingest(home)

    ingest(home)

    assert _comparable(warehouse_state(home)) == _comparable(warehouse_state(landed[0]))
    assert _query(home.warehouse, OPS_TOTALS) == _query(landed[0].warehouse, OPS_TOTALS)


def test_ingest_failed_batch_leaves_no_path_of_a_same_bytes_copy(
    simulated: tuple[Home, dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the copy is read while the batch holding the original is still open: its "same bytes already
    # landed" record must not outlive that batch
    home = make_home(tmp_path / "home")
    original = sorted((simulated[0].landing / "sales" / "events").iterdir())[0]
    (home.landing / "sales" / "events").mkdir(parents=True)
    shutil.copy(original, home.landing / "sales" / "events" / f"a-{original.name}")
    shutil.copy(original, home.landing / "sales" / "events" / f"b-{original.name}")
    monkeypatch.setattr(load_events, "_assert_reconciled", _crash_every_batch)
    with pytest.raises(_Crash):
        ingest(home)

    result = inconsistencies(home.warehouse)

    assert result == [], (
        "Ingestor._record_replay commits the copy's ops.paths row in its own transaction before the batch "
        "holding the original commits; when that batch fails, the copy stays recorded as already landed"
    )


def test_ingest_completes_a_warehouse_killed_before_its_bootstrap_committed(
    simulated: tuple[Home, dict], landed: tuple[Home, dict], copy_of
) -> None:
    """SIGKILL right after DuckDB created the file leaves a database with no schema at all."""
    home = copy_of(simulated[0])
    duckdb.connect(home.warehouse).close()
    assert _committed_batches(home.warehouse) == 0
    ingest(home)
    assert _comparable(warehouse_state(home)) == _comparable(warehouse_state(landed[0]))
