"""A small simulated home, landed and built with dbt once per session (real dbt, real DuckDB)."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from pipelines.home import Home
from pipelines.ingest import ingest
from pipelines.simulator import SimulationConfig, simulate
from pipelines.transform import dbt_target, run_dbt

BUILD_CONFIG = SimulationConfig(days=12, scale=0.5, seed=5, start=date(2026, 10, 1), dirt=1.0)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Home, dict]:
    """(home, manifest) after simulate → ingest → dbt build."""
    home = Home(tmp_path_factory.mktemp("built") / "home").ensure()
    simulate(home.landing, home.manifest, BUILD_CONFIG)
    ingest(home)
    run_dbt(home, "build")
    manifest = json.loads((dbt_target(home) / "manifest.json").read_text())
    return home, manifest


def copy_home(source: Home, target: Path) -> Home:
    shutil.copytree(source.root, target)
    return Home(target)
