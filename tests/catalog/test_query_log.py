"""The query log: every request appended, safe under concurrent processes, landed by the next ingest."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import duckdb
import pytest

from catalog.gateway import QueryRefused, Session
from catalog.query_log import fingerprint
from pipelines.home import Home
from pipelines.ingest import ingest
from pipelines.load_query_log import QUERY_LOG_DIR

PER_PROCESS = 20
PROCESSES = 6


def _copy(served: Home, tmp_path: Path) -> Home:
    """The served home without its query log (the demo's own queries): each test starts empty."""
    shutil.copytree(served.root, tmp_path / "home", ignore=shutil.ignore_patterns(QUERY_LOG_DIR, "dagster"))
    home = Home(tmp_path / "home")
    con = duckdb.connect(home.warehouse)
    try:
        for table in ("ops.query_log", "ops.query_log_files", "quarantine.query_log"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
    finally:
        con.close()
    return home


def _records(home: Home) -> list[dict]:
    return [
        json.loads(line)
        for path in sorted((home.root / QUERY_LOG_DIR).glob("*.jsonl"))
        for line in path.read_text().splitlines()
    ]


def _work(root: str, worker: int) -> int:
    session = Session("support-agent-bot", Home(Path(root)))
    for i in range(PER_PROCESS):
        try:
            if i % 2:
                session.query(f"SELECT count(*) FROM public.support_tickets WHERE priority <> '{worker}-{i}'")
            else:
                session.query("SELECT * FROM marts.order_to_cash")
        except QueryRefused:
            pass
    return worker


def test_allowed_and_refused_requests_are_logged(served: Home, tmp_path: Path) -> None:
    home = _copy(served, tmp_path)
    session = Session("support-agent-bot", home)
    session.query("SELECT priority, count(*) FROM public.support_tickets WHERE channel = 'email' GROUP BY priority")
    with pytest.raises(QueryRefused):
        session.query("SELECT * FROM marts.order_to_cash")
    allowed, refused = _records(home)
    assert allowed["decision"] == "allowed" and allowed["rows"] is not None
    assert allowed["relations"] == ["support_tickets"]
    assert allowed["columns"] == ["support_tickets.channel", "support_tickets.priority"]  # WHERE-only column too
    assert refused["decision"] == "refused" and refused["reason"] == "unauthorized"
    assert refused["relations"] == ["marts.order_to_cash"]
    assert {"logged_at", "principal", "sql", "fingerprint", "duration_ms"} <= set(allowed)


def test_join_columns_are_logged(served: Home, tmp_path: Path) -> None:
    home = _copy(served, tmp_path)
    Session("support-agent-bot", home).query(
        "SELECT count(*) FROM public.support_tickets t JOIN marts.customer_360 c ON c.customer_id = t.customer_id"
    )
    (record,) = _records(home)
    assert record["columns"] == ["customer_360.customer_id", "support_tickets.customer_id"]


def test_fingerprint_ignores_literals_case_and_spacing() -> None:
    assert fingerprint("select * from t where a = 1") == fingerprint("SELECT *\n FROM t WHERE a = 42")
    assert fingerprint("select a from t") != fingerprint("select b from t")


@pytest.mark.slow
def test_parallel_processes_lose_and_tear_no_line(served: Home, tmp_path: Path) -> None:
    home = _copy(served, tmp_path)
    with ProcessPoolExecutor(PROCESSES, mp_context=get_context("spawn")) as pool:
        list(pool.map(_work, [str(home.root)] * PROCESSES, range(PROCESSES)))
    records = _records(home)  # json.loads of every line: a torn line would fail here
    assert len(records) == PROCESSES * PER_PROCESS
    assert len({r["query_id"] for r in records}) == len(records)
    assert sum(r["decision"] == "refused" for r in records) == PROCESSES * PER_PROCESS // 2


def test_next_landing_loads_the_log_once(served: Home, tmp_path: Path) -> None:
    home = _copy(served, tmp_path)
    session = Session("support-agent-bot", home)
    session.query("SELECT count(*) FROM public.support_tickets")
    with pytest.raises(QueryRefused):
        session.query("SELECT * FROM marts.order_to_cash")
    log_file = next((home.root / QUERY_LOG_DIR).glob("*.jsonl"))
    with log_file.open("a") as handle:
        handle.write("not json\n")
        handle.write('{"query_id": "half-written')  # a line still being written waits for the next landing
    ingest(home)
    ingest(home)
    con = duckdb.connect(home.warehouse, read_only=True)
    try:
        loaded = con.execute("SELECT decision, principal FROM ops.query_log ORDER BY line_no").fetchall()
        accounting = con.execute(
            "SELECT sum(records), sum(loaded), sum(duplicates), sum(quarantined) FROM ops.query_log_files"
        ).fetchone()
        quarantined = con.execute("SELECT reason FROM quarantine.query_log").fetchall()
    finally:
        con.close()
    assert loaded == [("allowed", "support-agent-bot"), ("refused", "support-agent-bot")]
    assert accounting == (3, 2, 0, 1)
    assert quarantined == [("invalid_json",)]
