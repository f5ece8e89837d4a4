"""The `agora` command line as scripts use it (DESIGN.md, "Command line"): a real subprocess each time."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from pipelines.contracts import DOMAINS
from pipelines.home import Home
from tests.conftest import AGORA, make_home, run_agora

pytestmark = pytest.mark.integration

TINY = ("--days", "3", "--scale", "0.3")
COUNTS = ("files", "records", "loaded", "duplicates", "quarantined")


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _ops_files(home: Home) -> tuple[int, ...]:
    con = duckdb.connect(home.warehouse, read_only=True)
    try:
        row = con.execute(
            "SELECT count(*), sum(records), sum(loaded), sum(duplicates), sum(quarantined) FROM ops.files"
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return tuple(int(v) for v in row)


@pytest.fixture(scope="module")
def ingest_json(simulated: tuple[Home, dict], tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    """`agora ingest --json` on a copy of the simulated landing zone: (parsed output, manifest)."""
    source, manifest = simulated
    home = make_home(tmp_path_factory.mktemp("cli_ingest") / "home")
    subprocess.run(["cp", "-r", str(source.landing), str(home.landing)], check=True)
    result = run_agora(home, "ingest", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), manifest


def _expected(manifest: dict, domain: str | None = None) -> dict[str, int]:
    files = [f for f in manifest["files"].values() if domain is None or f["domain"] == domain]
    return {
        "files": len(files),
        "records": sum(f["records"] for f in files),
        "loaded": sum(f["expected"]["loaded"] for f in files),
        "duplicates": sum(f["expected"]["duplicates"] for f in files),
        "quarantined": sum(f["expected"]["quarantined"] for f in files),
    }


def test_cli_help_lists_the_commands() -> None:
    result = run_agora(None, "--help")

    commands = result.stdout.split("Commands:", 1)[1].split()
    assert result.returncode == 0
    assert {"simulate", "ingest", "demo"} <= set(commands)


def test_cli_catalog_help_lists_the_commands_imported_on_demand() -> None:
    result = run_agora(None, "catalog", "--help")

    commands = {line.split()[0] for line in result.stdout.split("Commands:", 1)[1].splitlines() if line.strip()}
    assert result.returncode == 0
    assert {"diff", "report", "hidden", "refresh"} <= commands


def test_cli_start_imports_neither_catalog_report_nor_diff_nor_rich() -> None:
    """Every `agora` start pays for what the CLI module imports; these are for two commands."""
    code = "import sys, pipelines.cli; print(sorted(m for m in ('catalog.report', 'catalog.diff', 'rich') if m in sys.modules))"
    result = subprocess.run([*AGORA[:1], "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "[]"


def test_cli_simulate_same_seed_same_manifest(tmp_path: Path) -> None:
    first, second = make_home(tmp_path / "a"), make_home(tmp_path / "b")

    results = [run_agora(h, "simulate", *TINY, "--seed", "5", "--json") for h in (first, second)]

    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    assert json.loads(results[0].stdout) == json.loads(results[1].stdout)
    assert first.manifest.read_bytes() == second.manifest.read_bytes()


def test_cli_simulate_same_seed_byte_identical_files(tmp_path: Path) -> None:
    first, second = make_home(tmp_path / "a"), make_home(tmp_path / "b")

    for h in (first, second):
        assert run_agora(h, "simulate", *TINY, "--seed", "5", "--json").returncode == 0

    result, expected = _tree(first.landing), _tree(second.landing)
    assert len(result) > 0
    assert result == expected


def test_cli_simulate_other_seed_other_files(tmp_path: Path) -> None:
    first, second = make_home(tmp_path / "a"), make_home(tmp_path / "b")

    for h, seed in ((first, "5"), (second, "6")):
        assert run_agora(h, "simulate", *TINY, "--seed", seed, "--json").returncode == 0

    assert _tree(first.landing) != _tree(second.landing)


def test_cli_ingest_json_totals_keys(ingest_json: tuple[dict, dict]) -> None:
    output, _ = ingest_json

    assert set(COUNTS) <= set(output["totals"])


def test_cli_ingest_json_counts_every_domain(ingest_json: tuple[dict, dict]) -> None:
    output, _ = ingest_json

    assert sorted(output["by_domain"]) == sorted(DOMAINS)
    assert all(set(row) == set(COUNTS) for row in output["by_domain"].values())


def test_cli_ingest_json_totals_are_the_sum_over_domains(ingest_json: tuple[dict, dict]) -> None:
    output, _ = ingest_json

    result = {key: sum(row[key] for row in output["by_domain"].values()) for key in COUNTS}

    assert result == {key: output["totals"][key] for key in COUNTS}


def test_cli_ingest_json_totals_match_the_ground_truth(ingest_json: tuple[dict, dict]) -> None:
    output, manifest = ingest_json

    result = {key: output["totals"][key] for key in COUNTS}

    assert result == _expected(manifest)


def test_cli_ingest_json_domains_match_the_ground_truth(ingest_json: tuple[dict, dict]) -> None:
    output, manifest = ingest_json

    assert output["by_domain"] == {d: _expected(manifest, d) for d in sorted(DOMAINS)}


def test_cli_home_from_agora_home_env(tmp_path: Path) -> None:
    chosen = tmp_path / "from_env"
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()

    result = subprocess.run(
        [*AGORA, "simulate", *TINY, "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=elsewhere,
        env={**os.environ, "AGORA_HOME": str(chosen)},
    )

    assert result.returncode == 0, result.stderr
    assert (chosen / "simulation" / "manifest.json").is_file()
    assert not (elsewhere / ".agora").exists()


def test_cli_home_option_beats_agora_home_env(tmp_path: Path) -> None:
    from_env, from_option = tmp_path / "from_env", make_home(tmp_path / "from_option")

    result = run_agora(from_option, "simulate", *TINY, "--json", env={"AGORA_HOME": str(from_env)})

    assert result.returncode == 0, result.stderr
    assert from_option.manifest.is_file()
    assert not from_env.exists()


def test_cli_demo_prints_the_warehouse_path(tmp_path: Path) -> None:
    home = Home(tmp_path / "demo")

    result = run_agora(home, "demo", *TINY)

    printed = [line.split(None, 1) for line in result.stdout.splitlines() if line.startswith("warehouse:")]
    assert result.returncode == 0, result.stderr
    assert printed == [["warehouse:", home.warehouse]], result.stdout
    assert Path(home.warehouse).is_file()


def test_cli_demo_twice_resets_its_own_home(tmp_path: Path) -> None:
    home = Home(tmp_path / "demo")
    first = run_agora(home, "demo", *TINY)
    landed_once = _ops_files(home)

    second = run_agora(home, "demo", *TINY)

    assert (first.returncode, second.returncode) == (0, 0), second.stderr
    assert _ops_files(home) == landed_once


def test_cli_demo_refuses_a_folder_it_did_not_create(tmp_path: Path) -> None:
    home = Home(tmp_path / "mine")
    home.root.mkdir()
    (home.root / "thesis.txt").write_text("do not delete")

    result = run_agora(home, "demo", *TINY)

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"agora: error: {home.root} is not empty and not an Agora home; pick another --home"
    ]
    assert sorted(p.name for p in home.root.iterdir()) == ["thesis.txt"]
    assert (home.root / "thesis.txt").read_text() == "do not delete"


def test_cli_ingest_without_landing_zone_is_one_line(tmp_path: Path, copy_of: Callable[[Home], Home]) -> None:
    home = make_home(tmp_path / "empty")

    result = run_agora(home, "ingest")

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"agora: error: no landing zone at {home.landing} — run `agora simulate` or drop files there first"
    ]
