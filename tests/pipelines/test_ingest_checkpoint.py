"""Row groups are merged only by runs that compact: a small run's checkpoint leaves the row
groups before it alone (pipelines.warehouse: checkpoint, should_compact)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.warehouse import COMPACT_EVERY, checkpoint, connect, prepare_ingest, should_compact

SMALL_APPENDS = 5
ROWS_PER_APPEND = 3000


def _row_groups(con: duckdb.DuckDBPyConnection, table: str) -> list[int]:
    rows = con.execute(
        f"SELECT row_group_id, max(count) FROM pragma_storage_info('{table}') WHERE column_id = 0 GROUP BY 1 ORDER BY 1"
    ).fetchall()
    return [count for _, count in rows]


def _ops_batches(con: duckdb.DuckDBPyConnection, runs: int) -> None:
    con.execute("CREATE SCHEMA ops")
    con.execute("CREATE TABLE ops.batches (batch_id VARCHAR)")
    for run in range(runs):
        con.execute(
            "INSERT INTO ops.batches VALUES (?), (?)", [f"2026110{run}T000000-00001", f"2026110{run}T000000-00002"]
        )


@pytest.fixture
def small_appends(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A table grown by small runs that did not compact: one small row group per run."""
    con = connect(str(tmp_path / "w.duckdb"))
    prepare_ingest(con)
    con.execute("CREATE TABLE t (n BIGINT, s VARCHAR)")
    for run in range(SMALL_APPENDS):
        con.execute(f"INSERT INTO t SELECT range, 'run {run}' FROM range({ROWS_PER_APPEND})")
        checkpoint(con, compact=False)
    yield con
    con.close()


def test_checkpoint_without_compaction_keeps_each_small_run_in_its_row_group(
    small_appends: duckdb.DuckDBPyConnection,
) -> None:
    result = _row_groups(small_appends, "t")

    assert result == [ROWS_PER_APPEND] * SMALL_APPENDS


def test_checkpoint_with_compaction_merges_small_row_groups(small_appends: duckdb.DuckDBPyConnection) -> None:
    small_appends.execute("INSERT INTO t VALUES (-1, 'bulk')")

    checkpoint(small_appends, compact=True)

    assert _row_groups(small_appends, "t") == [ROWS_PER_APPEND * SMALL_APPENDS + 1]


def test_should_compact_a_run_landing_a_tenth_of_what_is_there() -> None:
    con = duckdb.connect()
    _ops_batches(con, runs=1)

    result = (should_compact(con, 100, 1000), should_compact(con, 99, 1000))

    assert result == (True, False)


def test_should_compact_a_first_run() -> None:
    con = duckdb.connect()
    _ops_batches(con, runs=0)

    assert should_compact(con, 0, 0) is True


def test_should_compact_every_sixteenth_small_run() -> None:
    due, not_due = duckdb.connect(), duckdb.connect()
    _ops_batches(due, runs=COMPACT_EVERY - 1)
    _ops_batches(not_due, runs=COMPACT_EVERY - 2)

    result = (should_compact(due, 1, 1000), should_compact(not_due, 1, 1000))

    assert result == (True, False)
