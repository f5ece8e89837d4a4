"""Bad input never stops the other files and never shows a traceback (DESIGN.md, command line):
each unreadable or misplaced file is rejected with a reason naming it, recorded in
ops.rejected_files and listed by `agora ingest --json`, while good files in the same run land.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.home import Home
from tests.conftest import run_agora

# A path in the landing zone and what to put there; every one of them must be rejected.
BAD_FILES: dict[str, str] = {
    "not_gzip": "qa/events/2026-10-09.jsonl.gz",
    "not_parquet": "marketing/extracts/campaigns/20261009T000000Z.parquet",
    "binary_csv": "support/extracts/agents/20261009T000000Z.csv",
    "unknown_domain": "hr/events/2026-10-01.jsonl",
    "extract_without_contract": "sales/extracts/invoices/20261001T000000Z.csv",
    "snapshot_name_not_a_timestamp": "sales/extracts/customers/latest.csv",
    "broken_symlink": "sales/events/2026-10-09.jsonl",
}


def _write_bad_files(landing: Path) -> None:
    def target(case: str) -> Path:
        path = landing / BAD_FILES[case]
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    target("not_gzip").write_bytes(b'{"specversion":"1.0"}\n' * 3)
    target("not_parquet").write_bytes(b"campaign_id,name\ncmp-1,Autumn\n")
    target("binary_csv").write_bytes(bytes(range(256)) * 8)
    target("unknown_domain").write_bytes((landing / "sales/events/2026-10-01.jsonl").read_bytes())
    target("extract_without_contract").write_text("invoice_id,amount\ninv-1,10.0\n")
    target("snapshot_name_not_a_timestamp").write_bytes(
        (landing / "sales/extracts/customers/20261001T000000Z.csv").read_bytes()
    )
    target("broken_symlink").symlink_to(landing / "sales/events/nowhere.jsonl")


@pytest.fixture(scope="module")
def bad_run(
    simulated: tuple[Home, dict], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Home, subprocess.CompletedProcess[str]]:
    """The simulated landing zone plus every kind of bad file, landed by `agora ingest --json`."""
    source, _ = simulated
    home = Home(tmp_path_factory.mktemp("errors") / "home").ensure()
    shutil.copytree(source.landing, home.landing)
    _write_bad_files(home.landing)
    return home, run_agora(home, "ingest", "--json")


def _query(home: Home, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(home.warehouse, read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _report(run: subprocess.CompletedProcess[str]) -> dict:
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.mark.integration
def test_ingest_with_bad_files_exits_zero_without_traceback(
    bad_run: tuple[Home, subprocess.CompletedProcess[str]],
) -> None:
    _, run = bad_run
    result = (run.returncode, "Traceback" in run.stderr)
    assert result == (0, False), run.stderr


@pytest.mark.integration
@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_ingest_rejected_file_recorded_with_reason_naming_it(
    bad_run: tuple[Home, subprocess.CompletedProcess[str]], case: str
) -> None:
    home, _ = bad_run
    rel = BAD_FILES[case]
    rows = _query(home, "SELECT path, reason FROM ops.rejected_files WHERE path = ?", [rel])
    result = [(path, rel in reason) for path, reason in rows]
    expected = [(rel, True)]
    assert result == expected, rows


@pytest.mark.integration
@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_ingest_json_lists_rejected_file(bad_run: tuple[Home, subprocess.CompletedProcess[str]], case: str) -> None:
    _, run = bad_run
    rel = BAD_FILES[case]
    listed = [f for f in _report(run)["files"] if f["path"] == rel]
    result = [(f["status"], rel in (f["detail"] or "")) for f in listed]
    expected = [("rejected", True)]
    assert result == expected, listed


@pytest.mark.integration
def test_ingest_rejects_exactly_the_bad_files(bad_run: tuple[Home, subprocess.CompletedProcess[str]]) -> None:
    home, run = bad_run
    result = (
        sorted(path for (path,) in _query(home, "SELECT path FROM ops.rejected_files")),
        _report(run)["totals"]["rejected_files"],
    )
    expected = (sorted(BAD_FILES.values()), len(BAD_FILES))
    assert result == expected


@pytest.mark.integration
def test_ingest_good_files_land_beside_rejected_ones(
    bad_run: tuple[Home, subprocess.CompletedProcess[str]], simulated: tuple[Home, dict]
) -> None:
    home, _ = bad_run
    _, manifest = simulated
    result = {
        path: (status, loaded, quarantined)
        for path, status, loaded, quarantined in _query(home, "SELECT path, status, loaded, quarantined FROM ops.files")
    }
    expected = {
        path: (
            "blocked" if (e["drift"] or {}).get("kind") == "breaking" else "landed",
            e["expected"]["loaded"],
            e["expected"]["quarantined"],
        )
        for path, e in manifest["files"].items()
    }
    assert result == expected


@pytest.mark.integration
def test_ingest_json_totals_count_only_good_files(
    bad_run: tuple[Home, subprocess.CompletedProcess[str]], simulated: tuple[Home, dict]
) -> None:
    _, run = bad_run
    _, manifest = simulated
    totals = _report(run)["totals"]
    result = (totals["files"], totals["loaded"])
    expected = (
        len(manifest["files"]),
        sum(e["expected"]["loaded"] for e in manifest["files"].values()),
    )
    assert result == expected


@pytest.fixture(scope="module")
def no_landing(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    home = Home(tmp_path_factory.mktemp("empty") / "home").ensure()
    return run_agora(home, "ingest")


@pytest.mark.integration
def test_ingest_missing_landing_exits_non_zero(no_landing: subprocess.CompletedProcess[str]) -> None:
    assert no_landing.returncode != 0


@pytest.mark.integration
def test_ingest_missing_landing_prints_one_error_line(no_landing: subprocess.CompletedProcess[str]) -> None:
    lines = no_landing.stderr.splitlines()
    result = (len(lines), lines[0].startswith("agora: error: ") if lines else False)
    assert result == (1, True), no_landing.stderr


@pytest.mark.integration
def test_ingest_missing_landing_shows_no_traceback(no_landing: subprocess.CompletedProcess[str]) -> None:
    result = "Traceback" in no_landing.stderr + no_landing.stdout
    assert result is False
