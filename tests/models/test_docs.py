"""`agora docs` builds dbt docs a person can browse: lineage with owners and consumers."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from pipelines.docs import build_docs, serve
from pipelines.home import REPO_ROOT, Home
from tests.conftest import CHROMIUM_FLAGS, chromium

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ARTIFACTS = REPO_ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def docs(built: tuple[Home, dict]) -> Path:
    home, _ = built
    return build_docs(home)


def test_docs_manifest_holds_groups_owners_exposures_and_contracts(docs: Path) -> None:
    manifest = json.loads((docs / "manifest.json").read_text())

    assert {g["name"] for g in manifest["groups"].values()} >= {"sales", "finance", "analytics"}
    assert all(g["owner"].get("email") for g in manifest["groups"].values())
    assert "exposure.agora.executive_dashboard" in manifest["exposures"]
    contracts = [
        n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["config"]["contract"]["enforced"]
    ]
    assert len(contracts) >= 5


def test_docs_catalog_describes_the_built_tables(docs: Path) -> None:
    catalog = json.loads((docs / "catalog.json").read_text())

    assert any(key.endswith(".order_to_cash") for key in catalog["nodes"])


def _chromium() -> str:
    path = chromium()
    assert path, "Chromium is needed for this test (`make test` installs Debian's chromium)"
    return path


def test_docs_exposure_page_renders_in_a_browser(docs: Path, tmp_path: Path) -> None:
    server = serve(docs, 0)
    url = f"http://127.0.0.1:{server.server_address[1]}/#!/exposure/exposure.agora.executive_dashboard"
    try:
        flags = [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000"]
        dom = subprocess.run(
            [_chromium(), *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120
        ).stdout
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "dbt-docs-exposure.png"
        subprocess.run(
            [_chromium(), *flags, f"--screenshot={shot}", "--window-size=1400,1000", url],
            capture_output=True,
            timeout=120,
        )
    finally:
        server.shutdown()

    assert "executive_dashboard" in dom or "Executive dashboard" in dom
    assert "order_to_cash" in dom
    assert shot.exists() and shot.stat().st_size > 10_000
