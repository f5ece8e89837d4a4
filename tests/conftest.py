"""Shared fixtures: simulated homes in tmp_path, content checksums, the CLI as a subprocess.

Nothing here touches the developer's .agora/: every home lives under pytest's tmp_path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.home import Home
from pipelines.ingest import ingest
from pipelines.simulator import SimulationConfig, simulate
from pipelines.warehouse import content_checksum

REPO = Path(__file__).resolve().parent.parent
AGORA = [sys.executable, "-m", "pipelines.cli"]

# Headless Chromium as the browser tests run it: offline (no sync, updates or background
# fetches), so a page that renders proves it needs nothing from the network.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str | None:
    """The Chromium binary (Debian names it `chromium`, others `chromium-browser`), None if absent."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


# Small but dirty: every kind of dirt shows up, the drift day included, in about a second.
SMALL = SimulationConfig(days=8, scale=0.5, seed=11, start=date(2026, 10, 1), dirt=4.0)


def make_home(root: Path) -> Home:
    return Home(root).ensure()


def simulate_into(home: Home, config: SimulationConfig = SMALL) -> dict:
    return simulate(home.landing, home.manifest, config)


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return make_home(tmp_path / "home")


@pytest.fixture(scope="session")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Home, dict]:
    """A simulated landing zone (not yet ingested) to copy from; never modify it."""
    home = make_home(tmp_path_factory.mktemp("simulated") / "home")
    return home, simulate_into(home)


@pytest.fixture(scope="session")
def landed(simulated: tuple[Home, dict], tmp_path_factory: pytest.TempPathFactory) -> tuple[Home, dict]:
    """The simulated landing zone, ingested once; read-only for tests."""
    source, manifest = simulated
    home = make_home(tmp_path_factory.mktemp("landed") / "home")
    shutil.copytree(source.landing, home.landing)
    ingest(home)
    return home, manifest


@pytest.fixture
def copy_of(tmp_path: Path) -> Callable[[Home], Home]:
    """A fresh home holding a copy of another home's landing zone (no warehouse)."""
    counter = iter(range(1000))

    def copy(source: Home) -> Home:
        home = make_home(tmp_path / f"copy{next(counter)}")
        shutil.copytree(source.landing, home.landing)
        return home

    return copy


def raw_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema LIKE 'raw_%' AND table_type = 'BASE TABLE' ORDER BY 1, 2"
    ).fetchall()


def warehouse_state(home: Home) -> dict[str, object]:
    """What the warehouse holds, independent of file names, batch ids and load times:
    a content checksum per raw table, the quarantine as a multiset of (reason, detail, raw),
    and the total per-file counts."""
    con = duckdb.connect(home.warehouse, read_only=True)
    try:
        state: dict[str, object] = {f"{s}.{t}": content_checksum(con, s, t) for s, t in raw_tables(con)}
        state["quarantine.events"] = con.execute(
            "SELECT count(*), coalesce(sum(hash(domain, reason, detail, raw)), 0)::HUGEINT FROM quarantine.events"
        ).fetchone()
        state["quarantine.extract_rows"] = con.execute(
            "SELECT count(*), coalesce(sum(hash(dataset, snapshot_at, row_no, raw, reason, detail)), 0)::HUGEINT "
            "FROM quarantine.extract_rows"
        ).fetchone()
        state["ops.schema_changes"] = con.execute(
            "SELECT list(DISTINCT dataset || ':' || change || ':' || array_to_string(columns, ',') "
            "ORDER BY dataset || ':' || change || ':' || array_to_string(columns, ',')) "
            "FROM ops.schema_changes"
        ).fetchone()
    finally:
        con.close()
    return state


def run_agora(
    home: Home | None, *args: str, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real `agora` command line, as a user would run it."""
    command = [*AGORA, *(["--home", str(home.root)] if home else []), *args]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Make `xdist_group` marks hold under `make test` (`-n 2 --dist loadgroup`).

    pytest-xdist 3.8 groups a test by appending `@<group>` to `item._nodeid`, which pytest 9 no
    longer reads (the node id lives in `item._id`), so grouped tests were spread over workers and
    every worker built its own copy of an expensive module fixture. Do the renaming where pytest
    reads it; a no-op without xdist or once xdist does it itself.
    """
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import coerce_node_id

    for item in items:
        marks = item.iter_markers("xdist_group")
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in marks})
        suffix = "@" + "_".join(names)
        if names and not item.nodeid.endswith(suffix):
            item._id = coerce_node_id(item.nodeid + suffix)  # type: ignore[attr-defined]
