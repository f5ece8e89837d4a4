"""Landing the gateway's query log: every line once, in bulk, even when a file is replaced."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from pipelines.home import Home
from pipelines.load_query_log import QUERY_LOG_DIR, load_query_log


def _line(i: int) -> str:
    return json.dumps(
        {
            "query_id": f"q{i}",
            "logged_at": "2026-11-01T10:00:00+00:00",
            "principal": "exec-dashboard",
            "sql": f"select {i}",
            "decision": "allowed",
            "relations": ["order_to_cash"],
            "rows": i,
        }
    )


def _write(home: Home, lines: list[str]) -> None:
    folder = home.root / QUERY_LOG_DIR
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "2026-11-01.jsonl").write_text("".join(line + "\n" for line in lines))


def test_load_query_log_lands_many_lines_in_bulk(tmp_path: Path) -> None:
    home = Home(tmp_path)
    _write(home, [_line(i) for i in range(20_000)])
    con = duckdb.connect(str(tmp_path / "w.duckdb"))

    result = load_query_log(con, home)

    assert (result.records, result.loaded, result.duplicates, result.quarantined) == (20_000, 20_000, 0, 0)
    assert con.execute("SELECT count(*), sum(rows), min(logged_at) FROM ops.query_log").fetchall()[0][:2] == (
        20_000,
        sum(range(20_000)),
    )


def test_load_query_log_rereads_a_replaced_file_without_loading_twice(tmp_path: Path) -> None:
    home = Home(tmp_path)
    _write(home, [_line(i) for i in range(10)])
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    load_query_log(con, home)
    _write(home, [_line(i) for i in (3, 4, 100)])  # rotated: shorter, two old lines and a new one

    result = load_query_log(con, home)

    assert (result.records, result.loaded, result.duplicates) == (3, 1, 2)
    assert con.execute("SELECT count(*) FROM ops.query_log").fetchall() == [(11,)]


def test_load_query_log_counts_a_repeat_within_one_file_as_a_duplicate(tmp_path: Path) -> None:
    home = Home(tmp_path)
    _write(home, [_line(1), _line(2), _line(1)])
    con = duckdb.connect(str(tmp_path / "w.duckdb"))

    result = load_query_log(con, home)

    assert (result.records, result.loaded, result.duplicates) == (3, 2, 1)
    assert con.execute("SELECT query_id, line_no FROM ops.query_log ORDER BY 1").fetchall() == [("q1", 1), ("q2", 2)]
