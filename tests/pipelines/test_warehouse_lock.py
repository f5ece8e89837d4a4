"""Guarantee 5, one writer: while another process holds the warehouse open for writing,
`agora ingest` refuses with one clear line; once that process is gone, ingest runs (DESIGN.md)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator

import duckdb
import pytest

from pipelines.home import Home
from tests.conftest import run_agora

# Opens the warehouse read-write (creating it), says so, and keeps it open until killed.
HOLDER = "import sys, time, duckdb; con = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(300)"


class Holder:
    def __init__(self, database: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", HOLDER, database], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line == "ready\n", f"the holder process did not open {database}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        if self.proc.stdout:
            self.proc.stdout.close()


@pytest.fixture
def held_home(simulated: tuple[Home, dict], copy_of: Callable[[Home], Home]) -> Iterator[tuple[Home, Holder]]:
    home = copy_of(simulated[0])
    holder = Holder(home.warehouse)
    try:
        yield home, holder
    finally:
        holder.stop()


@pytest.mark.integration
def test_ingest_exits_non_zero_while_another_process_writes(held_home: tuple[Home, Holder]) -> None:
    home, _ = held_home

    result = run_agora(home, "ingest")

    assert result.returncode == 1, result.stderr


@pytest.mark.integration
def test_ingest_says_in_one_line_who_holds_the_warehouse(held_home: tuple[Home, Holder]) -> None:
    home, holder = held_home

    result = run_agora(home, "ingest")

    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"agora: error: the warehouse {home.warehouse} is being written by another process")
    assert f"pid {holder.proc.pid}" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.integration
def test_ingest_writes_nothing_while_refused(held_home: tuple[Home, Holder]) -> None:
    home, holder = held_home

    run_agora(home, "ingest")
    holder.stop()

    con = duckdb.connect(home.warehouse, read_only=True)
    try:
        result = con.execute("SELECT count(*) FROM duckdb_tables()").fetchone()
    finally:
        con.close()
    assert result == (0,)


@pytest.mark.integration
def test_ingest_succeeds_once_the_other_writer_exits(held_home: tuple[Home, Holder]) -> None:
    home, holder = held_home
    refused = run_agora(home, "ingest")
    holder.stop()

    result = run_agora(home, "ingest", "--json")

    assert refused.returncode == 1
    assert result.returncode == 0, result.stderr
    con = duckdb.connect(home.warehouse, read_only=True)
    try:
        files = con.execute("SELECT count(*) FROM ops.files").fetchone()
    finally:
        con.close()
    landed_files = sum(1 for p in home.landing.rglob("*") if p.is_file())
    assert files == (landed_files,)
